"""Camera paths from Strata (`strata-bench sfm`: StrataMotion's tracker and incremental
reconstruction) and from COLMAP 3.8 (Debian's `colmap`: SIFT on the CPU, sequential
matching, the incremental mapper, intrinsics held fixed) on the same frames, with the
same error measures and each one's time, in one run:

- a StrataSynth walk through the room (`strata-bench walk FRAMES WIDTH HEIGHT`, exact poses);
- the real RGB-D frames with a trajectory in `../shared/devdata/rgbd/open3d/` when present
  (development data, never committed).

    python3 Benchmarks/motion_sfm.py STRATA_BENCH [DEVDATA] [FRAMES WIDTH HEIGHT]

Errors: the absolute trajectory error (RMS distance between camera centres after the
similarity that best aligns them, Umeyama), and the relative pose error's rotation (the
mean angle between estimated and true turns from frame to frame), as the TUM RGB-D
benchmark defines them. Needs numpy and `apt-get install colmap`; COLMAP runs headless
(QT_QPA_PLATFORM=offscreen) on two threads, as Strata does.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

bench = sys.argv[1]
devdata = sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(__file__), "..", "..", "shared", "devdata")
walk = [int(v) for v in sys.argv[3:6]] if len(sys.argv) > 5 else [30, 640, 480]
environment = dict(os.environ, QT_QPA_PLATFORM="offscreen")
for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
    environment.pop(name, None)


def quaternion_matrix(qx, qy, qz, qw):
    x, y, z, w = qx, qy, qz, qw
    return np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                     [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                     [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]])


def read_tum(text):
    """Frame index → camera-to-world (R, centre), from a TUM trajectory stamped by index."""
    poses = {}
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        t, x, y, z, qx, qy, qz, qw = map(float, line.split())
        poses[int(round(t))] = (quaternion_matrix(qx, qy, qz, qw), np.array([x, y, z]))
    return poses


def read_colmap(images_txt, names):
    """Frame index → camera-to-world (R, centre) from COLMAP's images.txt."""
    poses = {}
    lines = [l for l in open(images_txt).read().splitlines() if not l.startswith("#")]
    for i in range(0, len(lines) - 1, 2):
        fields = lines[i].split()
        if len(fields) < 10:
            continue
        qw, qx, qy, qz, tx, ty, tz = map(float, fields[1:8])
        r = quaternion_matrix(qx, qy, qz, qw)  # world to camera
        poses[names.index(fields[9])] = (r.T, -r.T @ np.array([tx, ty, tz]))
    return poses


def errors(estimate, truth):
    frames = sorted(set(estimate) & set(truth))
    if len(frames) < 3:
        return None
    a = np.array([estimate[f][1] for f in frames]).T
    b = np.array([truth[f][1] for f in frames]).T
    ma, mb = a.mean(1, keepdims=True), b.mean(1, keepdims=True)
    u, d, vt = np.linalg.svd((b - mb) @ (a - ma).T / len(frames))
    s = np.eye(3)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        s[2, 2] = -1
    rotation = u @ s @ vt
    scale = np.trace(np.diag(d) @ s) / ((a - ma) ** 2).sum(0).mean()
    aligned = scale * rotation @ (a - ma) + mb
    ate = np.sqrt(((aligned - b) ** 2).sum(0).mean())
    turns = []
    for f, g in zip(frames, frames[1:]):
        re = estimate[f][0].T @ estimate[g][0]
        rt = truth[f][0].T @ truth[g][0]
        turns.append(np.degrees(np.arccos(np.clip((np.trace(re.T @ rt) - 1) / 2, -1, 1))))
    length = np.linalg.norm(np.diff(b, axis=1), axis=0).sum()
    return {"placed": len(frames), "ate": ate, "share": ate / length if length > 0 else float("nan"), "rpe_deg": float(np.mean(turns))}


def colmap(frames_dir, k, work):
    database = os.path.join(work, "database.db")
    sparse = os.path.join(work, "sparse")
    os.makedirs(sparse, exist_ok=True)
    steps = [
        ["feature_extractor", "--database_path", database, "--image_path", frames_dir, "--ImageReader.camera_model", "PINHOLE",
         "--ImageReader.single_camera", "1", "--ImageReader.camera_params", ",".join(str(v) for v in k),
         "--SiftExtraction.use_gpu", "0", "--SiftExtraction.num_threads", "2"],
        ["sequential_matcher", "--database_path", database, "--SiftMatching.use_gpu", "0", "--SiftMatching.num_threads", "2"],
        ["mapper", "--database_path", database, "--image_path", frames_dir, "--output_path", sparse, "--Mapper.num_threads", "2",
         "--Mapper.ba_refine_focal_length", "0", "--Mapper.ba_refine_principal_point", "0", "--Mapper.ba_refine_extra_params", "0"],
    ]
    times = []
    for step in steps:
        start = time.perf_counter()
        # The mapper exits with 1 when it finds no initial pair: no model, not a crash.
        subprocess.run(["colmap"] + step, check=step[0] != "mapper", capture_output=True, env=environment)
        times.append(time.perf_counter() - start)
    models = sorted(os.listdir(sparse))
    if not models:
        return None, times
    # The largest model, as text.
    best = max(models, key=lambda m: os.path.getsize(os.path.join(sparse, m, "images.bin")))
    text = os.path.join(work, "text")
    os.makedirs(text, exist_ok=True)
    subprocess.run(["colmap", "model_converter", "--input_path", os.path.join(sparse, best), "--output_path", text, "--output_type", "TXT"],
                   check=True, capture_output=True, env=environment)
    return os.path.join(text, "images.txt"), times


def compare(title, frames_dir, k, truth, work):
    names = sorted(n for n in os.listdir(frames_dir) if n.lower().endswith((".png", ".jpg", ".jpeg")))
    start = time.perf_counter()
    out = subprocess.run([bench, "sfm", frames_dir] + [str(v) for v in k], capture_output=True, text=True, env=environment)
    strata_time = time.perf_counter() - start
    if out.returncode != 0:
        print(f"| {title} | Strata | failed: {out.stderr.strip()[:100]} |")
        return
    strata = errors(read_tum(out.stdout), truth)
    detail = json.loads(out.stderr.strip().splitlines()[-1])
    # COLMAP's principal point has pixel centres at half-integers, as Strata's.
    images_txt, times = colmap(frames_dir, k, os.path.join(work, "colmap"))
    theirs = errors(read_colmap(images_txt, names), truth) if images_txt else None
    total = sum(times)
    row = lambda who, e, seconds, note: print(
        f"| {title} | {who} | {e['placed']} of {len(names)} | {e['ate']:.4f} | {100 * e['share']:.2f}% | {e['rpe_deg']:.3f}° | {seconds:.2f} s | {note} |"
        if e else f"| {title} | {who} | none | | | | {seconds:.2f} s | {note} |")
    row("Strata", strata, strata_time, f"tracking {detail['tracking_s']:.2f} s, reconstruction {detail['reconstruction_s']:.2f} s, {detail['points']} points")
    row("COLMAP 3.8", theirs, total, f"extraction {times[0]:.2f} s, matching {times[1]:.2f} s, mapper {times[2]:.2f} s")
    print(f"| {title} | time ratio | | | | | {strata_time / total:.3f} | |")


print("| frames | who | placed | ATE (truth's unit) | ATE / path length | RPE rotation | time | detail |")
print("|---|---|---|---|---|---|---|---|")
with tempfile.TemporaryDirectory() as work:
    n, w, h = walk
    synthetic = os.path.join(work, "walk")
    subprocess.run([bench, "walk", str(n), str(w), str(h)], check=True, capture_output=True, env=dict(environment, WRITE=synthetic))
    f = w / 2 / np.tan(np.radians(35))
    compare(f"StrataSynth walk, {n} × {w}×{h}", os.path.join(synthetic, "frames"), (f, f, w / 2, h / 2),
            read_tum(open(os.path.join(synthetic, "truth.txt")).read()), os.path.join(work, "w"))
    folder = os.path.join(devdata, "rgbd", "open3d")
    if os.path.isdir(folder):
        lines = open(os.path.join(folder, "trajectory.log")).read().split("\n")
        truth = {}
        for i in range(0, len(lines) - 4, 5):
            if not lines[i].strip():
                break
            m = np.array([[float(v) for v in lines[i + r].split()] for r in range(1, 5)])
            truth[len(truth)] = (m[:3, :3], m[:3, 3])
        # The PrimeSense default: OpenCV's centre 319.5, 239.5 is 320, 240 with centres at half-integers.
        compare("Open3D RGB-D, 5 × 640×480", os.path.join(folder, "color"), (525.0, 525.0, 320.0, 240.0), truth, os.path.join(work, "o"))
    else:
        print(f"(no development data at {folder})")
