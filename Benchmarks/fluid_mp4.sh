#!/usr/bin/env bash
# The fluid loop's MP4 against ffmpeg encoding the same frames: strata-bench composes a
# loop's frames over a real still and encodes them (x264, CRF 20, preset medium, yuv420p),
# then dumps the same frames as raw RGB24; ffmpeg encodes those with the same settings
# (and the same RGB→YUV conversion as Strata's VideoWriter: bilinear, accurate rounding).
# Both encode with x264's own threads; the frames are on disk for ffmpeg (page cache),
# in memory for Strata.
#
#   bash Benchmarks/fluid_mp4.sh STILL.png [WIDTH HEIGHT FRAMES]
set -euo pipefail
still=${1:?a still image}
w=${2:-1920}; h=${3:-1080}; n=${4:-60}
unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
.build/release/strata-bench fluid-video "$still" "$w" "$h" "$n" "$work/strata.mp4" "$work/frames.rgb"
cat "$work/frames.rgb" > /dev/null  # in the page cache before timing
start=$(date +%s.%N)
ffmpeg -loglevel error -y -f rawvideo -pix_fmt rgb24 -s "${w}x${h}" -r 24 -i "$work/frames.rgb" \
    -sws_flags bilinear+accurate_rnd -c:v libx264 -crf 20 -preset medium -pix_fmt yuv420p "$work/ffmpeg.mp4"
end=$(date +%s.%N)
printf '{"ffmpeg_encode_s": %.3f, "strata_bytes": %d, "ffmpeg_bytes": %d}\n' "$(echo "$end - $start" | bc)" \
    "$(stat -c %s "$work/strata.mp4")" "$(stat -c %s "$work/ffmpeg.mp4")"
