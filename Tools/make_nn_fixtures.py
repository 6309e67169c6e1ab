#!/usr/bin/env python3
"""Writes Tests/StrataNNTests/Fixtures/networks: the real depth architectures (see
Tools/nn_architectures.py) with few, narrow layers and random weights, exported by
PyTorch's ONNX exporter at opsets 11, 14 and 17, each with an input and the output
onnxruntime computes for it. StrataNN must match those outputs.

    pip install torch onnx onnxruntime numpy && python3 Tools/make_nn_fixtures.py

Deterministic: fixed seeds, onnxruntime on one thread with graph optimizations off.
"""
import json
import os
import shutil
import sys

import numpy as np
import onnx
import onnxruntime as ort
import torch

sys.path.insert(0, os.path.dirname(__file__))
from nn_architectures import DPT, DepthAnythingV2, MidasSmall, randomize  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "StrataNNTests", "Fixtures", "networks")
OPSETS = (11, 14, 17)

# name: (model, input sizes (the first is the export's), dynamic height/width)
NETWORKS = {
    "midas_small": (lambda: MidasSmall(widths=(8, 12, 16, 24), stem=8, blocks=(1, 2, 2, 1), features=16, expand=3, head_features=8),
                    [(64, 64)], False),
    "dpt_vit": (lambda: DPT(dim=32, depth=4, heads=2, patch=16, taps=(0, 1, 2, 3), out_channels=(8, 16, 24, 32), features=16,
                            grid=4, head_features=8), [(64, 64)], False),
    "depth_anything_v2": (lambda: DepthAnythingV2(dim=32, depth=4, heads=2, taps=(0, 1, 2, 3), out_channels=(8, 16, 24, 32),
                                                  features=16, grid=6, head_features=8), [(56, 56), (70, 84)], True),
}


def run_ort(path, x):
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x})[0]


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    manifest = []
    for seed, (name, (build, sizes, dynamic)) in enumerate(NETWORKS.items()):
        torch.manual_seed(seed)
        model = randomize(build(), seed)
        with torch.no_grad():
            # The head ends in ReLU: a positive last bias keeps random weights' depth from being all zero.
            model.scratch.head[4].bias.fill_(1.0)
        rng = np.random.default_rng(seed)
        inputs = [rng.random((1, 3, h, w), dtype=np.float32) for h, w in sizes]
        for opset in OPSETS:
            folder = os.path.join(OUT, f"{name}_opset{opset}")
            os.makedirs(folder)
            path = os.path.join(folder, "model.onnx")
            axes = {"image": {2: "height", 3: "width"}, "depth": {1: "height", 2: "width"}} if dynamic else None
            torch.onnx.export(model, torch.from_numpy(inputs[0]), path, opset_version=opset, dynamo=False,
                              input_names=["image"], output_names=["depth"], dynamic_axes=axes)
            onnx.checker.check_model(onnx.load(path))
            ops = sorted({n.op_type for n in onnx.load(path).graph.node})
            for k, x in enumerate(inputs):
                y = run_ort(path, x)
                with torch.no_grad():
                    reference = model(torch.from_numpy(x)).numpy()
                # onnxruntime and PyTorch agree: the export is the network.
                assert np.abs(y - reference).max() <= 1e-4 * max(1.0, float(np.abs(reference).max())), name
                assert y.max() - y.min() > 0.1 * max(1e-6, float(np.abs(y).max())), f"{name}: the output barely varies"
                np.save(os.path.join(folder, f"input_{k}.npy"), x)
                np.save(os.path.join(folder, f"output_{k}.npy"), y)
            manifest.append({"name": f"{name}_opset{opset}", "opset": opset, "inputs": len(inputs), "operators": ops})
            print(f"{name} opset {opset}: {len(ops)} operator types, {os.path.getsize(path)} bytes")
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    total = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(OUT) for f in fs)
    print(f"{total / 1e6:.2f} MB in {OUT}")
    assert total < 10e6


if __name__ == "__main__":
    main()
