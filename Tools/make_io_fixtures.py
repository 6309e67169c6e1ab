#!/usr/bin/env python3
"""Writes Tests/StrataIOTests/Fixtures: PNG flavours Strata's own writer does not produce
(palette with transparency, 1/2/4-bit gray, Adam7 interlacing, 16-bit gray+alpha) made
with pypng, and an NPY file made with NumPy. Every pixel follows a formula that the tests
recompute, so a decoding error anywhere shows.

    pip install pypng numpy && python3 Tools/make_io_fixtures.py
"""
import pathlib
import numpy as np
import png

out = pathlib.Path(__file__).resolve().parent.parent / "Tests/StrataIOTests/Fixtures"
out.mkdir(parents=True, exist_ok=True)
W, H = 13, 7  # odd sizes exercise row padding and Adam7's partial passes


def value(x, y, c, levels):
    return (x * 3 + y * 5 + c * 7) % levels


def rows(channels, levels):
    return [[value(x, y, c, levels) for x in range(W) for c in range(channels)] for y in range(H)]


for bits in (1, 2, 4, 8, 16):
    with open(out / f"gray{bits}.png", "wb") as f:
        png.Writer(W, H, greyscale=True, bitdepth=bits).write(f, rows(1, 2 ** bits))

with open(out / "rgb16-interlaced.png", "wb") as f:
    png.Writer(W, H, greyscale=False, bitdepth=16, interlace=True).write(f, rows(3, 65536))
with open(out / "rgb8-interlaced.png", "wb") as f:
    png.Writer(W, H, greyscale=False, bitdepth=8, interlace=True).write(f, rows(3, 256))
with open(out / "gray-alpha16.png", "wb") as f:
    png.Writer(W, H, greyscale=True, alpha=True, bitdepth=16).write(f, rows(2, 65536))
with open(out / "rgba8.png", "wb") as f:
    png.Writer(W, H, greyscale=False, alpha=True, bitdepth=8).write(f, rows(4, 256))

# Palette of 16 entries: entry i is (17 i, 255 − 17 i, (40 i) mod 256) with alpha 16 i + 15.
palette = [(17 * i, 255 - 17 * i, (40 * i) % 256, 16 * i + 15) for i in range(16)]
with open(out / "palette4-trns.png", "wb") as f:
    png.Writer(W, H, palette=palette, bitdepth=4).write(f, [[value(x, y, 0, 16) for x in range(W)] for y in range(H)])

# A float32 array (H, W, 2) with value x + 100 y + 0.5 c, and a float64 (H, W) one.
a = np.array([[[x + 100 * y + 0.5 * c for c in range(2)] for x in range(W)] for y in range(H)], dtype="<f4")
np.save(out / "hwc-f4.npy", a)
np.save(out / "hw-f8.npy", a[:, :, 0].astype(">f8"))
print("wrote", sorted(p.name for p in out.iterdir()))
