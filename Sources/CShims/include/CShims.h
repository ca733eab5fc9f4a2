#ifndef ENTROPYINFER_CSHIMS_H
#define ENTROPYINFER_CSHIMS_H
// Wrappers for what Swift cannot call directly: C variadics and function-like macros of
// libmicrohttpd and jansson, and OpenBLAS's core-type query. No logic lives here.
#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <microhttpd.h>
#include <jansson.h>

/// The name of the kernel set OpenBLAS chose at load time (e.g. "Prescott", "Cooperlake").
const char *shim_openblas_corename(void);
/// Sets OpenBLAS's own thread count (we call it from inside our pool, so normally 1).
void shim_openblas_set_threads(int count);

// MARK: - libmicrohttpd

/// Receives libmicrohttpd's own log lines (formatted, without the trailing newline).
typedef void (*shim_log_callback)(void *context, const char *message);

/// Starts a daemon bound to `address` (a sockaddr_in or sockaddr_in6; MHD_USE_IPv6 must be in
/// `flags` for IPv6). `MHD_start_daemon` is C-variadic, so the options go through
/// MHD_OPTION_ARRAY here. MHD's error messages (MHD_USE_ERROR_LOG) go to `log` with
/// `log_context`; the callback must be the same for every daemon of the process. Returns NULL
/// when the daemon cannot start.
struct MHD_Daemon *shim_mhd_start(unsigned int flags, const struct sockaddr *address,
                                  MHD_AccessHandlerCallback handler, void *handler_context,
                                  MHD_RequestCompletedCallback completed, void *completed_context,
                                  shim_log_callback log, void *log_context,
                                  unsigned int connection_timeout_seconds, unsigned int connection_limit,
                                  size_t thread_stack_bytes, size_t connection_memory_bytes);

/// The port the daemon listens on (useful after starting on port 0); 0 when unknown.
uint16_t shim_mhd_bound_port(struct MHD_Daemon *daemon);

/// Connections the daemon currently holds open.
unsigned int shim_mhd_current_connections(struct MHD_Daemon *daemon);

/// The socket of a connection, or -1.
int shim_mhd_connection_fd(struct MHD_Connection *connection);

/// 1 when the peer of `fd` has closed or reset its side (poll POLLRDHUP/POLLHUP/POLLERR
/// without waiting), 0 otherwise.
int shim_socket_peer_closed(int fd);

// MARK: - jansson

/// `json_typeof` is a macro.
static inline int shim_json_type(const json_t *value) { return (int)json_typeof(value); }
/// `json_error_code` reads the code jansson stores in the last byte of the error text.
static inline int shim_json_error_code(const json_error_t *error) { return (int)json_error_code(error); }

#endif
