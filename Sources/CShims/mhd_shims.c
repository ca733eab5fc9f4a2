#define _GNU_SOURCE
#include "CShims.h"
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static shim_log_callback mhd_log_callback = NULL;

/* MHD_OPTION_EXTERNAL_LOGGER hands over a printf format and a va_list, which Swift cannot take. */
static void shim_mhd_log(void *context, const char *format, va_list arguments) {
    char message[1024];
    vsnprintf(message, sizeof message, format, arguments);
    size_t length = strlen(message);
    while (length > 0 && (message[length - 1] == '\n' || message[length - 1] == '\r')) message[--length] = 0;
    if (mhd_log_callback != NULL) mhd_log_callback(context, message);
}

struct MHD_Daemon *shim_mhd_start(unsigned int flags, const struct sockaddr *address,
                                  MHD_AccessHandlerCallback handler, void *handler_context,
                                  MHD_RequestCompletedCallback completed, void *completed_context,
                                  shim_log_callback log, void *log_context,
                                  unsigned int connection_timeout_seconds, unsigned int connection_limit,
                                  size_t thread_stack_bytes, size_t connection_memory_bytes) {
    mhd_log_callback = log;
    struct MHD_OptionItem options[] = {
        { MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)shim_mhd_log, log_context },
        { MHD_OPTION_SOCK_ADDR, 0, (void *)address },
        { MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)completed, completed_context },
        { MHD_OPTION_CONNECTION_TIMEOUT, (intptr_t)connection_timeout_seconds, NULL },
        { MHD_OPTION_CONNECTION_LIMIT, (intptr_t)connection_limit, NULL },
        { MHD_OPTION_THREAD_STACK_SIZE, (intptr_t)thread_stack_bytes, NULL },
        { MHD_OPTION_CONNECTION_MEMORY_LIMIT, (intptr_t)connection_memory_bytes, NULL },
        { MHD_OPTION_END, 0, NULL },
    };
    // The port argument is ignored when MHD_OPTION_SOCK_ADDR is given.
    return MHD_start_daemon(flags, 0, NULL, NULL, handler, handler_context,
                            MHD_OPTION_ARRAY, options, MHD_OPTION_END);
}

uint16_t shim_mhd_bound_port(struct MHD_Daemon *daemon) {
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_BIND_PORT);
    return info == NULL ? 0 : info->port;
}

unsigned int shim_mhd_current_connections(struct MHD_Daemon *daemon) {
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
    return info == NULL ? 0 : info->num_connections;
}

int shim_mhd_connection_fd(struct MHD_Connection *connection) {
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
    return info == NULL ? -1 : info->connect_fd;
}

int shim_socket_peer_closed(int fd) {
    if (fd < 0) return 0;
    struct pollfd entry = { .fd = fd, .events = POLLRDHUP, .revents = 0 };
    if (poll(&entry, 1, 0) <= 0) return 0;
    return (entry.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}
