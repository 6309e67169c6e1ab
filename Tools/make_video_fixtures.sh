#!/usr/bin/env bash
# Writes Tests/StrataIOTests/Fixtures/video/: two small H.264 clips made by the ffmpeg
# command line (one untagged, one tagged BT.709 limited range) and the frames that
# `ffmpeg -i clip.mp4 %02d.png` decodes from them. Strata's decoder must match those
# frames exactly.
#
#   bash Tools/make_video_fixtures.sh      (needs ffmpeg: apt-get install ffmpeg)
set -euo pipefail
cd "$(dirname "$0")/.."
out=Tests/StrataIOTests/Fixtures/video
rm -rf "$out" && mkdir -p "$out"
ffmpeg -v error -f lavfi -i "testsrc2=size=96x64:rate=10" -frames:v 6 -c:v libx264 -pix_fmt yuv420p \
    -g 3 "$out/untagged.mp4"
ffmpeg -v error -f lavfi -i "testsrc2=size=96x64:rate=10" -frames:v 6 -c:v libx264 -pix_fmt yuv420p \
    -g 3 -vf "scale=out_color_matrix=bt709:out_range=tv" -colorspace bt709 -color_primaries bt709 \
    -color_trc bt709 -color_range tv "$out/bt709.mp4"
for clip in untagged bt709; do
    ffmpeg -v error -i "$out/$clip.mp4" "$out/$clip-%02d.png"
done
ls -la "$out"
