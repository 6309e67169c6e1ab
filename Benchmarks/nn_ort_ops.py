"""onnxruntime's own time per node kind and shape, from its profiler: the peer's side of
`PROFILE=shapes strata-bench nn MODEL INPUT REPEATS THREADS` (Strata's per-shape times).

    python3 Benchmarks/nn_ort_ops.py MODEL.onnx INPUT.npy THREADS [ROWS]

Runs the model 3 times to warm up, then 10 times profiled, and prints, per node kind (Conv
split into k×k/stride and depthwise), the mean time of a run in ms, then the ROWS slowest
shapes (input, weights) summed over their nodes. onnxruntime reorders convolutions to its
blocked NCHWc layout, so its channel counts show padded to 16 (136 → 144). Needs numpy,
onnxruntime.
"""
import collections
import glob
import json
import os
import sys
import tempfile

import numpy as np
import onnxruntime as ort

model, x, threads = sys.argv[1], np.load(sys.argv[2]), int(sys.argv[3])
rows = int(sys.argv[4]) if len(sys.argv) > 4 else 0
runs = 10
folder = tempfile.mkdtemp()
options = ort.SessionOptions()
options.intra_op_num_threads = threads
options.enable_profiling = True
options.profile_file_prefix = os.path.join(folder, "ort")
session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
name = session.get_inputs()[0].name
for _ in range(3):
    session.run(None, {name: x})
for _ in range(runs):
    session.run(None, {name: x})
events = json.load(open(session.end_profiling()))
nodes = [e for e in events if e.get("cat") == "Node" and e["name"].endswith("_kernel_time")]
# The last `runs` runs' events (the warm-up ones come first).
per_run = len(nodes) // (runs + 3)
nodes = nodes[-runs * per_run:]


def kind(event):
    args = event["args"]
    op = args.get("op_name")
    if op != "Conv":
        return op
    shapes = args["input_type_shape"]
    x, w = list(shapes[0].values())[0], list(shapes[1].values())[0]
    y = list(args["output_type_shape"][0].values())[0]
    k, stride = w[2], (x[2] // y[2] if y[2] else 1)
    depthwise = w[1] == 1 and x[1] == w[0] and w[0] > 1
    return f"Conv {'depthwise ' if depthwise else ''}{k}x{k}/{stride}"


kinds = collections.defaultdict(lambda: [0.0, 0])
shapes = collections.defaultdict(lambda: [0.0, 0])
for e in nodes:
    k = kind(e)
    kinds[k][0] += e["dur"] / 1000.0
    kinds[k][1] += 1
    inputs = e["args"]["input_type_shape"]
    key = (k, str(list(inputs[0].values())[0]), str(list(inputs[1].values())[0]) if len(inputs) > 1 else "")
    shapes[key][0] += e["dur"] / 1000.0
    shapes[key][1] += 1
for k, (t, n) in sorted(kinds.items(), key=lambda kv: -kv[1][0]):
    print(f"{k:26s} {t / runs:7.2f} ms {n // runs:4d} nodes")
print(f"{'all':26s} {sum(t for t, _ in kinds.values()) / runs:7.2f} ms")
for (k, xs, ws), (t, n) in sorted(shapes.items(), key=lambda kv: -kv[1][0])[:rows]:
    print(f"{k:26s} {xs:22s} {ws:22s} {t / runs:6.2f} ms {n // runs:3d} nodes")
for f in glob.glob(os.path.join(folder, "*")):
    os.remove(f)
os.rmdir(folder)
