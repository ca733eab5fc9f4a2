#include "CShims.h"
#include <cblas.h>

const char *shim_openblas_corename(void) { return openblas_get_corename(); }
void shim_openblas_set_threads(int count) { openblas_set_num_threads(count); }
