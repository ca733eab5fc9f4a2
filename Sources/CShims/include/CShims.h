#ifndef ENTROPYINFER_CSHIMS_H
#define ENTROPYINFER_CSHIMS_H
// Wrappers for what Swift cannot call directly: C variadics and function-like macros of
// libmicrohttpd and jansson, and OpenBLAS's core-type query. No logic lives here.
#include <stdint.h>
#include <stddef.h>

/// The name of the kernel set OpenBLAS chose at load time (e.g. "Prescott", "Cooperlake").
const char *shim_openblas_corename(void);
/// Sets OpenBLAS's own thread count (we call it from inside our pool, so normally 1).
void shim_openblas_set_threads(int count);

#endif
