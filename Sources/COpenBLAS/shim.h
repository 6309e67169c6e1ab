// OpenBLAS's CBLAS interface (Debian: libopenblas-dev), for StrataNN's GEMM kernels, and
// the one LAPACK routine Strata calls (OpenBLAS exports LAPACK with Fortran linkage):
// dposv, a Cholesky solve of a symmetric positive definite system (StrataDepth's view
// alignment).
#include <cblas.h>

void dposv_(const char *uplo, const int *n, const int *nrhs, double *a, const int *lda, double *b, const int *ldb, int *info);
