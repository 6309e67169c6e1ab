#!/usr/bin/env python3
"""The peer's side of Benchmarks/nn.sh.

    python3 Benchmarks/nn_peers.py export DIR     -> DIR/{dav2_small_518,midas_small_256}.onnx and inputs
    python3 Benchmarks/nn_peers.py run MODEL INPUT REPEATS THREADS   -> one JSON line
    python3 Benchmarks/nn_peers.py once MODEL INPUT OUTPUT.npy THREADS  (Benchmarks/nn_process.sh)

The graphs are the full-size architectures of Tools/nn_architectures.py with random
weights (Depth Anything V2 Small: ViT-S/14, 384 wide, 12 blocks, DPT head of 64 features,
at 518×518; MiDaS v2.1 small: EfficientNet-Lite3 widths, 64 features, at 256×256),
exported by PyTorch at opset 17 with static shapes.
"""
import json
import os
import resource
import sys
import time


def export(folder):
    import numpy as np
    import torch

    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "Tools"))
    from nn_architectures import DepthAnythingV2, MidasSmall, randomize

    os.makedirs(folder, exist_ok=True)
    for name, build, size in [("dav2_small_518", lambda: DepthAnythingV2(), 518), ("midas_small_256", lambda: MidasSmall(), 256)]:
        path = os.path.join(folder, name + ".onnx")
        x = np.random.default_rng(0).random((1, 3, size, size), dtype=np.float32)
        np.save(os.path.join(folder, name + ".npy"), x)
        if os.path.exists(path):
            continue
        model = randomize(build(), 0)
        torch.onnx.export(model, torch.from_numpy(x), path, opset_version=17, dynamo=False, input_names=["image"], output_names=["depth"])


def run(model, input_path, repeats, threads):
    import numpy as np
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    start = time.perf_counter()
    session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    load = time.perf_counter() - start
    x = np.load(input_path)
    feeds = {session.get_inputs()[0].name: x}
    session.run(None, feeds)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        session.run(None, feeds)
        times.append(time.perf_counter() - start)
    times.sort()
    print(json.dumps({"best_ms": round(times[0] * 1e3, 1), "median_ms": round(times[len(times) // 2] * 1e3, 1), "load_s": round(load, 2),
                      "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1), "threads": threads,
                      "onnxruntime": ort.__version__}))


def once(model, input_path, output_path, threads):
    """What a user's script does for one image: import, load, run once, save the output."""
    import numpy as np
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    x = np.load(input_path)
    (y,) = session.run(None, {session.get_inputs()[0].name: x})[:1]
    np.save(output_path, y)


if __name__ == "__main__":
    if sys.argv[1] == "once":
        once(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
    elif sys.argv[1] == "export":
        export(sys.argv[2])
    else:
        run(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
