#!/usr/bin/env bash
# What sharding a stateful pipeline costs: Pipelines/video-depth.json (depth.estimate, then
# depth.align, which needs a finalize step) run once, then as N shards and a finalize step,
# all on this machine one after the other. Prints Markdown rows for BENCHMARKS.md: the one
# run's time, the slowest shard (what a batch job waits for when the shards run at once),
# the finalize step, the records' size, and whether the files are byte-identical.
#
#   bash Benchmarks/shard.sh                 (SHARDS=3, CHUNK=10)
#
# Inputs: the committed 360° walk-through, and the real 360° stereo clip of
# ../shared/devdata/video360 when it exists (its left eye, 1920x960, FRAMES frames).
set -euo pipefail
unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE
cd "$(dirname "$0")/.."
SHARDS=${SHARDS:-3}
CHUNK=${CHUNK:-10}
FRAMES=${FRAMES:-60}
work=Benchmarks/work/shard
swift build -c release --product strata >/dev/null
bin=$(swift build -c release --show-bin-path)

seconds() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null 2>&1; t1=$(date +%s.%N); python3 -c "print(f'{$t1-$t0:.2f}')"; }

bench() {
    local name=$1 clip=$2 frames=$3
    rm -rf "$work" && mkdir -p "$work"
    local common=(--input "video=$clip" --frames "$frames" --progress none)
    local one; one=$(seconds "$bin/strata" run Pipelines/video-depth.json --output-dir "$work/one" "${common[@]}")
    local slowest=0 t
    for i in $(seq 0 $((SHARDS - 1))); do
        t=$(seconds "$bin/strata" run Pipelines/video-depth.json --output-dir "$work/sharded" "${common[@]}" \
            --shard "$i/$SHARDS" --shard-chunk "$CHUNK")
        slowest=$(python3 -c "print(max($slowest, $t))")
    done
    local finalize; finalize=$(seconds "$bin/strata" run Pipelines/video-depth.json --output-dir "$work/sharded" "${common[@]}" --finalize)
    local records; records=$(du -sm "$work/sharded/.strata-records" | cut -f1)
    local same=differ
    diff -rq --exclude=.strata-records "$work/one" "$work/sharded" >/dev/null && same=identical
    echo "| $name | $one s | $slowest s | $finalize s | $(python3 -c "print(f'{($slowest + $finalize) / $one:.2f}×')") | $records MB | $same |"
}

echo "| input | one run | slowest of $SHARDS shards | finalize | (shard + finalize) / one run | records | files |"
echo "|---|---|---|---|---|---|---|"
bench "walk-through 512×256, 36 frames" samples/walk360/color.mp4 0-35
real=../shared/devdata/video360/congo_tb_stereo.mp4
if [ -f "$real" ]; then
    bench "real 360° stereo, left eye 1920×960, $FRAMES frames" "$real" "0-$((FRAMES - 1))"
else
    echo "(skipped the real clip: $real is not here)" >&2
fi
