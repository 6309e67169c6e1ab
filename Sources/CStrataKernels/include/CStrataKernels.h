// What Swift cannot say itself, for Strata's hot loops: inline, so a call costs one
// instruction.
#pragma once

/// Asks the cache for the line holding `address`, to be read soon (no fault if invalid).
static inline void strata_prefetch(const void *address) { __builtin_prefetch(address, 0, 3); }
