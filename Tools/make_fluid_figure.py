#!/usr/bin/env python3
"""README's fluid figure from a real run (needs numpy, opencv-python-headless):
docs/photo-fluid.jpg, frames 1 and 13 of Pipelines/photo-fluid.json and its field on the
colour wheel, cropped to the water.

Usage: python3 Tools/make_fluid_figure.py STRATA (the strata binary).
"""
import os, subprocess, sys, tempfile
import cv2
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    with tempfile.TemporaryDirectory() as work:
        subprocess.run([sys.argv[1], "run", os.path.join(ROOT, "Pipelines/photo-fluid.json"), "--output-dir", work,
                        "--progress", "none"], check=True)
        rows = slice(100, 210)
        panels = [cv2.imread(os.path.join(work, name))[rows] for name in ("frames/00001.png", "frames/00013.png", "field.png")]
        cv2.imwrite(os.path.join(ROOT, "docs/photo-fluid.jpg"), np.vstack(panels), [cv2.IMWRITE_JPEG_QUALITY, 88])


if __name__ == "__main__":
    main()
