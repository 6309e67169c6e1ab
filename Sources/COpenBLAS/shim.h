// OpenBLAS's CBLAS interface (Debian: libopenblas-dev), for StrataNN's GEMM kernels, and
// the LAPACK routines Strata calls (OpenBLAS exports LAPACK with Fortran linkage): dposv,
// a Cholesky solve of a symmetric positive definite system, and dsposv, the same factored
// in single precision and refined to double, falling back to dposv when that does not
// converge (StrataDepth's view alignment).
#include <cblas.h>

void dposv_(const char *uplo, const int *n, const int *nrhs, double *a, const int *lda, double *b, const int *ldb, int *info);
void dsposv_(const char *uplo, const int *n, const int *nrhs, double *a, const int *lda, double *b, const int *ldb,
             double *x, const int *ldx, double *work, float *swork, int *iter, int *info);
