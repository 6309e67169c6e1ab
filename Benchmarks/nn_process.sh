#!/usr/bin/env bash
# What a user waits for: one whole process that loads a model, runs it once on one input
# and writes the output. `strata nn run` against a Python process that imports numpy and
# onnxruntime, loads the same graph, runs it once and saves the .npy (nn_peers.py once),
# both on two threads, alternating; wall time and peak resident set by GNU time. The
# graphs are Benchmarks/nn.sh's (exported there). Prints Markdown rows for BENCHMARKS.md.
#
#   bash Benchmarks/nn.sh && bash Benchmarks/nn_process.sh
set -euo pipefail
unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-5}
THREADS=${THREADS:-2}
work=Benchmarks/work/nn
swift build -c release --product strata >/dev/null
bin=$(swift build -c release --show-bin-path)/strata
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for model in dav2_small_518 midas_small_256; do
    ours=(); peers=()
    for _ in $(seq "$ROUNDS"); do
        ours+=("$(/usr/bin/time -f '%e %M' "$bin" nn run "$work/$model.onnx" --input "$work/$model.npy" --output "$out/strata" \
            --threads "$THREADS" 2>&1 >/dev/null | tail -1)")
        peers+=("$(/usr/bin/time -f '%e %M' python3 Benchmarks/nn_peers.py once "$work/$model.onnx" "$work/$model.npy" "$out/ort.npy" \
            "$THREADS" 2>&1 >/dev/null | tail -1)")
    done
    python3 - "$model" "$ROUNDS" "${ours[@]}" "${peers[@]}" <<'PY'
import sys
model, n = sys.argv[1], int(sys.argv[2])
parse = lambda rows: [(float(r.split()[0]), int(r.split()[1]) / 1024) for r in rows]
ours, peers = parse(sys.argv[3:3 + n]), parse(sys.argv[3 + n:])
s, p = min(t for t, _ in ours), min(t for t, _ in peers)
sm, pm = max(m for _, m in ours), max(m for _, m in peers)
print(f"| {model} | Strata {s:.2f} s | onnxruntime {p:.2f} s | {s / p:.2f}× | Strata {sm:.0f} MB | onnxruntime {pm:.0f} MB | {sm / pm:.2f}× |")
PY
done
