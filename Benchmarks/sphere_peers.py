#!/usr/bin/env python3
"""The peers' side of Benchmarks/sphere.sh: py360convert (which resamples with OpenCV when
it is installed, and caches its maps) and cv2.remap given precomputed float maps, on the
same float32 RGB panorama, the same geometry and two threads as strata-bench sphere.

    python3 Benchmarks/sphere_peers.py WIDTH HEIGHT REPEATS FOV   -> one JSON line
"""
import json
import sys
import time

import cv2
import numpy as np
import py360convert

cv2.setNumThreads(2)
w, h, repeats, fov = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
n, s = w // 4, w // 8
y, x, c = np.mgrid[0:h, 0:w, 0:3]
pano = (((x * 31 + y * 17 + c * 7) % 255) / 255).astype(np.float32)


def icosahedron_centres():
    phi = (1 + 5 ** 0.5) / 2
    v = np.array([(-1, phi, 0), (1, phi, 0), (-1, -phi, 0), (1, -phi, 0), (0, -1, phi), (0, 1, phi),
                  (0, -1, -phi), (0, 1, -phi), (phi, 0, -1), (phi, 0, 1), (-phi, 0, -1), (-phi, 0, 1)], float)
    faces = [(0, 11, 5), (0, 5, 1), (0, 1, 7), (0, 7, 10), (0, 10, 11), (1, 5, 9), (5, 11, 4), (11, 10, 2), (10, 7, 6), (7, 1, 8),
             (3, 9, 4), (3, 4, 2), (3, 2, 6), (3, 6, 8), (3, 8, 9), (4, 9, 5), (2, 4, 11), (6, 2, 10), (8, 6, 7), (9, 8, 1)]
    out = []
    for f in faces:
        d = v[list(f)].sum(0)
        out.append((np.degrees(np.arctan2(d[0], d[2])), np.degrees(np.arctan2(d[1], np.hypot(d[0], d[2])))))
    return out


centres = icosahedron_centres()


def best(fn):
    fn()  # warm: py360convert builds and caches its samplers on the first call
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times) * 1e3


cube_h = py360convert.e2c(pano, face_w=n, mode="bilinear", cube_format="horizon")
result = {
    "py360_e2c_ms": best(lambda: py360convert.e2c(pano, face_w=n, mode="bilinear", cube_format="horizon")),
    "py360_c2e_ms": best(lambda: py360convert.c2e(cube_h, h, w, mode="bilinear", cube_format="horizon")),
    "py360_e2patches_ms": best(lambda: [py360convert.e2p(pano, fov_deg=fov, u_deg=u, v_deg=v, out_hw=(s, s), mode="bilinear")
                                       for u, v in centres]),
}

# cv2.remap with float maps precomputed for the same geometry (pixel centres, as Strata).
a = (np.arange(n) + 0.5) / n * 2 - 1
aa, bb = np.meshgrid(a, a)
one = np.ones_like(aa)
faces = [(aa, -bb, one), (one, -bb, -aa), (-aa, -bb, -one), (-one, -bb, aa), (aa, one, bb), (aa, -one, -bb)]
dx, dy, dz = (np.concatenate([f[k] for f in faces], axis=1) for k in range(3))
lon, lat = np.arctan2(dx, dz), np.arctan2(dy, np.hypot(dx, dz))
e2c_x = ((lon / (2 * np.pi) + 0.5) * w - 0.5).astype(np.float32)
e2c_y = ((0.5 - lat / np.pi) * h - 0.5).astype(np.float32)

lon = ((np.arange(w) + 0.5) / w - 0.5) * 2 * np.pi
lat = (0.5 - (np.arange(h) + 0.5) / h) * np.pi
lon, lat = np.meshgrid(lon, lat)
ex, ey, ez = np.cos(lat) * np.sin(lon), np.sin(lat), np.cos(lat) * np.cos(lon)
ax, ay, az = np.abs(ex), np.abs(ey), np.abs(ez)
face = np.where((az >= ax) & (az >= ay), np.where(ez > 0, 0, 2), np.where(ax >= ay, np.where(ex > 0, 1, 3), np.where(ey > 0, 4, 5)))
fa = np.select([face == 0, face == 1, face == 2, face == 3, face == 4, face == 5],
               [ex / ez, -ez / ex, ex / ez, -ez / ex, ex / ey, -ex / ey])
fb = np.select([face == 0, face == 1, face == 2, face == 3, face == 4, face == 5],
               [-ey / ez, -ey / ex, ey / ez, ey / ex, ez / ey, ez / ey])
c2e_x = (face * n + (fa + 1) * n / 2 - 0.5).astype(np.float32)
c2e_y = ((fb + 1) * n / 2 - 0.5).astype(np.float32)

f = s / 2 / np.tan(np.radians(fov) / 2)
px, py = np.meshgrid((np.arange(s) + 0.5 - s / 2) / f, -(np.arange(s) + 0.5 - s / 2) / f)
patch_maps = []
for u, v in centres:
    yaw, pitch = np.radians(u), np.radians(v)
    # Pitch about x, then yaw about y (Strata's Rotation with roll 0).
    y1 = py * np.cos(pitch) + np.sin(pitch)
    z1 = -py * np.sin(pitch) + np.cos(pitch)
    x2 = px * np.cos(yaw) + z1 * np.sin(yaw)
    z2 = -px * np.sin(yaw) + z1 * np.cos(yaw)
    lo, la = np.arctan2(x2, z2), np.arctan2(y1, np.hypot(x2, z2))
    patch_maps.append((((lo / (2 * np.pi) + 0.5) * w - 0.5).astype(np.float32), ((0.5 - la / np.pi) * h - 0.5).astype(np.float32)))

result["remap_e2c_ms"] = best(lambda: cv2.remap(pano, e2c_x, e2c_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_WRAP))
result["remap_c2e_ms"] = best(lambda: cv2.remap(cube_h, c2e_x, c2e_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE))
result["remap_e2patches_ms"] = best(lambda: [cv2.remap(pano, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_WRAP) for mx, my in patch_maps])
result.update(width=w, height=h, opencv=cv2.__version__, threads=cv2.getNumThreads())
print(json.dumps(result))
