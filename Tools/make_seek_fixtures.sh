#!/usr/bin/env bash
# Writes Tests/StrataIOTests/Fixtures/seek/: one small H.264 clip (60 frames, keyframes every
# 8, B-frames) remuxed, without re-encoding, into the containers and timestamp layouts that
# seeking must survive: MPEG-TS as ffmpeg remuxes it (starts near 1.4 s), MP4, MKV and TS
# whose timestamps start 1000 s late, a TS whose 33-bit timestamps wrap in the middle, and a
# raw Annex B stream with no timestamps or index at all. The tests compare every seek with
# the frames read in order from the start. Also a 10-bit HEVC clip, for bit depth.
#
#   bash Tools/make_seek_fixtures.sh      (needs ffmpeg with libx264: apt-get install ffmpeg)
set -euo pipefail
cd "$(dirname "$0")/.."
out=Tests/StrataIOTests/Fixtures/seek
rm -rf "$out" && mkdir -p "$out"
base=$(mktemp -d)/base.mp4
ffmpeg -v error -f lavfi -i "testsrc2=size=64x48:rate=10" -frames:v 60 -c:v libx264 -pix_fmt yuv420p \
    -g 8 -keyint_min 8 -bf 2 "$base"
ffmpeg -v error -i "$base" -c copy "$out/remux.ts"
ffmpeg -v error -i "$base" -c copy -output_ts_offset 1000 "$out/offset.mp4"
ffmpeg -v error -i "$base" -c copy -output_ts_offset 1000 "$out/offset.mkv"
ffmpeg -v error -i "$base" -c copy -output_ts_offset 1000 "$out/offset.ts"
# 2^33 ticks of 90 kHz are 95443.7 s: starting at 95440 s the timestamps wrap after 3.7 s.
ffmpeg -v error -i "$base" -c copy -output_ts_offset 95440 "$out/wrap.ts"
ffmpeg -v error -i "$base" -c copy -bsf:v h264_mp4toannexb -f h264 "$out/raw.h264"
# Three 10-bit HEVC frames: deep video is written as 16-bit PNG.
ffmpeg -v error -f lavfi -i "testsrc2=size=64x48:rate=10" -frames:v 3 -c:v libx265 -pix_fmt yuv420p10le \
    -x265-params log-level=none "$out/deep10.mkv"
ls -la "$out"
