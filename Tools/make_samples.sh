#!/usr/bin/env bash
# Makes samples/: inputs small enough to commit, so every command in README runs on a fresh
# clone. Until StrataSynth lands, the sample video is FFmpeg's procedural Mandelbrot zoom.
#
#   bash Tools/make_samples.sh      (needs ffmpeg: apt-get install ffmpeg)
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p samples
ffmpeg -v error -y -f lavfi -i "mandelbrot=size=320x180:rate=24:start_scale=3:end_scale=0.05" \
    -frames:v 72 -c:v libx264 -preset veryslow -crf 26 -pix_fmt yuv420p -movflags +faststart \
    samples/mandelbrot-320x180.mp4
ls -la samples
