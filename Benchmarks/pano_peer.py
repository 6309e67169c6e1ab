#!/usr/bin/env python3
"""The peer of Strata's 360° view alignment and merge: the same energy and the same
feathered merge written with NumPy, SciPy and OpenCV, as a Python user of the field would
(360MonoDepth solves its grid alignment with Ceres and blends in Python).

    python3 Benchmarks/pano_peer.py DIR [REPEATS] [feather|gradient]

DIR is written by `strata-bench pano dump W H VIEWSIZE DIR`: pano.npy, views.json, one
distorted-truth disparity per view (viewNN.npy) and Strata's result (strata.npy). Per
repeat the peer cuts the views from the panorama (cv2.remap; the maps are built in the
first repeat and kept, as Strata keeps its maps), aligns the views (correspondences on the
same direction grid, a bilinear 8×7 grid of scale and shift per view, the same smoothness,
gauge and level terms; normal equations as a scipy.sparse matrix solved by
scipy.sparse.linalg.spsolve) and merges them (feathered weights, bilinear reads by
cv2.remap). With `gradient` the merge is gradient-domain as Strata's `blending: gradient`:
each view's own log-depth differences to the right (wrapping) and below, feathered, then
the screened Poisson equation over the equirect (wrap, pole joins, the same ε anchor to the
feathered merge) solved by conjugate gradients preconditioned with PyAMG's smoothed
aggregation, the tool a Python user reaches for. It prints one JSON line: the best
repeat's seconds per phase, and how far its result is from Strata's (which must be the same
up to floating point, or to the solvers' tolerance for `gradient`).
"""
import json
import sys
import time

import cv2
import numpy as np
import scipy.sparse
import scipy.sparse.linalg


def rotation(yaw, pitch, roll):
    y, p, r = np.radians([yaw, pitch, roll])
    yaw_m = np.array([[np.cos(y), 0, np.sin(y)], [0, 1, 0], [-np.sin(y), 0, np.cos(y)]])
    pitch_m = np.array([[1, 0, 0], [0, np.cos(p), np.sin(p)], [0, -np.sin(p), np.cos(p)]])
    roll_m = np.array([[np.cos(r), np.sin(r), 0], [-np.sin(r), np.cos(r), 0], [0, 0, 1]])
    return yaw_m @ pitch_m @ roll_m  # camera to world: world = R @ local


def directions(width, height):
    lon = ((np.arange(width) + 0.5) / width - 0.5) * 2 * np.pi
    lat = (0.5 - (np.arange(height) + 0.5) / height) * np.pi
    lon, lat = np.meshgrid(lon, lat)
    return np.stack([np.cos(lat) * np.sin(lon), np.sin(lat), np.cos(lat) * np.cos(lon)], axis=-1)


def project(view, d):
    """Sample positions (x, y) of world directions d (..., 3) in the view, and z."""
    local = d @ view["R"]  # R^T d for row vectors
    z = local[..., 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        x = local[..., 0] / z * view["fx"] + view["cx"] - 0.5
        y = -local[..., 1] / z * view["fy"] + view["cy"] - 0.5
    return x, y, z


def ray_factor(view, x, y):
    rx = (x + 0.5 - view["cx"]) / view["fx"]
    ry = -(y + 0.5 - view["cy"]) / view["fy"]
    return np.sqrt(rx * rx + ry * ry + 1)


def grid_weights(x, y, w, h, columns, rows):
    """For positions (x, y): four node indices and their bilinear weights."""
    gx = np.clip((x + 0.5) / w * (columns - 1), 0, columns - 1)
    gy = np.clip((y + 0.5) / h * (rows - 1), 0, rows - 1)
    x0 = np.minimum(gx.astype(int), columns - 2)
    y0 = np.minimum(gy.astype(int), rows - 2)
    fx, fy = gx - x0, gy - y0
    nodes = [y0 * columns + x0, y0 * columns + x0 + 1, (y0 + 1) * columns + x0, (y0 + 1) * columns + x0 + 1]
    weights = [(1 - fx) * (1 - fy), fx * (1 - fy), (1 - fx) * fy, fx * fy]
    return nodes, weights


def split(pano, views, maps):
    out = []
    for k, view in enumerate(views):
        if k not in maps:
            h, w = pano.shape[:2]
            ys, xs = np.mgrid[0:view["height"], 0:view["width"]].astype(np.float64)
            local = np.stack([(xs + 0.5 - view["cx"]) / view["fx"], -(ys + 0.5 - view["cy"]) / view["fy"], np.ones_like(xs)], -1)
            d = local @ view["R"].T
            d /= np.linalg.norm(d, axis=-1, keepdims=True)
            lon = np.arctan2(d[..., 0], d[..., 2])
            lat = np.arcsin(np.clip(d[..., 1], -1, 1))
            mx = ((lon / (2 * np.pi) + 0.5) * w - 0.5).astype(np.float32)
            my = ((0.5 - lat / np.pi) * h - 0.5).astype(np.float32)
            maps[k] = (mx, my)
        mx, my = maps[k]
        out.append(cv2.remap(pano, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_WRAP))
    return out


def align(views, disparities, settings):
    columns, rows, smoothness = settings["columns"], settings["rows"], settings["smoothness"]
    nodes_per_view = columns * rows
    per_view = 2 * nodes_per_view
    n = len(views) * per_view
    normalized = []
    for d in disparities:
        valid = d[np.isfinite(d) & (d > 0)]
        normalized.append(d / (np.sort(valid)[len(valid) // 2] if valid.size else 1))
    sh = settings["sampleRows"]
    dirs = directions(2 * sh, sh).reshape(-1, 3)
    # Per view: which directions it sees, and the coefficients of q there.
    entries = []
    for k, view in enumerate(views):
        x, y, z = project(view, dirs)
        inside = (z > 0) & (x >= 0) & (y >= 0) & (x <= view["width"] - 1) & (y <= view["height"] - 1)
        idx = np.nonzero(inside)[0]
        xs, ys = x[idx].astype(np.float32), y[idx].astype(np.float32)
        d = cv2.remap(normalized[k].astype(np.float32), xs[:, None], ys[:, None], cv2.INTER_LINEAR,
                      borderMode=cv2.BORDER_REPLICATE)[:, 0].astype(np.float64)
        keep = np.isfinite(d)
        idx, xs, ys, d = idx[keep], xs[keep].astype(np.float64), ys[keep].astype(np.float64), d[keep]
        f = ray_factor(view, xs, ys)
        nodes, weights = grid_weights(xs, ys, view["width"], view["height"], columns, rows)
        cols = np.stack([k * per_view + nd for nd in nodes] + [k * per_view + nodes_per_view + nd for nd in nodes], 1)
        vals = np.stack([wt * d / f for wt in weights] + [wt / f for wt in weights], 1)
        entries.append((idx, cols, vals, d / f))
    # Pairs of views seeing one direction: one residual row each (q_a - q_b).
    seen = np.zeros(len(dirs), dtype=int)
    for idx, _, _, _ in entries:
        seen[idx] += 1
    lookup = [dict(zip(e[0], range(len(e[0])))) for e in entries]
    row_cols, row_vals = [], []
    level = np.zeros(n)
    level_target, level_count = 0.0, 0
    for a in range(len(views)):
        ia = entries[a][0]
        for b in range(a + 1, len(views)):
            common = np.intersect1d(ia, entries[b][0], assume_unique=True)
            if common.size == 0:
                continue
            pa = np.array([lookup[a][i] for i in common])
            pb = np.array([lookup[b][i] for i in common])
            row_cols.append(np.concatenate([entries[a][1][pa], entries[b][1][pb]], 1))
            row_vals.append(np.concatenate([entries[a][2][pa], -entries[b][2][pb]], 1))
    cols = np.concatenate(row_cols)
    vals = np.concatenate(row_vals)
    m = cols.shape[0]
    a_matrix = scipy.sparse.csr_matrix((vals.ravel(), (np.repeat(np.arange(m), cols.shape[1]), cols.ravel())), shape=(m, n))
    normal = (a_matrix.T @ a_matrix).tolil()
    data_weight = float(m)
    # The level row: Strata adds each view sample once per direction seen by two or more views.
    for e in entries:
        mask = seen[e[0]] >= 2
        np.add.at(level, e[1][mask].ravel(), e[2][mask].ravel())
        level_target += e[3][mask].sum()
        level_count += int(mask.sum())
    per_node = data_weight / (len(views) * nodes_per_view)
    lam, gauge = smoothness * per_node, 1e-3 * per_node
    rhs = np.zeros(n)
    diff_rows = []
    for k in range(len(views)):
        for block in range(2):
            base = k * per_view + block * nodes_per_view
            for gy in range(rows):
                for gx in range(columns):
                    i = base + gy * columns + gx
                    if gx + 1 < columns:
                        diff_rows.append((i, i + 1))
                    if gy + 1 < rows:
                        diff_rows.append((i, i + columns))
                    if block == 0:
                        rhs[i] += gauge
    d_matrix = scipy.sparse.csr_matrix((np.tile([1.0, -1.0], len(diff_rows)),
                                        (np.repeat(np.arange(len(diff_rows)), 2), np.array(diff_rows).ravel())),
                                       shape=(len(diff_rows), n))
    mu = data_weight / level_count ** 2
    normal = (normal.tocsr() + lam * (d_matrix.T @ d_matrix) + gauge * scipy.sparse.identity(n)
              + mu * scipy.sparse.csr_matrix(np.outer(level, level)))
    rhs += mu * level * level_target
    solution = scipy.sparse.linalg.spsolve(normal.tocsc(), rhs)
    return solution, normalized


def merge(views, normalized, solution, settings, width, height, gradient=False):
    columns, rows = settings["columns"], settings["rows"]
    nodes_per_view = columns * rows
    per_view = 2 * nodes_per_view
    dirs = directions(width, height)
    total = np.zeros((height, width))
    weight = np.zeros((height, width))
    gx, wx, gy, wy = (np.zeros((height, width)) for _ in range(4))
    for k, view in enumerate(views):
        h, w = view["height"], view["width"]
        ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
        nodes, weights = grid_weights(xs, ys, w, h, columns, rows)
        s = sum(wt * solution[k * per_view + nd] for nd, wt in zip(nodes, weights))
        t = sum(wt * solution[k * per_view + nodes_per_view + nd] for nd, wt in zip(nodes, weights))
        q = ((s * normalized[k] + t) / ray_factor(view, xs, ys)).astype(np.float32)
        x, y, z = project(view, dirs)
        inside = (z > 0) & (x >= -0.5) & (y >= -0.5) & (x <= w - 0.5) & (y <= h - 0.5)
        u = np.abs(x + 0.5 - w / 2) / (w / 2)
        v = np.abs(y + 0.5 - h / 2) / (h / 2)
        feather = np.where(inside, np.maximum(0, 1 - u) * np.maximum(0, 1 - v), 0)
        sample = cv2.remap(q, x.astype(np.float32), y.astype(np.float32), cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        ok = (feather > 0) & np.isfinite(sample)
        total[ok] += feather[ok] * sample[ok]
        weight[ok] += feather[ok]
        if gradient:
            # The view's own log, read where it sees each pixel (as Strata reads its log image).
            with np.errstate(invalid="ignore", divide="ignore"):
                logq = cv2.remap(np.log(np.where(q > 0, q, np.nan)).astype(np.float32), x.astype(np.float32), y.astype(np.float32),
                                 cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            logq = np.where(inside, logq, np.nan)
            right = np.roll(logq, -1, axis=1) - logq
            below = np.full_like(logq, np.nan)
            below[:-1] = logq[1:] - logq[:-1]
            for g, wsum, diff in ((gx, wx, right), (gy, wy, below)):
                use = ok & np.isfinite(diff)
                g[use] += feather[use] * diff[use]
                wsum[use] += feather[use]
    with np.errstate(invalid="ignore", divide="ignore"):
        merged = np.where(weight > 0, total / weight, np.nan)
        if not gradient:
            return merged
        return poisson(merged, np.where(wx > 0, gx / wx, np.nan), np.where(wy > 0, gy / wy, np.nan))


def poisson(feathered, gx, gy, epsilon=1e-3, tolerance=1e-4):
    """Strata's GradientBlend: min Σ (u_j − u_i − g_ij)² + ε Σ (u_i − u0_i)² in log depth."""
    import pyamg
    h, w = feathered.shape
    with np.errstate(invalid="ignore", divide="ignore"):
        u0 = np.log(np.where(feathered > 0, feathered, np.nan)).ravel()
    active = np.isfinite(u0)
    idx = np.arange(h * w).reshape(h, w)
    pairs = [(idx.ravel(), np.roll(idx, -1, axis=1).ravel(), gx.ravel()),
             (idx[:-1].ravel(), idx[1:].ravel(), gy[:-1].ravel()),
             (idx[0, :w // 2], idx[0, w // 2:w // 2 * 2], np.full(w // 2, np.nan)),
             (idx[-1, :w // 2], idx[-1, w // 2:w // 2 * 2], np.full(w // 2, np.nan))]
    i = np.concatenate([p[0] for p in pairs])
    j = np.concatenate([p[1] for p in pairs])
    g = np.concatenate([p[2] for p in pairs])
    keep = active[i] & active[j]
    i, j, g = i[keep], j[keep], g[keep]
    u = np.where(active, u0, 0)
    # For the correction c = u − u0: the guide minus u0's own difference (0 where no guide).
    h_ij = np.where(np.isfinite(g), g - (u[j] - u[i]), 0)
    n = h * w
    laplacian = scipy.sparse.csr_matrix((np.concatenate([-np.ones(len(i)), -np.ones(len(i))]),
                                         (np.concatenate([i, j]), np.concatenate([j, i]))), shape=(n, n))
    degree = -np.asarray(laplacian.sum(axis=1)).ravel()
    a = laplacian + scipy.sparse.diags(degree + np.where(active, epsilon, 0) + np.where(active | (degree > 0), 0, 1))
    b = np.zeros(n)
    np.add.at(b, i, -h_ij)
    np.add.at(b, j, h_ij)
    solver = pyamg.smoothed_aggregation_solver(a.tocsr(), symmetry="symmetric")
    correction = solver.solve(b, x0=np.zeros(n), tol=tolerance, accel="cg")
    return np.where(active, np.exp(u + correction), np.nan).reshape(h, w)


def main():
    folder = sys.argv[1]
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    gradient = len(sys.argv) > 3 and sys.argv[3] == "gradient"
    settings = json.load(open(f"{folder}/views.json"))
    pano = np.load(f"{folder}/pano.npy").astype(np.float32)
    views = []
    for v in settings["views"]:
        v = dict(v)
        v["R"] = rotation(v["yaw"], v["pitch"], v["roll"])
        v["width"], v["height"] = int(v["width"]), int(v["height"])
        views.append(v)
    disparities = [np.load(f"{folder}/view{k:02d}.npy").astype(np.float64) for k in range(len(views))]
    maps, best, result = {}, None, None
    for _ in range(repeats):
        t0 = time.perf_counter()
        split(pano, views, maps)
        t1 = time.perf_counter()
        solution, normalized = align(views, disparities, settings)
        t2 = time.perf_counter()
        result = merge(views, normalized, solution, settings, settings["width"], settings["height"], gradient)
        t3 = time.perf_counter()
        timing = {"split": t1 - t0, "alignment": t2 - t1, "merge": t3 - t2, "total": t3 - t0}
        if best is None or timing["total"] < best["total"]:
            best = timing
    strata = np.load(f"{folder}/strata{'-gradient' if gradient else ''}.npy")
    both = np.isfinite(strata) & np.isfinite(result)
    difference = float(np.max(np.abs(strata[both] - result[both]) / np.abs(strata[both])))
    mean = float(np.mean(np.abs(strata[both] - result[both]) / np.abs(strata[both])))
    print(json.dumps({**{k: round(v, 3) for k, v in best.items()}, "blending": "gradient" if gradient else "feather",
                      "maxRelativeDifferenceToStrata": round(difference, 6), "meanRelativeDifferenceToStrata": round(mean, 7),
                      "pixelsCompared": int(both.sum())}))


if __name__ == "__main__":
    main()
