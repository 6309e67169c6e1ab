// OpenBLAS's CBLAS interface (Debian: libopenblas-dev), for StrataNN's GEMM kernels.
#include <cblas.h>
