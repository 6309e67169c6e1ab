#!/usr/bin/env bash
# The StrataSynth walks that StrataMotion's tests reconstruct: 20 frames of
# CameraPath.roomWalk through the room (1.2 m forward, swaying, turning 15°), 320×240,
# 70° across, 2× supersampled (Tests/StrataMotionTests/Fixtures/walk/). The tests take the
# exact poses from the same path, so only the frames are kept.
#
#   bash Tools/make_motion_fixtures.sh
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product strata-bench
out=Tests/StrataMotionTests/Fixtures/walk
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
WRITE="$work" .build/release/strata-bench walk 20 320 240
rm -rf "$out"
mkdir -p "$out"
cp "$work"/frames/*.png "$out"/

# The same walk seen by a 360° camera, for the panorama path (depth.motion with method
# motion): 12 frames, 1024×512 equirect (the narrowest it takes), as an H.264 file.
swift build -c release --product strata
pano=$(mktemp -d)
trap 'rm -rf "$work" "$pano"' EXIT
EQUIRECT=1 SUPERSAMPLING=1 WRITE="$pano" .build/release/strata-bench walk 12 1024 512
rm -f Tests/StrataMotionTests/Fixtures/walk360.mp4
.build/release/strata convert "$pano/frames/%05d.png" Tests/StrataMotionTests/Fixtures/walk360.mp4 --fps 12 --crf 16
