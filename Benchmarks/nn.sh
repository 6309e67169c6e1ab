#!/usr/bin/env bash
# StrataNN against onnxruntime, in one run: Depth Anything V2 Small at 518×518 and MiDaS
# v2.1 small at 256×256, full-size random-weight graphs exported at benchmark time (not
# committed), the same input, the same two threads. Prints Markdown rows for BENCHMARKS.md.
#
#   pip install torch onnx onnxruntime numpy && bash Benchmarks/nn.sh
#
# Latency: best of $REPEATS runs after a warm-up, best over $ROUNDS rounds, Strata and
# onnxruntime alternating. Memory: each side's peak resident set (its own process: the
# Swift binary, or Python with onnxruntime and numpy loaded).
set -euo pipefail
unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
REPEATS=${REPEATS:-5}
THREADS=${THREADS:-2}
work=Benchmarks/work/nn
python3 Benchmarks/nn_peers.py export "$work"
swift build -c release --product strata-bench >/dev/null
bin=$(swift build -c release --show-bin-path)
for model in dav2_small_518 midas_small_256; do
    ours=(); peers=()
    for _ in $(seq "$ROUNDS"); do
        ours+=("$("$bin/strata-bench" nn "$work/$model.onnx" "$work/$model.npy" "$REPEATS" "$THREADS")")
        peers+=("$(python3 Benchmarks/nn_peers.py run "$work/$model.onnx" "$work/$model.npy" "$REPEATS" "$THREADS")")
    done
    python3 - "$model" "${#ours[@]}" "${ours[@]}" "${peers[@]}" <<'PY'
import json, sys
model, n = sys.argv[1], int(sys.argv[2])
ours = [json.loads(a) for a in sys.argv[3:3 + n]]
peers = [json.loads(a) for a in sys.argv[3 + n:]]
s, p = min(r["best_ms"] for r in ours), min(r["best_ms"] for r in peers)
sm, pm = max(r["max_rss_mb"] for r in ours), max(r["max_rss_mb"] for r in peers)
act = ours[0]["activations_peak_mb"]
print(f"| {model} | Strata {s:.0f} ms | onnxruntime {p:.0f} ms | {s / p:.2f}× | Strata {sm:.0f} MB (activations {act:.0f} MB) | onnxruntime {pm:.0f} MB | {sm / pm:.2f}× |")
PY
done
