#!/usr/bin/env bash
# Strata's GEMM (strata_gemm) against OpenBLAS at the shapes the engine runs, in one run:
# each shape on one and two threads, Strata on every instruction set the CPU has, OpenBLAS
# on the kernel it picks for this CPU and forced (OPENBLAS_CORETYPE, in this command only)
# to its Haswell (AVX2), SkylakeX and Cooperlake (AVX-512) kernels and to Prescott (SSE3:
# what Debian's 0.3.21 falls back to on a CPU model it does not know). GFLOP/s, best of
# $REPEATS after a warm-up, and the machine's peak (register FMAs on every thread).
# Prints Markdown rows for BENCHMARKS.md.
#
#   bash Benchmarks/gemm.sh        (THREADS_LIST="1 2" by default)
set -euo pipefail
unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE
cd "$(dirname "$0")/.."
export REPEATS=${REPEATS:-10}
swift build -c release --product strata-bench >/dev/null
bin=$(swift build -c release --show-bin-path)/strata-bench
# Depth Anything V2 Small at 518² (1370 tokens of 384, 6 heads of 64, MLP 1536): QKV,
# QKᵀ and AV of one block of 32 queries and of a whole head, projection, MLP in and out;
# MiDaS-like 1×1 convolutions (output channels × pixels × input channels); a square one.
shapes=("1370 1152 384" "32 1370 64" "32 64 1370" "1370 1370 64 0 1" "1370 64 1370" "1370 384 384" "1370 1536 384"
        "1370 384 1536" "64 4096 576" "32 16384 64" "256 1024 256" "2048 2048 2048")
printf '| M×N×K (tA tB) | threads | Strata avx512 | Strata avx2 | Strata generic | OpenBLAS own (%s) | Haswell | SkylakeX | Cooperlake | Prescott | peak | Strata best / OpenBLAS best | Strata / peak |\n' \
    "$(python3 -c 'import ctypes; l=ctypes.CDLL("libopenblas.so.0"); l.openblas_get_corename.restype=ctypes.c_char_p; print(l.openblas_get_corename().decode())')"
echo '|---|---|---|---|---|---|---|---|---|---|---|---|---|'
for threads in ${THREADS_LIST:-1 2}; do
    for shape in "${shapes[@]}"; do
        rows=("$(THREADS=$threads "$bin" gemm $shape)")
        for core in Haswell SkylakeX Cooperlake Prescott; do
            rows+=("$(OPENBLAS_CORETYPE=$core THREADS=$threads "$bin" gemm $shape)")
        done
        python3 - "${rows[@]}" <<'PY'
import json, sys
own, *forced = [json.loads(a) for a in sys.argv[1:]]
get = lambda r, k: r.get(k, float("nan"))
ours = {isa: get(own, f"strata_{isa}_gflops") for isa in ("avx512", "avx2", "generic")}
blas = [own["openblas_gflops"]] + [r["openblas_gflops"] for r in forced]
best = max(v for v in ours.values() if v == v)
shape = f'{own["m"]}×{own["n"]}×{own["k"]}' + (f' ({own["ta"]} {own["tb"]})' if own["ta"] or own["tb"] else "")
print(f'| {shape} | {own["threads"]} | ' + " | ".join(f"{ours[i]:.0f}" for i in ("avx512", "avx2", "generic"))
      + " | " + " | ".join(f"{b:.0f}" for b in blas) + f' | {own["peak_gflops"]:.0f} | {best / max(blas[:-1]):.2f} | {best / own["peak_gflops"]:.2f} |')
PY
    done
done
