#!/usr/bin/env bash
# The pipeline runner's cost, in one run. Prints Markdown rows for BENCHMARKS.md.
#
#   bash Benchmarks/runner.sh          (needs ffmpeg for the clip: apt-get install ffmpeg)
#
# 1. End to end: `strata run` on a decode → PNG pipeline against `strata convert` doing the
#    same work (same bytes out), best of $RUNS, alternating.
# 2. In process: pass-through stages on 1000 small frames against the same calls made
#    directly from Swift (strata-bench runner; best of 9, alternating).
# 3. Peak memory (max RSS) of a 100-frame and a 10,000-frame run of those stages.
set -euo pipefail
unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
FRAMES=${FRAMES:-300}
work=Benchmarks/work
mkdir -p "$work"
swift build -c release --product strata >/dev/null
swift build -c release --product strata-bench >/dev/null
bin=$(swift build -c release --show-bin-path)
clip="$work/clip1080p.mp4"
[ -f "$clip" ] || ffmpeg -v error -f lavfi -i "testsrc2=size=1920x1080:rate=30,noise=alls=6:allf=t" \
    -frames:v "$FRAMES" -c:v libx264 -preset veryfast -crf 18 -pix_fmt yuv420p "$clip"

best() { python3 -c "import sys; print(f'{min(map(float, sys.argv[1:])):.2f}')" "$@"; }
convert_t=(); run_t=()
for _ in $(seq "$RUNS"); do
    rm -rf "$work/out"; mkdir -p "$work/out"
    t0=$(date +%s.%N); "$bin/strata" convert "$clip" "$work/out/%05d.png" 2>/dev/null; t1=$(date +%s.%N)
    convert_t+=("$(python3 -c "print($t1-$t0)")")
    rm -rf "$work/out"
    t0=$(date +%s.%N); "$bin/strata" run Benchmarks/video-png.json --input "video=$clip" --output-dir "$work/out" --progress none 2>/dev/null; t1=$(date +%s.%N)
    run_t+=("$(python3 -c "print($t1-$t0)")")
done
c=$(best "${convert_t[@]}"); r=$(best "${run_t[@]}")
echo "| $FRAMES×1080p H.264 → PNG: strata run (decode → image.write) vs strata convert | convert $c s | run $r s | $(python3 -c "print(f'{$r/$c:.3f}×')") |"

for size in 64 128 256; do
    for threads in 1 2; do
        j=$("$bin/strata-bench" runner 1000 "$size" "$threads")
        python3 - "$j" <<'PY'
import json, sys
j = json.loads(sys.argv[1])
print(f"| 1000 frames {j['size']}×{j['size']} RGB, source → 2 pass-through stages → sink, {j['threads']} thread(s) | direct Swift {j['direct_s']*1e3:.1f} ms | runner {j['runner_s']*1e3:.1f} ms | {j['runner_s']/j['direct_s']:.3f}× ({j['overhead_pct']:+.1f}%) |")
PY
    done
done

m100=$("$bin/strata-bench" runner-memory 100 256)
m10k=$("$bin/strata-bench" runner-memory 10000 256)
python3 - "$m100" "$m10k" <<'PY'
import json, sys
a, b = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(f"| peak memory (max RSS), 256×256 RGB frames | 100 frames {a['peak_rss_kb']/1024:.1f} MiB | 10,000 frames {b['peak_rss_kb']/1024:.1f} MiB | +{(b['peak_rss_kb']-a['peak_rss_kb'])/1024:.1f} MiB |")
PY
