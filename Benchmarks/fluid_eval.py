#!/usr/bin/env python3
"""Surface-fluid loops measured on their own output (issue 19): runs a fluid pipeline,
then on the frames
  - the loop's seam: mean absolute difference from the last frame to the first, against
    the mean over consecutive pairs;
  - pixels outside the fluid that changed in any frame (should be 0);
  - OpenCV Farnebäck flow between consecutive frames, near each arrow (a disc of 12 px
    around its start): the cosine between the measured and the hinted direction, and the
    measured speed over the hinted one (medians over frame pairs and pixels).
  - beside each, what Farnebäck reads for a rigid shift of the still by the hint: the
    estimator's own ceiling on that texture.
Prints Markdown rows. Usage: python3 Benchmarks/fluid_eval.py STRATA PIPELINE HINTS [STILL]
(needs numpy, opencv-python-headless); with STILL, the pipeline runs on it and HINTS (a
labelme file works).

python3 Benchmarks/fluid_eval.py STRATA --synth: the densified field from five arrows taken
from a known flow (StrataSynth's waterfront, its water moving along the world's x and z),
its end-point error over the water, without and with the still's depth.

python3 Benchmarks/fluid_eval.py STRATA --uniform: the same measures on a controlled case,
a 512×256 blurred-noise still whose middle band flows right at 1.5 px/frame (one arrow,
48 frames), where Farnebäck can read the speed exactly; with Farnebäck on a pure 1.5 px
shift of the still beside it, and the texture's contrast frame by frame (the cross-fade).

python3 Benchmarks/fluid_eval.py STRATA --fade STILL HINTS: the seams where fluid enters or
leaves its region, on a real still: Pipelines/photo-fluid.json run with fade 0 and with
the default fade; for each fluid pixel the largest change between consecutive frames (a
seam passing over a pixel is a jump), its mean and 99th percentile, beside the mean change.
"""
import json, os, subprocess, sys, tempfile
import cv2
import numpy as np


def uniform(strata):
    with tempfile.TemporaryDirectory() as work:
        rng = np.random.default_rng(1)
        h, w = 256, 512
        noise = cv2.GaussianBlur(rng.random((h, w)).astype(np.float32), (0, 0), 2)
        noise = (noise - noise.min()) / (noise.max() - noise.min())
        cv2.imwrite(os.path.join(work, "still.png"), (np.stack([noise * 0.5, noise * 0.8, noise], 2) * 255).astype(np.uint8))
        band = np.zeros((h, w), np.uint8)
        band[64:192] = 255
        cv2.imwrite(os.path.join(work, "mask.png"), band)
        json.dump({"mask": "mask.png", "hints": [{"from": [100, 128], "to": [140, 128], "speed": 1.5}], "feather": 0, "frames": 48},
                  open(os.path.join(work, "hints.json"), "w"))
        spec = json.load(open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Pipelines", "photo-fluid.json")))
        spec["inputs"]["image"]["default"] = os.path.join(work, "still.png")
        spec["inputs"]["hints"]["default"] = os.path.join(work, "hints.json")
        json.dump(spec, open(os.path.join(work, "p.json"), "w"))
        subprocess.run([strata, "run", os.path.join(work, "p.json"), "--output-dir", os.path.join(work, "out"), "--progress", "none"],
                       check=True, stderr=subprocess.DEVNULL)
        inner = np.zeros((h, w), bool)
        inner[80:176, 100:400] = True
        still = cv2.imread(os.path.join(work, "still.png"), cv2.IMREAD_GRAYSCALE)
        shifted = cv2.warpAffine(still, np.float32([[1, 0, 1.5], [0, 1, 0]]), (w, h), borderMode=cv2.BORDER_REFLECT)
        pure = np.median(cv2.calcOpticalFlowFarneback(still, shifted, None, 0.5, 3, 15, 3, 5, 1.2, 0)[..., 0][inner])
        frames = [cv2.imread(os.path.join(work, "out", "frames", f"{n:05d}.png"), cv2.IMREAD_GRAYSCALE) for n in range(1, 49)]
        speeds = [np.median(cv2.calcOpticalFlowFarneback(frames[t], frames[t + 1], None, 0.5, 3, 15, 3, 5, 1.2, 0)[..., 0][inner]) for t in range(47)]
        contrast = [frames[t][inner].std() for t in range(48)]
    print("| uniform flow, 1.5 px/frame, 48 frames | measured |")
    print("|---|---|")
    print(f"| Farnebäck on a pure 1.5 px shift of the still | {pure:.3f} px |")
    print(f"| Farnebäck between consecutive frames, median per pair | {min(speeds):.3f}–{max(speeds):.3f} px/frame |")
    print(f"| the texture's contrast (std, 0–255): first frame, mid-loop (frame 25), last | {contrast[0]:.1f}, {contrast[24]:.1f}, {contrast[47]:.1f} |")


def synth(strata):
    """The densified field against a known flow: StrataSynth's waterfront (samples/water)
    with its water moving 4 cm a frame along +x and 2 cm along +z in the world; five
    arrows taken from that flow; the field's end-point error over the water, without and
    with the still's depth."""
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "samples", "water")
    camera = json.load(open(os.path.join(root, "camera.json")))
    k = camera["model"]["pinhole"]["_0"]
    rotation = np.array(camera["rotation"]["rows"])
    position = np.array(camera["position"], float)
    mask = cv2.imread(os.path.join(root, "fluid.png"), cv2.IMREAD_GRAYSCALE) > 127
    h, w = mask.shape
    v, u = np.mgrid[0:h, 0:w].astype(float)
    local = np.stack([(u + 0.5 - k["cx"]) / k["fx"], -(v + 0.5 - k["cy"]) / k["fy"], np.ones_like(u)], -1)
    world = local @ rotation.T
    t = -position[1] / np.where(np.abs(world[..., 1]) > 1e-9, world[..., 1], -1e-9)
    point = position + t[..., None] * world + np.array([0.04, 0, 0.02])
    moved = (point - position) @ rotation
    flow = np.stack([k["fx"] * moved[..., 0] / moved[..., 2] + k["cx"] - (u + 0.5),
                     -k["fy"] * moved[..., 1] / moved[..., 2] + k["cy"] - (v + 0.5)], -1)
    ys, xs = np.nonzero(mask)
    order = np.argsort(xs + 0.001 * ys)
    picks = [order[int(q * (len(order) - 1))] for q in (0.1, 0.3, 0.5, 0.7, 0.9)]
    hints = []
    for i in picks:
        x, y = int(xs[i]), int(ys[i])
        f = flow[y, x]
        hints.append({"from": [x, y], "to": [x + 10 * f[0], y + 10 * f[1]], "speed": float(np.hypot(*f))})
    rows = []
    with tempfile.TemporaryDirectory() as work:
        json.dump({"mask": os.path.join(root, "fluid.png"), "hints": hints}, open(os.path.join(work, "hints.json"), "w"))
        for label, depth in (("without depth", None), ("with the still's depth", os.path.join(root, "depth.npy"))):
            inputs = {"image": {"type": "file", "default": os.path.join(root, "color.png")},
                      "hints": {"type": "file", "default": os.path.join(work, "hints.json")}}
            wires = {"image": "$inputs.image", "hints": "$inputs.hints"}
            if depth:
                inputs["depth"] = {"type": "file", "default": depth}
                wires["depth"] = "$inputs.depth"
            spec = {"version": 1, "inputs": inputs, "nodes": [
                {"id": "loop", "stage": "fluid.loop", "inputs": wires, "params": {"frames": 2, "fieldFile": "field.npy"}},
                {"id": "frames", "stage": "image.write", "inputs": {"image": "loop.image"}, "params": {"pattern": "f/%05d.png"}}]}
            json.dump(spec, open(os.path.join(work, "p.json"), "w"))
            out = os.path.join(work, "depth" if depth else "flat")
            subprocess.run([strata, "run", os.path.join(work, "p.json"), "--output-dir", out, "--progress", "none"], check=True)
            field = np.load(os.path.join(out, "field.npy"))
            error = np.linalg.norm(field[mask] - flow[mask], axis=1)
            speed = np.linalg.norm(flow[mask], axis=1)
            rows.append(f"| {label} | {error.mean():.3f} px | {np.median(error / speed):.2f} | {speed.min():.2f}–{speed.max():.2f} px/frame |")
    print("| five arrows from the true flow | mean end-point error | median error / true speed | true speeds |")
    print("|---|---|---|---|")
    print("\n".join(rows))


def fade(strata, still, hints):
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    print("| fade | mean change a frame | largest change of a pixel: mean | 99th percentile |")
    print("|---|---|---|---|")
    for value in [0, 10, -1, 20, 30]:
        with tempfile.TemporaryDirectory() as work:
            spec = json.load(open(os.path.join(root, "Pipelines", "photo-fluid.json")))
            spec["inputs"]["image"]["default"] = os.path.abspath(still)
            spec["inputs"]["hints"]["default"] = os.path.abspath(hints)
            spec["nodes"] = [n for n in spec["nodes"] if n["id"] in ("loop", "frames")]
            spec["nodes"][0]["params"] = {"fade": value}
            json.dump(spec, open(os.path.join(work, "p.json"), "w"))
            subprocess.run([strata, "run", os.path.join(work, "p.json"), "--output-dir", os.path.join(work, "out"), "--progress", "none"],
                           check=True, stderr=subprocess.DEVNULL)
            names = sorted(os.listdir(os.path.join(work, "out", "frames")))
            frames = np.stack([cv2.imread(os.path.join(work, "out", "frames", n)).astype(np.float32) for n in names])
            changes = np.abs(np.diff(frames, axis=0)).mean(axis=3)
            moving = changes.max(axis=0) > 0
            largest = changes.max(axis=0)[moving]
            print(f"| {'default (N/4)' if value < 0 else value} | {changes[:, moving].mean():.2f} | {largest.mean():.2f} | {np.percentile(largest, 99):.1f} |")


def main():
    if sys.argv[2:3] == ["--fade"]:
        fade(sys.argv[1], sys.argv[3], sys.argv[4])
        return
    if sys.argv[2:3] == ["--synth"]:
        synth(sys.argv[1])
        return
    if sys.argv[2:3] == ["--uniform"]:
        uniform(sys.argv[1])
        return
    strata, pipeline, hints_path = sys.argv[1:4]
    still_path = sys.argv[4] if len(sys.argv) > 4 else None
    hints = json.load(open(hints_path))
    labelme = "shapes" in hints
    if labelme:
        # labelme as fluid.loop reads it: two-point lines are arrows (0.05 px/frame per pixel
        # of length), polygons not labelled freeze… are the fluid.
        lines = [s for s in hints["shapes"] if s["shape_type"] in ("line", "linestrip") and len(s["points"]) == 2]
        hints = {"hints": [{"from": s["points"][0], "to": s["points"][1]} for s in lines], "speedPerPixel": 0.05,
                 "polygons": [s["points"] for s in hints["shapes"] if s["shape_type"] == "polygon" and not s["label"].lower().startswith("freeze")]}
    with tempfile.TemporaryDirectory() as work:
        command = [strata, "run", pipeline, "--output-dir", work, "--progress", "none"]
        if still_path:
            command += ["--input", f"image={os.path.abspath(still_path)}", "--input", f"hints={os.path.abspath(hints_path)}"]
        subprocess.run(command, check=True, stderr=subprocess.DEVNULL)
        names = sorted(os.listdir(os.path.join(work, "frames")))
        frames = [cv2.imread(os.path.join(work, "frames", n)).astype(np.float64) for n in names]
        if labelme:
            mask = np.zeros(frames[0].shape[:2], np.uint8)
            for polygon in hints["polygons"]:
                cv2.fillPoly(mask, [np.round(np.array(polygon)).astype(np.int32)], 255)
            mask = mask > 0
        else:
            mask = cv2.imread(os.path.join(os.path.dirname(hints_path), hints["mask"]), cv2.IMREAD_GRAYSCALE) > 127
    n = len(frames)
    steps = [np.abs(frames[i + 1] - frames[i]).mean() for i in range(n - 1)]
    seam = np.abs(frames[0] - frames[-1]).mean()
    # Outside the fluid, away from its edge (the polygon is rasterised here by OpenCV, not
    # by Strata's even-odd rule at pixel centres).
    away = cv2.erode((~mask).astype(np.uint8), np.ones((5, 5), np.uint8)) > 0 if labelme else ~mask
    outside = sum(int((np.abs(f - frames[0]).sum(axis=2)[away] > 0).sum()) for f in frames)
    gray = [cv2.cvtColor(f.astype(np.uint8), cv2.COLOR_BGR2GRAY) for f in frames]
    flows = [cv2.calcOpticalFlowFarneback(gray[i], gray[i + 1], None, 0.5, 3, 15, 3, 5, 1.2, 0) for i in range(n - 1)]
    h, w = gray[0].shape
    yy, xx = np.mgrid[0:h, 0:w]
    print(f"{os.path.basename(pipeline)}: {w}x{h}, {n} frames\n")
    print("| measure | value | goal |")
    print("|---|---|---|")
    print(f"| seam: last → first frame, mean abs difference (0–255) | {seam:.3f} | as consecutive pairs: mean {np.mean(steps):.3f}, range {min(steps):.3f}–{max(steps):.3f} |")
    print(f"| pixels outside the fluid that changed, all frames | {outside} | 0 |")
    for k, hint in enumerate(hints["hints"]):
        (x0, y0), (x1, y1) = hint["from"], hint["to"]
        d = np.array([x1 - x0, y1 - y0], float)
        length = np.linalg.norm(d)
        speed = hint.get("speed", length * hints.get("speedPerPixel", 0.05))
        disc = ((xx - x0) ** 2 + (yy - y0) ** 2 <= 144) & mask
        measured = np.concatenate([f[disc] for f in flows])
        cos = np.median(measured @ d / length / np.maximum(np.linalg.norm(measured, axis=1), 1e-6))
        ratio = np.median(np.linalg.norm(measured, axis=1)) / speed
        # What Farnebäck reads on this texture for a rigid shift of the still by the hint:
        # the estimator's own ceiling here.
        shift = d / length * speed
        moved = cv2.warpAffine(gray[0], np.float32([[1, 0, shift[0]], [0, 1, shift[1]]]), (w, h), borderMode=cv2.BORDER_REFLECT)
        rigid = np.median(np.linalg.norm(cv2.calcOpticalFlowFarneback(gray[0], moved, None, 0.5, 3, 15, 3, 5, 1.2, 0)[disc], axis=1)) / speed
        print(f"| arrow {k + 1} at ({x0:.0f}, {y0:.0f}), {speed:.2f} px/frame: cosine with the hint / measured speed over hinted "
              f"(Farnebäck on a rigid shift of the still by the hint) | {cos:.3f} / {ratio:.2f} ({rigid:.2f}) | ≥ 0.9 / 0.8–1.2 |")

if __name__ == "__main__":
    main()
