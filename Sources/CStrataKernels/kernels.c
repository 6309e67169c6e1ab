// Most kernels are inline functions in include/CStrataKernels.h; what needs state is here.
#include "CStrataKernels.h"

#include <stdatomic.h>
#include <stdbool.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

void strata_keep_freed_memory(void) {
    static atomic_bool applied = false;
    if (atomic_load_explicit(&applied, memory_order_acquire)) return;
    if (atomic_exchange(&applied, true)) return;
#if defined(__GLIBC__)
    mallopt(M_MMAP_THRESHOLD, 256 << 20);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
}
