#!/usr/bin/env bash
# Renders the StrataSynth samples in samples/ (commands also listed in samples/README.md).
#   bash Tools/make_synth_samples.sh
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product strata >/dev/null
S=.build/release/strata
rm -rf samples/indoor-pano samples/street samples/walk360 samples/walk
# Not hints.json: the arrows are written by hand.
rm -f samples/water/*.png samples/water/*.npy samples/water/camera.json samples/water/depth.json samples/water-pano/*.png samples/water-pano/camera.json samples/water-pano/depth.json
$S synth indoor --camera equirect --width 2048 --height 1024 --position 0,1.5,0 --no-npy --out samples/indoor-pano
$S synth street --camera pinhole --width 640 --height 480 --fov 70 --position 0,1.6,-16 --out samples/street
$S synth indoor --camera equirect --width 512 --height 256 --position 0,1.5,-2.5 --frames 36 --walk 3 --fps 12 --out samples/walk360
# The perspective walk (Pipelines/video-depth-motion.json): CameraPath.roomWalk, 24 frames
# at 320×240, 70° across, as an H.264 video, with its exact path as a TUM trajectory.
swift build -c release --product strata-bench >/dev/null
walk=$(mktemp -d)
WRITE="$walk" .build/release/strata-bench walk 24 320 240 >/dev/null
mkdir -p samples/walk
$S convert "$walk/frames/%05d.png" samples/walk/color.mp4 --fps 12 --crf 18
cp "$walk/truth.txt" samples/walk/camera-trajectory-truth.txt
rm -rf "$walk"
$S synth water --camera pinhole --width 640 --height 360 --fov 75 --position 0,2.5,-10 --pitch=-8 --out samples/water
$S synth water --camera equirect --width 1024 --height 512 --position 0,2,10 --no-npy --out samples/water-pano
du -sh samples
