"""StrataMotion's relative pose on real RGB-D frames with a trajectory (`../shared/devdata/
rgbd/open3d/`, development data: never committed): every pair of its five frames, the
rotation's error (the angle of R_est · R_trueᵀ), the translation's direction error (none
where the pair is taken as a pure turn), and the parallax left after the best pure turn.

    python3 Benchmarks/motion_eval.py STRATA_BENCH [DEVDATA]

The trajectory is Redwood's .log (camera-to-world 4×4 per frame); the camera is the
PrimeSense default (fx = fy = 525, centre 319.5, 239.5 with pixel centres at integers).
Needs numpy.
"""
import itertools
import json
import os
import subprocess
import sys

import numpy as np

bench = sys.argv[1]
devdata = sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(__file__), "..", "..", "shared", "devdata")
folder = os.path.join(devdata, "rgbd", "open3d")
if not os.path.isdir(folder):
    sys.exit(f"no development data at {folder}")
lines = open(os.path.join(folder, "trajectory.log")).read().split("\n")
poses = []
for i in range(0, len(lines) - 4, 5):
    if not lines[i].strip():
        break
    poses.append(np.array([[float(v) for v in lines[i + r].split()] for r in range(1, 5)]))
frames = sorted(os.listdir(os.path.join(folder, "color")))
# Strata's pixel centres sit at half-integers: OpenCV's 319.5 is Strata's 320.
fx, fy, cx, cy = 525.0, 525.0, 320.0, 240.0
print("| frames | baseline | true rotation | rotation error | translation direction error | parallax | inliers / tracked |")
print("|---|---|---|---|---|---|---|")
for i, j in itertools.combinations(range(len(frames)), 2):
    out = subprocess.run([bench, "motion", os.path.join(folder, "color", frames[i]), os.path.join(folder, "color", frames[j]),
                          str(fx), str(fy), str(cx), str(cy)], capture_output=True, text=True)
    if out.returncode != 0:
        print(f"| {i}→{j} | | | {out.stderr.strip()[:80]} | | | |")
        continue
    est = json.loads(out.stdout)
    r_est = np.array(est["rotation"]).reshape(3, 3)
    t_est = np.array(est["translation"])
    # X_j = R·X_i + t from camera-to-world poses: R = R_jᵀ R_i, t = R_jᵀ (c_i − c_j).
    ri, ci, rj, cj = poses[i][:3, :3], poses[i][:3, 3], poses[j][:3, :3], poses[j][:3, 3]
    r_true = rj.T @ ri
    t_true = rj.T @ (ci - cj)
    baseline = np.linalg.norm(t_true)
    angle = lambda m: np.degrees(np.arccos(np.clip((np.trace(m) - 1) / 2, -1, 1)))
    if est["rotation_only"]:
        direction = "— (taken as a pure turn)"
    else:
        direction = f"{np.degrees(np.arccos(np.clip(t_est @ t_true / baseline, -1, 1))):.1f}°"
    print(f"| {i}→{j} | {100 * baseline:.1f} cm | {angle(r_true):.2f}° | {angle(r_est @ r_true.T):.2f}° | {direction} | "
          f"{est['parallax']:.2f} px | {est['inliers']} / {est['tracked']} |")
