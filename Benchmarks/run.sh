#!/usr/bin/env bash
# Side-by-side benchmarks of Strata's media I/O against its peers, in one run on the same
# inputs. Prints a Markdown table to paste into BENCHMARKS.md.
#
#   bash Benchmarks/run.sh            (needs ffmpeg and gcc: apt-get install ffmpeg gcc)
#
# Timings are wall-clock seconds, best of $RUNS runs, the two sides alternating.
# OPENBLAS_* variables are unset so the machine runs as a user's would.
set -euo pipefail
unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
FRAMES=${FRAMES:-300}
LEVEL=${LEVEL:-6}
work=Benchmarks/work
mkdir -p "$work"

swift build -c release --product strata >/dev/null
swift build -c release --product strata-bench >/dev/null
bin=$(swift build -c release --show-bin-path)
cc -O2 -o "$work/png_c_loop" Benchmarks/png_c_loop.c -lpng

# Inputs: a 1080p H.264 clip and a 4K RGB still, both test patterns with film-like grain so
# PNG has real work to do.
clip="$work/clip1080p.mp4"
[ -f "$clip" ] || ffmpeg -v error -f lavfi -i "testsrc2=size=1920x1080:rate=30,noise=alls=6:allf=t" \
    -frames:v "$FRAMES" -c:v libx264 -preset veryfast -crf 18 -pix_fmt yuv420p "$clip"
still="$work/still4k.png"
[ -f "$still" ] || ffmpeg -v error -f lavfi -i "testsrc2=size=3840x2160,noise=alls=6:allf=t" -frames:v 1 "$still"

# Runs two commands RUNS times each, alternating (A, B, A, B, …) so that drift in the
# machine's speed hits both alike; sets best_a, best_b (seconds) and kb_a, kb_b (output size).
pair() {
    local a="$1" b="$2" t0 t1 t
    best_a=""; best_b=""
    for _ in $(seq "$RUNS"); do
        for side in a b; do
            rm -rf "$work/out" && mkdir -p "$work/out"
            local cmd; [ "$side" = a ] && cmd="$a" || cmd="$b"
            t0=$(date +%s.%N); eval "$cmd" >/dev/null 2>&1; t1=$(date +%s.%N)
            t=$(python3 -c "print($t1-$t0)")
            if [ "$side" = a ]; then
                best_a=$(python3 -c "b='$best_a'; print($t if not b else min($t, float(b)))"); kb_a=$(du -sk "$work/out" | cut -f1)
            else
                best_b=$(python3 -c "b='$best_b'; print($t if not b else min($t, float(b)))"); kb_b=$(du -sk "$work/out" | cut -f1)
            fi
        done
    done
    best_a=$(printf '%.2f' "$best_a"); best_b=$(printf '%.2f' "$best_b")
}

pair "ffmpeg -v error -i '$clip' -compression_level $LEVEL '$work/out/%05d.png'" \
     "'$bin/strata' convert '$clip' '$work/out/%05d.png' --compression-level $LEVEL"
ffmpeg_s=$best_a; ffmpeg_kb=$kb_a; strata_s=$best_b; strata_kb=$kb_b
pair "ffmpeg -v error -i '$clip' -compression_level $LEVEL -pred mixed '$work/out/%05d.png'" \
     "'$bin/strata' convert '$clip' '$work/out/%05d.png' --compression-level $LEVEL --png-filter adaptive"
ffmpeg_mixed_s=$best_a; ffmpeg_mixed_kb=$kb_a; strata_adaptive_s=$best_b; strata_adaptive_kb=$kb_b

c_json=$("$work/png_c_loop" "$still" 5 "$LEVEL")
s_json=$("$bin/strata-bench" png "$still" 5 "$LEVEL" adaptive)
field() { python3 -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$1" "$2"; }

ratio() { python3 -c "print(f'{$1/$2:.2f}×')"; }
echo "| benchmark | peer | Strata | ratio (Strata / peer) |"
echo "|---|---|---|---|"
echo "| $FRAMES×1080p H.264 → PNG, level $LEVEL, defaults (no row filter) | ffmpeg $ffmpeg_s s (${ffmpeg_kb} KB) | $strata_s s (${strata_kb} KB) | $(ratio "$strata_s" "$ffmpeg_s") |"
echo "| $FRAMES×1080p H.264 → PNG, level $LEVEL, adaptive row filter (ffmpeg -pred mixed) | ffmpeg $ffmpeg_mixed_s s (${ffmpeg_mixed_kb} KB) | $strata_adaptive_s s (${strata_adaptive_kb} KB) | $(ratio "$strata_adaptive_s" "$ffmpeg_mixed_s") |"
echo "| 4K RGB PNG decode | C loop over libpng $(field "$c_json" decode_ms) ms | $(field "$s_json" decode_ms) ms | $(ratio "$(field "$s_json" decode_ms)" "$(field "$c_json" decode_ms)") |"
echo "| 4K RGB PNG encode, level $LEVEL | C loop over libpng $(field "$c_json" encode_ms) ms | $(field "$s_json" encode_ms) ms | $(ratio "$(field "$s_json" encode_ms)" "$(field "$c_json" encode_ms)") |"
