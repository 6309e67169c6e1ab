"""`depth.motion`'s `height` on real RGB-D frames: the five Open3D frames in
`../shared/devdata/rgbd/open3d/` (development data, never committed; PrimeSense camera,
fx = fy = 525 at 640×480). The camera's true height over the floor comes from frame 0's
Kinect depth (back-projected, a RANSAC plane near the camera's down axis); the stage is
given that height and its depth, now in metres, is compared with the Kinect's with no
scale fitted: the median ratio, δ1 and AbsRel on the pixels stereo trusts.

    python3 Benchmarks/motion_height_eval.py STRATA

Needs numpy and opencv-python-headless.
"""
import json, os, subprocess, sys, tempfile
import cv2, numpy as np
strata = sys.argv[1]
folder = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "devdata", "rgbd", "open3d")
if not os.path.isdir(folder):
    sys.exit(f"no development data at {folder}")
names = sorted(os.listdir(os.path.join(folder, "color")))
truth = [cv2.imread(os.path.join(folder, "depth", n.replace(".jpg", ".png")), -1).astype(np.float64) / 1000 for n in names]
# True camera height over the floor from frame 0's Kinect depth: back-projected, RANSAC plane near the camera's down axis.
z = truth[0]; h, w = z.shape
ys, xs = np.mgrid[0:h, 0:w]
m = z > 0
P = np.stack([(xs[m] - 319.5) / 525 * z[m], (ys[m] - 239.5) / 525 * z[m], z[m]], 1)
P = P[P[:, 1] > 0.2]
rng = np.random.default_rng(0); best = None
for _ in range(2000):
    a, b, c = P[rng.integers(len(P), size=3)]
    n = np.cross(b - a, c - a); nn = np.linalg.norm(n)
    if nn == 0: continue
    n /= nn
    if n[1] < 0: n = -n
    if n[1] < np.cos(np.radians(30)): continue
    d = n @ a; inl = np.abs(P @ n - d) < 0.01
    if best is None or inl.sum() > best[0]: best = (inl.sum(), n, d)
height = best[2]
print(f"true camera height over the floor (frame 0, Kinect): {height:.3f} m, {best[0]} inliers, normal {best[1]}")
fov = float(np.degrees(2 * np.arctan(320 / 525)))
with tempfile.TemporaryDirectory() as work:
    pipeline = {"version": 1, "inputs": {"video": {"type": "video"}}, "nodes": [
        {"id": "depth", "stage": "depth.motion", "inputs": {"source": "$inputs.video"}, "params": {"fov": fov, "method": "motion", "height": round(height, 3)}},
        {"id": "save", "stage": "depth.write", "inputs": {"depth": "depth.depth"}, "params": {"pattern": "d/%05d.npy"}},
        {"id": "confidence", "stage": "image.write", "inputs": {"image": "depth.confidence"}, "params": {"pattern": "c/%05d.png", "bitDepth": 16}}]}
    json.dump(pipeline, open(os.path.join(work, "p.json"), "w"))
    out = os.path.join(work, "o")
    subprocess.run([strata, "run", os.path.join(work, "p.json"), "--input", "video=" + os.path.join(folder, "color", "%05d.jpg"), "--output-dir", out, "--progress", "none"], check=True)
    report = json.load(open(os.path.join(out, "motion.json")))
    print("why:", report.get("why"), "| scale:", report.get("scale"), report.get("metresPerUnit"))
    depth = [np.load(os.path.join(out, "d", f"{n:05d}.npy")).astype(np.float64).squeeze() for n in range(1, len(names) + 1)]
    conf = [cv2.imread(os.path.join(out, "c", f"{n:05d}.png"), -1).astype(np.float64) / 65535 for n in range(1, len(names) + 1)]
    masks = [(t > 0) & np.isfinite(d) & (d > 0) & (c >= 0.5) for d, t, c in zip(depth, truth, conf)]
    r = np.concatenate([t[k] / d[k] for d, t, k in zip(depth, truth, masks)])
    e = np.concatenate([d[k] for d, k in zip(depth, masks)]); t = np.concatenate([t[k] for t, k in zip(truth, masks)])
    ratio = np.maximum(e / t, t / e)
    print(f"Kinect / metric depth from motion, trusted pixels: median {np.median(r):.3f}; δ1 with no scale fitted {np.mean(ratio < 1.25):.3f}, AbsRel {np.mean(np.abs(e - t) / t):.3f}")
