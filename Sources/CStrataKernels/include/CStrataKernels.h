// What Swift cannot say itself, for Strata's hot loops: inline, so a call costs one
// instruction.
#pragma once

#if defined(__GLIBC__)
#include <malloc.h>
#endif

/// Asks the cache for the line holding `address`, to be read soon (no fault if invalid).
static inline void strata_prefetch(const void *address) { __builtin_prefetch(address, 0, 3); }

/// Makes glibc keep freed blocks of up to 32 MiB in the heap for reuse instead of returning
/// them to the kernel (which hands them back as fresh pages to fault in and zero). Swift
/// does not import mallopt's parameter macros. A no-op elsewhere.
static inline void strata_keep_freed_memory(void) {
#if defined(__GLIBC__)
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
}
