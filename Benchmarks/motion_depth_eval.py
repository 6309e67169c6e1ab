"""Depth from motion (`depth.motion`) on real RGB-D frames with ground truth: the five
Open3D frames in `../shared/devdata/rgbd/open3d/` (development data, never committed;
PrimeSense camera, fx = fy = 525 at 640×480: 62.7° across), run through the stage as a
frame pattern, written as float .npy, and compared with the Kinect depth (millimetres, 0
invalid) after one scale for all frames (the motion's unit is its first baseline):
δ1 and AbsRel on the pixels stereo trusts (confidence ≥ 0.5) and on every pixel with its
fill, and the built-in prior alone (`method` monocular, scale and shift fitted per frame
in disparity, as the field measures monocular depth) for comparison.

    python3 Benchmarks/motion_depth_eval.py STRATA [DEVDATA]      (SWEEP=every: every frame swept)
    python3 Benchmarks/motion_depth_eval.py STRATA samples/walk360   (the 360° sample against its rendered depth)

Needs numpy and opencv-python-headless.
"""
import json
import os
import subprocess
import sys
import tempfile

import cv2
import numpy as np

strata = sys.argv[1]
devdata = sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(__file__), "..", "..", "shared", "devdata")
if os.path.exists(os.path.join(devdata, "color.mp4")):
    # A StrataSynth sample with its rendered depth (samples/walk360: a 360° walk, ray distance in mm).
    video = os.path.join(devdata, "color.mp4")
    names = sorted(n for n in os.listdir(os.path.join(devdata, "depth")) if n.endswith(".png"))
    truth = [cv2.imread(os.path.join(devdata, "depth", n), -1).astype(np.float64) / 1000 for n in names]
    params = {}
else:
    folder = os.path.join(devdata, "rgbd", "open3d")
    if not os.path.isdir(folder):
        sys.exit(f"no development data at {folder}")
    video = os.path.join(folder, "color", "%05d.jpg")
    names = sorted(os.listdir(os.path.join(folder, "color")))
    truth = [cv2.imread(os.path.join(folder, "depth", name.replace(".jpg", ".png")), -1).astype(np.float64) / 1000 for name in names]
    params = {"fov": float(np.degrees(2 * np.arctan(320 / 525)))}
frames = names


def run(method, work):
    pipeline = {
        "version": 1,
        "inputs": {"video": {"type": "video"}},
        "nodes": [
            {"id": "depth", "stage": "depth.motion", "inputs": {"source": "$inputs.video"}, "params": {**params, "method": method, "sweep": os.environ.get("SWEEP", "keyframes")}},
            {"id": "save", "stage": "depth.write", "inputs": {"depth": "depth.depth"}, "params": {"pattern": "d/%05d.npy"}},
            {"id": "confidence", "stage": "image.write", "inputs": {"image": "depth.confidence"}, "params": {"pattern": "c/%05d.png", "bitDepth": 16}},
        ],
    }
    path = os.path.join(work, f"{method}.json")
    json.dump(pipeline, open(path, "w"))
    out = os.path.join(work, method)
    subprocess.run([strata, "run", path, "--input", "video=" + video, "--output-dir", out,
                    "--progress", "none"], check=True, capture_output=True)
    depth = [np.load(os.path.join(out, "d", f"{n:05d}.npy")).astype(np.float64).squeeze() for n in range(1, len(frames) + 1)]
    confidence = [cv2.imread(os.path.join(out, "c", f"{n:05d}.png"), -1).astype(np.float64) / 65535 for n in range(1, len(frames) + 1)]
    report = json.load(open(os.path.join(out, "motion.json"))) if os.path.exists(os.path.join(out, "motion.json")) else {}
    return depth, confidence, report


def scores(estimate, true):
    ratio = np.maximum(estimate / true, true / estimate)
    return (ratio < 1.25).mean(), (np.abs(estimate - true) / true).mean()


with tempfile.TemporaryDirectory() as work:
    depth, confidence, report = run("auto", work)
    print(f"path: {report.get('path')}: {report.get('why')}")
    valid = [(t > 0) & np.isfinite(d) & (d > 0) for d, t in zip(depth, truth)]
    trusted = [v & (c >= 0.5) for v, c in zip(valid, confidence)]
    ratios = np.concatenate([t[m] / d[m] for d, t, m in zip(depth, truth, trusted)])
    scale = np.median(ratios)
    rows = []
    for name, masks in (("trusted (confidence ≥ 0.5)", trusted), ("every pixel, filled", valid)):
        e = np.concatenate([d[m] * scale for d, m in zip(depth, masks)])
        t = np.concatenate([t[m] for t, m in zip(truth, masks)])
        d1, absrel = scores(e, t)
        share = sum(m.sum() for m in masks) / sum(v.sum() for v in valid)
        rows.append((name, share, d1, absrel))
    mono, _, _ = run("monocular", work)
    e_all, t_all = [], []
    for d, t in zip(mono, truth):
        m = (t > 0) & np.isfinite(d) & (d > 0)
        # The prior's output per frame, fitted in disparity (scale and shift), as the field measures it.
        x, y = 1 / d[m], 1 / t[m]
        a, b = np.linalg.lstsq(np.stack([x, np.ones_like(x)], 1), y, rcond=None)[0]
        fitted = 1 / np.clip(a * x + b, 1e-3, None)
        e_all.append(fitted)
        t_all.append(t[m])
    d1, absrel = scores(np.concatenate(e_all), np.concatenate(t_all))
    rows.append(("built-in prior alone (fitted per frame)", 1.0, d1, absrel))
    print("| pixels | share of valid | δ1 | AbsRel |")
    print("|---|---|---|---|")
    for name, share, d1, absrel in rows:
        print(f"| {name} | {100 * share:.1f}% | {d1:.3f} | {absrel:.3f} |")
