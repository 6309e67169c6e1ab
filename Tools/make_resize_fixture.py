#!/usr/bin/env python3
"""Writes Tests/StrataCoreTests/Fixtures/opencv-resize.json: OpenCV's cv2.resize outputs on a fixed float32 image, which Strata's resize must match.

    pip install opencv-python-headless numpy && python3 Tools/make_resize_fixture.py
"""
import json
import pathlib
import cv2
import numpy as np

rng = np.random.default_rng(7)
src = rng.random((5, 7), dtype=np.float32)
cases = []
flags = {"nearest-exact": cv2.INTER_NEAREST_EXACT, "bilinear": cv2.INTER_LINEAR,
         "bicubic": cv2.INTER_CUBIC, "area": cv2.INTER_AREA}
for name, flag in flags.items():
    for (w, h) in [(3, 2), (14, 10), (11, 4), (7, 9)]:
        out = cv2.resize(src, (w, h), interpolation=flag)
        cases.append({"filter": name, "width": w, "height": h, "pixels": out.astype(float).ravel().tolist()})

fixture = {"opencv": cv2.__version__, "width": 7, "height": 5, "source": src.astype(float).ravel().tolist(),
           "resize": cases}
out = pathlib.Path(__file__).resolve().parent.parent / "Tests/StrataCoreTests/Fixtures/opencv-resize.json"
out.write_text(json.dumps(fixture))
print("wrote", out)
