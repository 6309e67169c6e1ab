"""The built-in depth prior against two trivial baselines on real photographs and a
panorama with ground truth (`../shared/devdata/`, development data: never committed).

    python3 Benchmarks/prior_eval.py STRATA [DEVDATA]

For each image: Strata's `builtin` estimator (through a pipeline: video.decode →
depth.estimate → depth.write .npy), a top-to-bottom ramp (disparity rising linearly down
the image) and the best constant. Each is aligned to the ground truth by the least-squares
scale and shift in disparity (what the field and `strata eval-depth --align scale-shift`
use), then scored in depth on the valid pixels: δ1 (share within 1.25×) and AbsRel. The
panorama's rows are weighted by cos(latitude). Prints one Markdown row an image and
whether the prior beats both baselines on both metrics. Needs numpy, opencv-python-headless.
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
if not os.path.isdir(devdata):
    sys.exit(f"no development data at {devdata}: give its folder")

PIPELINE = {
    "version": 1, "name": "prior-eval",
    "inputs": {"image": {"type": "video"}},
    "nodes": [
        {"id": "frames", "stage": "video.decode", "inputs": {"source": "$inputs.image"}},
        {"id": "depth", "stage": "depth.estimate", "inputs": {"image": "frames.image"},
         "params": {"model": "builtin", "projection": "PROJECTION"}},
        {"id": "save", "stage": "depth.write", "inputs": {"depth": "depth.depth"}, "params": {"pattern": "depth/%05d.npy"}},
    ],
}


def cases():
    """(name, image path, ground truth in metres (0 invalid), equirect?)"""
    nyu = os.path.join(devdata, "rgbd", "nyu")
    for n in ["00000", "00050", "00100"]:
        gt = cv2.imread(os.path.join(nyu, "depth", f"sync_depth_{n}.png"), cv2.IMREAD_UNCHANGED).astype(np.float64) / 1000
        yield f"nyu {n} (indoor, Kinect)", os.path.join(nyu, "rgb", f"rgb_{n}.jpg"), gt, False
    kitti = os.path.join(devdata, "rgbd", "kitti")
    for n in ["0000000005", "0000000050", "0000000100"]:
        gt = cv2.imread(os.path.join(kitti, "depth", f"{n}.png"), cv2.IMREAD_UNCHANGED).astype(np.float64) / 256
        yield f"kitti {n[-3:]} (street, LiDAR)", os.path.join(kitti, "rgb", f"{n}.png"), gt, False
    o3d = os.path.join(devdata, "rgbd", "open3d")
    if os.path.isdir(o3d):
        colours = sorted(f for f in os.listdir(os.path.join(o3d, "color")) if f.endswith((".jpg", ".png")))
        depths = sorted(f for f in os.listdir(os.path.join(o3d, "depth")) if f.endswith(".png"))
        for c, d in list(zip(colours, depths))[::2]:
            gt = cv2.imread(os.path.join(o3d, "depth", d), cv2.IMREAD_UNCHANGED).astype(np.float64) / 1000
            yield f"open3d {os.path.splitext(c)[0]} (indoor, PrimeSense)", os.path.join(o3d, "color", c), gt, False
    pano = os.path.join(devdata, "pano")
    gt = cv2.imread(os.path.join(pano, "realsee3d_synthesis_depth.png"), cv2.IMREAD_UNCHANGED).astype(np.float64)
    yield "realsee pano (indoor, rendered)", os.path.join(pano, "realsee3d_synthesis.jpg"), gt, True


def predict(image, equirect, work):
    pipeline = json.loads(json.dumps(PIPELINE).replace("PROJECTION", "equirect" if equirect else "perspective"))
    path = os.path.join(work, "pipeline.json")
    with open(path, "w") as f:
        json.dump(pipeline, f)
    out = os.path.join(work, "out")
    subprocess.run(["rm", "-rf", out], check=True)
    subprocess.run([strata, "run", path, "--input", f"image={image}", "--output-dir", out], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return np.load(os.path.join(out, "depth", "00001.npy")).astype(np.float64)


def score(disparity, gt, weights):
    """δ1 and AbsRel after the least-squares scale and shift of `disparity` onto 1/gt."""
    valid = gt > 1e-3
    p, t, w = disparity[valid], 1 / gt[valid], weights[valid]
    a = np.stack([p, np.ones_like(p)], 1)
    sw = np.sqrt(w)
    (scale, shift), *_ = np.linalg.lstsq(a * sw[:, None], t * sw, rcond=None)
    aligned = scale * p + shift
    # Disparities the fit pushes to or below 0 are as far as the farthest truth.
    aligned = np.maximum(aligned, 1 / gt[valid].max())
    depth = 1 / aligned
    ratio = np.maximum(depth / gt[valid], gt[valid] / depth)
    delta1 = float(np.sum(w * (ratio < 1.25)) / np.sum(w))
    absrel = float(np.sum(w * np.abs(depth - gt[valid]) / gt[valid]) / np.sum(w))
    return delta1, absrel


print("| image | built-in prior δ1 / AbsRel | top-to-bottom ramp | best constant | prior beats both |")
print("|---|---|---|---|---|")
wins = total = 0
with tempfile.TemporaryDirectory() as work:
    for name, image, gt, equirect in cases():
        h, w = gt.shape
        prior = predict(image, equirect, work)
        if prior.shape != gt.shape:
            prior = cv2.resize(prior, (w, h), interpolation=cv2.INTER_LINEAR)
        weights = np.ones_like(gt)
        if equirect:
            weights *= np.cos((np.arange(h) + 0.5) / h * np.pi - np.pi / 2)[:, None]
        ramp = np.repeat(((np.arange(h) + 0.5) / h)[:, None], w, 1)
        rows = {"prior": score(prior, gt, weights), "ramp": score(ramp, gt, weights)}
        # The best constant: one depth for every pixel, chosen for δ1 (a scan of candidates).
        valid = gt > 1e-3
        candidates = np.quantile(gt[valid], np.linspace(0.02, 0.98, 97))
        best = (0.0, 1e9)
        for c in candidates:
            r = np.maximum(c / gt[valid], gt[valid] / c)
            ww = weights[valid]
            d1 = float(np.sum(ww * (r < 1.25)) / np.sum(ww))
            rel = float(np.sum(ww * np.abs(c - gt[valid]) / gt[valid]) / np.sum(ww))
            if (d1, -rel) > (best[0], -best[1]):
                best = (d1, rel)
        rows["constant"] = best
        beats = all(rows["prior"][0] > rows[b][0] and rows["prior"][1] < rows[b][1] for b in ("ramp", "constant"))
        wins += beats
        total += 1
        cells = " | ".join(f"{rows[k][0]:.3f} / {rows[k][1]:.3f}" for k in ("prior", "ramp", "constant"))
        print(f"| {name} | {cells} | {'yes' if beats else 'no'} |")
print(f"\nThe prior beats both baselines on both metrics in {wins} of {total} images.")
