#pragma once

/// Multiply-adds per second one core sustains with nothing but register FMAs (12
/// independent accumulators, so latency never limits), on `isa`'s widest vectors
/// (STRATA_ISA_ values: 2 AVX-512, 1 AVX2 with FMA): the peak a GEMM's rate is measured
/// against. Runs `iterations` loop turns of 12 vector FMAs each; returns FLOP/s (2 a lane).
double strata_bench_fma_peak(int isa, long iterations);
