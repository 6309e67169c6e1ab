#!/usr/bin/env bash
# The StrataSynth walk that StrataMotion's tests reconstruct: 20 frames of
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
