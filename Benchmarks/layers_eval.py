#!/usr/bin/env python3
"""Layered decomposition against ground truth (issue 18), on StrataSynth's `layers` scene.

The scene is rendered whole, without its near shell, without both shells, and from a moved
camera. Strata's `layers.write` and `layers.render` run on the whole render with its exact
depth (so only the decomposition is judged), then on the built-in estimator's depth, and:
  - layer assignment IoU per layer (ground truth: the object ids' shells);
  - the filled colour of each layer against the render without its occluders, PSNR and SSIM
    over the filled pixels that the layer truly covers there, beside cv2.inpaint Telea and
    Navier-Stokes on the same masks, and the fill's time (a run with the fill band less the
    faster of two without) beside cv2.inpaint's;
  - the moved-camera render against the ground-truth render there, PSNR over the view,
    beside a single-layer depth warp whose holes take the nearest pixel.
Prints Markdown rows. Usage: python3 Benchmarks/layers_eval.py STRATA [WIDTH] [OFFSET_M]
(needs numpy, scipy, opencv-python-headless, scikit-image).
"""
import json, os, subprocess, sys, time
import cv2
import numpy as np
from scipy import ndimage
from skimage.metrics import structural_similarity

STRATA = sys.argv[1]
W = int(sys.argv[2]) if len(sys.argv) > 2 else 1024
OFFSET = float(sys.argv[3]) if len(sys.argv) > 3 else 0.3
H = W // 2
WORK = os.path.join(os.path.dirname(os.path.abspath(__file__)), "work", f"layers-{W}")
NEAR, MID = list(range(10, 16)), list(range(20, 26))
K, BAND, SEED = 3, 48, 1


def run(*args):
    subprocess.run([STRATA, *map(str, args)], check=True, stderr=subprocess.DEVNULL)


def synth(name, *extra):
    out = os.path.join(WORK, name)
    if not os.path.exists(os.path.join(out, "color.png")):
        run("synth", "layers", "--width", W, "--height", H, "--out", out, *extra)
    return out


def read_rgb(path):
    return cv2.cvtColor(cv2.imread(path, cv2.IMREAD_UNCHANGED)[..., :3], cv2.COLOR_BGR2RGB).astype(np.float64) / 255


def read_ids(folder):
    return cv2.imread(os.path.join(folder, "ids.png"), cv2.IMREAD_UNCHANGED).astype(int)


def truth_layers(ids):
    return np.where(np.isin(ids, NEAR), 0, np.where(np.isin(ids, MID), 1, 2))


def psnr(a, b, mask):
    mse = np.mean((a[mask] - b[mask]) ** 2)
    return 10 * np.log10(1 / max(mse, 1e-12))


def ssim(a, b, mask):
    _, full = structural_similarity(a, b, channel_axis=2, data_range=1, full=True)
    return float(full.mean(axis=2)[mask].mean())


def pipeline(path, depth_node, extra_nodes):
    spec = {"version": 1, "name": "layers-eval",
            "inputs": {"image": {"type": "file", "default": os.path.join(WORK, "full", "color.png")},
                       "depth": {"type": "file", "default": os.path.join(WORK, "full", "depth.png")}},
            "nodes": [{"id": "color", "stage": "image.read", "inputs": {"source": "$inputs.image"}}, depth_node] + extra_nodes}
    with open(path, "w") as f:
        json.dump(spec, f)


def layers_run(slug, depth_node, band):
    """layers.write alone (no exports but the PNGs) on one thread; its output and seconds."""
    out = os.path.join(WORK, f"out-{slug}-band{band}")
    spec = os.path.join(WORK, f"{slug}-layers-band{band}.json")
    pipeline(spec, depth_node, [{"id": "layers", "stage": "layers.write", "inputs": {"image": "color.image", "depth": "depth.depth"},
                                 "params": {"layers": K, "fillBand": band, "seed": SEED, "ora": False, "points": False,
                                            "splats": False, "meshes": False, "glb": False}}])
    start = time.perf_counter()
    run("run", spec, "--output-dir", out, "--threads", 1)
    return out, time.perf_counter() - start


def decompose(tag, depth_node):
    """layers.write timed with the fill band and without (band 0: nothing filled), the
    difference being the fill's time; then layers.render at the offset."""
    slug = tag.replace(" ", "-")
    out, seconds = layers_run(slug, depth_node, BAND)
    _, unfilled = min((layers_run(slug, depth_node, 0) for _ in range(2)), key=lambda r: r[1])
    seconds = (seconds, seconds - unfilled)
    view = os.path.join(WORK, f"{slug}-view.json")
    pipeline(view, depth_node, [
        {"id": "path", "stage": "camera.path", "params": {"path": "swing", "frames": 4, "radius": OFFSET}},
        {"id": "render", "stage": "layers.render",
         "inputs": {"image": "color.image", "depth": "depth.depth", "x": "path.x", "y": "path.y", "z": "path.z"},
         "params": {"layers": K, "fillBand": BAND, "seed": SEED, "projection": "equirect"}},
        {"id": "frames", "stage": "image.write", "inputs": {"image": "render.image"}, "params": {"pattern": "view/%05d.png"}}])
    run("run", view, "--output-dir", out, "--frames", "1-1")  # frame 1 of 4: the camera at +OFFSET on x
    return os.path.join(out, "layers", "00001"), os.path.join(out, "view", "00001.png"), seconds


def warp_single_layer(color, distance, dx):
    """Forward warp of every pixel to a camera moved `dx` metres right, nearest point winning;
    holes take the nearest warped pixel."""
    v, u = np.mgrid[0:H, 0:W].astype(np.float64)
    lon = (u + 0.5) / W * 2 * np.pi - np.pi
    lat = np.pi / 2 - (v + 0.5) / H * np.pi
    x, y, z = np.cos(lat) * np.sin(lon) * distance - dx, np.sin(lat) * distance, np.cos(lat) * np.cos(lon) * distance
    d = np.sqrt(x * x + y * y + z * z)
    uu = np.round((np.arctan2(x, z) / (2 * np.pi) + 0.5) * W - 0.5).astype(int) % W
    vv = np.clip(np.round((0.5 - np.arcsin(np.clip(y / d, -1, 1)) / np.pi) * H - 0.5).astype(int), 0, H - 1)
    order = np.argsort(-d.ravel())  # far first, near last: the nearest write wins
    out = np.zeros((H, W, 3))
    hit = np.zeros((H, W), bool)
    out[vv.ravel()[order], uu.ravel()[order]] = color.reshape(-1, 3)[order]
    hit[vv.ravel()[order], uu.ravel()[order]] = True
    _, (iy, ix) = ndimage.distance_transform_edt(~hit, return_indices=True)
    return out[iy, ix]


def evaluate(tag, depth_node, rows):
    full, nonear, bg, moved = (os.path.join(WORK, n) for n in ("full", "nonear", "bg", "moved"))
    folder, view, seconds = decompose(tag, depth_node)
    color = read_rgb(os.path.join(full, "color.png"))
    truth = truth_layers(read_ids(full))
    labels = cv2.imread(os.path.join(folder, "labels.png"), cv2.IMREAD_UNCHANGED).astype(int)
    made = len(json.load(open(os.path.join(folder, "layers.json")))["layers"])
    ious = []
    for k in range(K):
        a, b = labels == k, truth == k
        ious.append((a & b).sum() / max((a | b).sum(), 1))
    rows.append(f"| {tag} | IoU per layer (near, middle, background), {made} layers made | "
                + ", ".join(f"{x:.3f}" for x in ious) + " | goal ≥ 0.95 |")
    image8 = (color * 255).round().astype(np.uint8)[..., ::-1].copy()
    telea_s = ns_s = 0.0
    for k, (reference, keep) in ((1, (nonear, MID)), (2, (bg, list(range(1, 10))))):
        layer = cv2.imread(os.path.join(folder, f"layer-{k}.png"), cv2.IMREAD_UNCHANGED)
        alpha = layer[..., 3] > 0
        filled = alpha & (labels < k)
        target = read_rgb(os.path.join(reference, "color.png"))
        scored = filled & np.isin(read_ids(reference), keep)
        ours = cv2.cvtColor(layer[..., :3], cv2.COLOR_BGR2RGB).astype(np.float64) / 255
        mask = (labels < k).astype(np.uint8) * 255
        t0 = time.perf_counter(); telea = cv2.inpaint(image8, mask, 3, cv2.INPAINT_TELEA); telea_s += time.perf_counter() - t0
        t0 = time.perf_counter(); ns = cv2.inpaint(image8, mask, 3, cv2.INPAINT_NS); ns_s += time.perf_counter() - t0
        telea = telea[..., ::-1].astype(np.float64) / 255
        ns = ns[..., ::-1].astype(np.float64) / 255
        name = "middle" if k == 1 else "background"
        rows.append(f"| {tag} | fill of the {name} layer, {scored.sum()} px: PSNR dB / SSIM | "
                    f"Strata {psnr(ours, target, scored):.2f} / {ssim(ours, target, scored):.3f} | "
                    f"Telea {psnr(telea, target, scored):.2f} / {ssim(telea, target, scored):.3f}, "
                    f"NS {psnr(ns, target, scored):.2f} / {ssim(ns, target, scored):.3f} |")
    rows.append(f"| {tag} | time on one thread: Strata's fill of both layers (a run with the band less one without), "
                f"and the whole run (decomposition, fill, PNGs) | fill {seconds[1]:.2f} s, run {seconds[0]:.2f} s | "
                f"cv2.inpaint on the same two masks: Telea {telea_s:.2f} s, NS {ns_s:.2f} s |")
    target = read_rgb(os.path.join(moved, "color.png"))
    everywhere = np.ones((H, W), bool)
    ours = read_rgb(view)
    distance = np.load(os.path.join(full, "depth.npy")).astype(np.float64)
    single = warp_single_layer(color, distance, OFFSET)
    rows.append(f"| {tag} | moved camera ({OFFSET} m right): PSNR dB over the view | Strata layers {psnr(ours, target, everywhere):.2f} | "
                f"single-layer warp, nearest fill {psnr(single, target, everywhere):.2f} (exact depth) |")


def main():
    os.makedirs(WORK, exist_ok=True)
    synth("full")
    synth("nonear", "--without", ",".join(map(str, NEAR)))
    synth("bg", "--without", ",".join(map(str, NEAR + MID)))
    synth("moved", "--position", f"{OFFSET},1.5,0")
    rows = ["| depth | measure | Strata | peers |", "|---|---|---|---|"]
    evaluate("exact depth", {"id": "depth", "stage": "depth.read", "inputs": {"source": "$inputs.depth"}}, rows)
    evaluate("built-in estimator", {"id": "depth", "stage": "depth.estimate", "inputs": {"image": "color.image"},
                                    "params": {"model": "builtin", "projection": "equirect"}}, rows)
    print(f"StrataSynth `layers` scene, {W}x{H} equirect, K = {K}, fill band {BAND} px, seed {SEED}\n")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
