#!/usr/bin/env python3
"""Writes Tests/StrataSphereTests/Fixtures/py360convert-*.npy: py360convert's e2c and e2p
outputs on a smooth 128x64 float32 panorama, which StrataSphere's conversions must match in
orientation (face order, layout, yaw, pitch, roll) to within the two grids' half-pixel
difference (py360convert samples faces edge to edge, Strata at pixel centres).

    pip install py360convert opencv-python-headless numpy && python3 Tools/make_sphere_fixtures.py
"""
import pathlib
import numpy as np
import py360convert

out = pathlib.Path(__file__).resolve().parent.parent / "Tests/StrataSphereTests/Fixtures"
out.mkdir(parents=True, exist_ok=True)

w, h = 128, 64
lon = ((np.arange(w) + 0.5) / w - 0.5) * 2 * np.pi
lat = (0.5 - (np.arange(h) + 0.5) / h) * np.pi
lon, lat = np.meshgrid(lon, lat)
# Smooth on the sphere (functions of the unit vector), different in each channel, so any
# flip, turn or swapped face shows.
x, y, z = np.cos(lat) * np.sin(lon), np.sin(lat), np.cos(lat) * np.cos(lon)
pano = np.stack([0.5 + 0.3 * x + 0.1 * y * z, 0.5 + 0.3 * y - 0.1 * x * z, 0.5 + 0.3 * z + 0.15 * x * y], -1).astype(np.float32)
np.save(out / "py360convert-pano.npy", pano)
np.save(out / "py360convert-e2c-dice.npy", py360convert.e2c(pano, face_w=32, mode="bilinear", cube_format="dice").astype(np.float32))
for name, (u, v, roll) in {"a": (30, 20, 0), "b": (-120, -35, 25)}.items():
    view = py360convert.e2p(pano, fov_deg=(60, 45), u_deg=u, v_deg=v, out_hw=(48, 64), in_rot_deg=roll, mode="bilinear")
    np.save(out / f"py360convert-e2p-{name}.npy", view.astype(np.float32))
print("wrote", sorted(p.name for p in out.glob("py360convert-*.npy")), "py360convert", py360convert.__version__ if hasattr(py360convert, "__version__") else "")
