#!/usr/bin/env python3
"""README's layer figures from real runs (needs numpy, opencv-python-headless):

  docs/pano-layers.jpg    the sample panorama over its layers, near to far, each over a
                          checkerboard where it is transparent (1024 px wide);
  docs/pano-parallax.jpg  frames 1 and 13 of the parallax loop side by side.

Usage: python3 Tools/make_layer_figures.py STRATA (the strata binary); it runs
Pipelines/pano-layers-depth.json and Pipelines/pano-parallax.json into a scratch folder.
"""
import os, subprocess, sys, tempfile
import cv2
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WIDTH = 1024


def over_checkerboard(rgba):
    h, w = rgba.shape[:2]
    y, x = np.mgrid[0:h, 0:w]
    board = np.where(((x // 16 + y // 16) % 2)[..., None] == 0, 200, 150).astype(np.float64)
    alpha = rgba[..., 3:4].astype(np.float64) / 255
    return (rgba[..., :3] * alpha + board * (1 - alpha)).round().astype(np.uint8)


def fit(image, width):
    return cv2.resize(image, (width, image.shape[0] * width // image.shape[1]), interpolation=cv2.INTER_AREA)


def main():
    strata = sys.argv[1]
    with tempfile.TemporaryDirectory() as work:
        layers = os.path.join(work, "layers")
        subprocess.run([strata, "run", os.path.join(ROOT, "Pipelines/pano-layers-depth.json"), "--output-dir", layers,
                        "--progress", "none"], check=True)
        folder = os.path.join(layers, "layers", "00001")
        panels = [fit(cv2.imread(os.path.join(ROOT, "samples/indoor-pano/color.png")), WIDTH)]
        k = 0
        while os.path.exists(os.path.join(folder, f"layer-{k}.png")):
            panels.append(fit(over_checkerboard(cv2.imread(os.path.join(folder, f"layer-{k}.png"), cv2.IMREAD_UNCHANGED)), WIDTH))
            k += 1
        cv2.imwrite(os.path.join(ROOT, "docs/pano-layers.jpg"), np.vstack(panels), [cv2.IMWRITE_JPEG_QUALITY, 85])

        parallax = os.path.join(work, "parallax")
        subprocess.run([strata, "run", os.path.join(ROOT, "Pipelines/pano-parallax.json"), "--output-dir", parallax,
                        "--progress", "none"], check=True)
        frames = [fit(cv2.imread(os.path.join(parallax, "parallax", f"{n:05d}.png")), 640) for n in (1, 13)]
        cv2.imwrite(os.path.join(ROOT, "docs/pano-parallax.jpg"), np.hstack(frames), [cv2.IMWRITE_JPEG_QUALITY, 85])


if __name__ == "__main__":
    main()
