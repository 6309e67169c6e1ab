// What Swift cannot say itself, for Strata's hot loops (inline, so a call costs one
// instruction) and for its memory policy.
#pragma once

/// Asks the cache for the line holding `address`, to be read soon (no fault if invalid).
static inline void strata_prefetch(const void *address) { __builtin_prefetch(address, 0, 3); }

/// Makes glibc keep freed blocks of up to 256 MiB in the heap for reuse instead of
/// returning them to the kernel (which hands them back as fresh pages to fault in and
/// zero), and keeps up to 1 GiB of freed heap before trimming it. Applied once per process,
/// whoever calls first; later calls cost one atomic load. Swift does not import mallopt's
/// parameter macros. A no-op elsewhere.
void strata_keep_freed_memory(void);
