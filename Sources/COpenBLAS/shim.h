// The one place Occam binds BLAS and LAPACK: OpenBLAS's cblas.h (with its openblas_* controls) and LAPACKE.
#include <cblas.h>
#include <lapacke.h>
