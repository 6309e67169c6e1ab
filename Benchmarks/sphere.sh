#!/usr/bin/env bash
# StrataSphere against py360convert and cv2.remap, in one run. Prints Markdown rows for
# BENCHMARKS.md.
#
#   pip install py360convert opencv-python-headless numpy && bash Benchmarks/sphere.sh
#
# Same float32 RGB panorama, same geometry, two threads each, maps cached (built before
# timing) on every side: equirect → cube (6 × W/4), cube → equirect, equirect → the 20
# icosahedral tangent patches (W/8 pixels, 89.6° each). Best of $REPEATS per round, best
# of $ROUNDS rounds, Strata and the peers alternating.
set -euo pipefail
unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
REPEATS=${REPEATS:-10}
swift build -c release --product strata-bench >/dev/null
bin=$(swift build -c release --show-bin-path)
for size in "2048 1024" "4096 2048"; do
    set -- $size
    ours=(); peers=()
    for _ in $(seq "$ROUNDS"); do
        ours+=("$("$bin/strata-bench" sphere "$1" "$2" "$REPEATS")")
        fov=$(python3 -c "import json,sys; print(json.loads(sys.argv[1])['patch_fov'])" "${ours[-1]}")
        peers+=("$(python3 Benchmarks/sphere_peers.py "$1" "$2" "$REPEATS" "$fov")")
    done
    python3 - "${#ours[@]}" "${ours[@]}" "${peers[@]}" <<'PY'
import json, sys
n = int(sys.argv[1])
ours = [json.loads(a) for a in sys.argv[2:2 + n]]
peers = [json.loads(a) for a in sys.argv[2 + n:]]
best = lambda rows, key: min(r[key] for r in rows)
w, h = ours[0]["width"], ours[0]["height"]
for op, label in [("e2c", f"equirect → cube 6×{w // 4}"), ("c2e", "cube → equirect"), ("e2patches", f"equirect → 20 tangent patches {w // 8}²")]:
    s, p, r = best(ours, f"{op}_ms"), best(peers, f"py360_{op}_ms"), best(peers, f"remap_{op}_ms")
    print(f"| {w}×{h} {label} | Strata {s:.1f} ms | py360convert {p:.1f} ms ({p / s:.1f}× Strata's time) | cv2.remap {r:.1f} ms ({r / s:.2f}×) |")
PY
done
