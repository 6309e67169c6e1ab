#!/usr/bin/env python3
"""Writes Tests/StrataDepthTests/Fixtures: what the reference preprocessing of each network
family makes of a committed frame, and what a whole random-weight network plus reference
post-processing outputs, for StrataDepth's DepthEstimator to match.

    pip install opencv-python-headless onnxruntime numpy && python3 Tools/make_depth_fixtures.py
    pip install onnx && python3 Tools/make_depth_fixtures.py --tiny      (the tiny models only)

The preprocessing follows the published code of MiDaS, DPT and Depth Anything V2
(`Resize` with keep_aspect_ratio, ensure_multiple_of and resize_method, on the RGB frame
/ 255 with cv2.INTER_CUBIC, then NormalizeImage and PrepareForNet), written out here so the
fixture needs no clone of those repositories. The networks are the random-weight exports of
Tools/make_nn_fixtures.py, run by onnxruntime (one thread, graph optimizations off); their
output is resized back to the frame with half-pixel bilinear interpolation (PyTorch's
interpolate(mode="bilinear", align_corners=False)).
"""
import json
import pathlib

import cv2
import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "Tests/StrataDepthTests/Fixtures"
NETWORKS = ROOT / "Tests/StrataNNTests/Fixtures/networks"
IMAGENET = ([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])


def constrain(x, multiple, min_val=0, max_val=None):
    y = (np.round(x / multiple) * multiple).astype(int)
    if max_val is not None and y > max_val:
        y = (np.floor(x / multiple) * multiple).astype(int)
    if y < min_val:
        y = (np.ceil(x / multiple) * multiple).astype(int)
    return int(y)


def reference_size(width, height, target, multiple, method):
    scale_w, scale_h = target / width, target / height
    if method == "lower_bound":
        scale_w = scale_h = max(scale_w, scale_h)
    elif method == "upper_bound":
        scale_w = scale_h = min(scale_w, scale_h)
    elif method == "minimal":
        if abs(1 - scale_w) < abs(1 - scale_h):
            scale_h = scale_w
        else:
            scale_w = scale_h
    if method == "lower_bound":
        return constrain(scale_w * width, multiple, min_val=target), constrain(scale_h * height, multiple, min_val=target)
    if method == "upper_bound":
        return constrain(scale_w * width, multiple, max_val=target), constrain(scale_h * height, multiple, max_val=target)
    return constrain(scale_w * width, multiple), constrain(scale_h * height, multiple)


def preprocess(rgb, size, mean, std):
    resized = cv2.resize(rgb, size, interpolation=cv2.INTER_CUBIC)
    normalised = (resized - np.array(mean)) / np.array(std)
    return np.ascontiguousarray(normalised.transpose(2, 0, 1)[None].astype(np.float32))


def run(model, x):
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x})[0]


def bilinear_back(depth, width, height):
    # cv2's INTER_LINEAR is half-pixel bilinear, as interpolate(align_corners=False) when enlarging.
    return cv2.resize(depth.astype(np.float32), (width, height), interpolation=cv2.INTER_LINEAR)


def tiny_models():
    """Tiny models for the bad-input tests: a rank-2 input, an operator nobody runs, a valid
    static 32×32 "network" (the mean of the colour planes), and the same with its batch fixed
    inside the graph (a Reshape to 1 × …), which cannot run cube faces as one batch."""
    def save(name, nodes, inputs, outputs, opset=17, initializers=()):
        graph = helper.make_graph(nodes, name, inputs, outputs, initializer=list(initializers))
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="strata-fixtures")
        model.ir_version = 8
        onnx.save(model, str(OUT / f"{name}.onnx"))
    save("rank2", [helper.make_node("Relu", ["x"], ["y"])],
         [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 64])], [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 64])])
    save("unsupported", [helper.make_node("StrataNoSuchOperator", ["x"], ["y"], name="mystery")],
         [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, None, None])], [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    save("static32", [helper.make_node("ReduceMean", ["x"], ["y"], axes=[1], keepdims=1)],
         [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 32, 32])],
         [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 1, 32, 32])], opset=13)
    save("batch1", [helper.make_node("Reshape", ["x", "shape"], ["r"]), helper.make_node("ReduceMean", ["r"], ["y"], axes=[1], keepdims=1)],
         [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 32, 32])],
         [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 1, 32, 32])], opset=13,
         initializers=[helper.make_tensor("shape", TensorProto.INT64, [4], [1, -1, 32, 32])])


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    frame = cv2.cvtColor(cv2.imread(str(ROOT / "samples/street/color.png")), cv2.COLOR_BGR2RGB) / 255.0
    h, w = frame.shape[:2]
    manifest = {"frame": "samples/street/color.png", "preprocessing": [], "networks": []}
    # Preprocessing of each family on the 640×480 frame; the tensor kept every 8th row and column.
    for preset, (target, multiple, method, (mean, std)) in {
        "midas-v21-small": (256, 32, "upper_bound", IMAGENET),
        "dpt-large": (384, 32, "minimal", ([0.5] * 3, [0.5] * 3)),
        "depth-anything-v2-small": (518, 14, "lower_bound", IMAGENET),
    }.items():
        size = reference_size(w, h, target, multiple, method)
        tensor = preprocess(frame, size, mean, std)
        np.save(OUT / f"preprocess_{preset}.npy", tensor[:, :, ::8, ::8])
        manifest["preprocessing"].append({"preset": preset, "width": size[0], "height": size[1], "stride": 8})
    # Whole networks on a 90×66 crop: MiDaS at its static 64×64, Depth Anything (dynamic) at
    # a target of 56 with its multiple of 14 and lower bound.
    crop = np.ascontiguousarray(frame[200:266, 300:390])
    cv2.imwrite(str(OUT / "crop.png"), cv2.cvtColor((crop * 255).round().astype(np.uint8), cv2.COLOR_RGB2BGR))
    crop = cv2.cvtColor(cv2.imread(str(OUT / "crop.png")), cv2.COLOR_BGR2RGB) / 255.0
    ch, cw = crop.shape[:2]
    for name, model, size in [
        ("midas_small", NETWORKS / "midas_small_opset17/model.onnx", (64, 64)),
        ("depth_anything_v2", NETWORKS / "depth_anything_v2_opset17/model.onnx", reference_size(cw, ch, 56, 14, "lower_bound")),
    ]:
        raw = run(model, preprocess(crop, size, *IMAGENET))
        depth = bilinear_back(raw.reshape(raw.shape[-2:]), cw, ch)
        np.save(OUT / f"network_{name}.npy", depth[None])
        manifest["networks"].append({"name": name, "model": str(model.relative_to(ROOT)), "width": size[0], "height": size[1]})
    tiny_models()
    (OUT / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    print("wrote", OUT)


if __name__ == "__main__":
    import sys
    # --tiny: only the tiny models (needs onnx alone).
    tiny_models() if "--tiny" in sys.argv[1:] else main()
