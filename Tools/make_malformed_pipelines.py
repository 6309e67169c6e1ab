#!/usr/bin/env python3
"""Writes Tests/StrataPipelineTests/Fixtures/malformed/: one broken pipeline file per case,
and expected.json mapping each file to the diagnostic code, JSON Pointer and exit code that
building a run must report first (errors only). Cases start from one valid pipeline and
break one thing: in the file, or in the command line that runs it ("args": --input values,
--set overrides, --frames, the output folder). In args, $video is a readable clip the test
makes, $text a text file named like a video, $folder a folder, $missing a path that does
not exist, $underFile a path below a regular file; the output folder defaults to a fresh one.

    python3 Tools/make_malformed_pipelines.py
"""
import copy
import json
import pathlib

out = pathlib.Path(__file__).resolve().parent.parent / "Tests/StrataPipelineTests/Fixtures/malformed"
out.mkdir(parents=True, exist_ok=True)
for old in out.glob("*.json"):
    old.unlink()

base = {
    "version": 1, "name": "base", "inputs": {"video": {"type": "video"}},
    "nodes": [
        {"id": "frames", "stage": "video.decode", "inputs": {"source": "$inputs.video"}, "params": {"step": 2}},
        {"id": "small", "stage": "image.resize", "inputs": {"image": "frames.image"}, "params": {"width": 320, "height": 180}},
        {"id": "save", "stage": "image.write", "inputs": {"image": "small.image"}, "params": {"pattern": "f/%05d.png"}},
    ],
}
cases = {}


RUN_CODES = {"undeclared_input": 64, "input_not_given": 64, "invalid_override": 64, "resume_unsupported": 64,
             "no_frames": 64, "shard_mode": 64, "not_shardable": 64, "input_not_found": 66, "records_missing": 66,
             "output_not_writable": 73}


def case(name, code, pointer, edit=None, text=None, args=None, exit=None):
    if text is None:
        doc = copy.deepcopy(base)
        if edit:
            edit(doc)
        text = json.dumps(doc, indent=2)
    (out / f"{name}.json").write_text(text)
    entry = {"code": code, "pointer": pointer, "exit": exit or RUN_CODES.get(code, 65),
             "args": {"inputs": {"video": "$video"}, **(args or {})}}
    cases[f"{name}.json"] = entry


def setp(path, value):
    def edit(doc):
        target = doc
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return edit


def delete(path):
    def edit(doc):
        target = doc
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]
    return edit


good = json.dumps(base, indent=2)
case("syntax-single-quotes", "invalid_json", "", text=good.replace('"base"', "'base'"))
case("syntax-missing-colon", "invalid_json", "", text=good.replace('"name": "base"', '"name" "base"'))
case("syntax-unclosed", "invalid_json", "", text=good[:-2])
case("syntax-empty", "invalid_json", "", text="")
case("syntax-not-object", "invalid_type", "", text="[1, 2]")
case("version-string", "invalid_type", "/version", setp(["version"], "1"))
case("version-missing", "missing_field", "/version", delete(["version"]))
case("version-2", "unsupported_version", "/version", setp(["version"], 2))
case("nodes-missing", "missing_field", "/nodes", delete(["nodes"]))
case("nodes-object", "invalid_type", "/nodes", setp(["nodes"], {"a": 1}))
case("node-id-number", "invalid_type", "/nodes/1/id", setp(["nodes", 1, "id"], 5))
case("node-id-missing", "missing_field", "/nodes/2/id", delete(["nodes", 2, "id"]))
case("node-stage-missing", "missing_field", "/nodes/0/stage", delete(["nodes", 0, "stage"]))
case("node-inputs-array", "invalid_type", "/nodes/1/inputs", setp(["nodes", 1, "inputs"], ["frames.image"]))
case("node-edge-number", "invalid_type", "/nodes/2/inputs/image", setp(["nodes", 2, "inputs", "image"], 3))
case("input-type-missing", "missing_field", "/inputs/video/type", setp(["inputs", "video"], {}))
case("input-type-unknown", "invalid_type", "/inputs/video/type", setp(["inputs", "video", "type"], "movie"))
case("unknown-stage", "unknown_stage", "/nodes/1/stage", setp(["nodes", 1, "stage"], "image.resise"))
case("unknown-stage-far", "unknown_stage", "/nodes/2/stage", setp(["nodes", 2, "stage"], "teleport"))
case("duplicate-id", "duplicate_id", "/nodes/2/id", setp(["nodes", 2, "id"], "frames"))
case("edge-no-dot", "invalid_edge", "/nodes/2/inputs/image", setp(["nodes", 2, "inputs", "image"], "small"))
case("edge-empty-port", "invalid_edge", "/nodes/2/inputs/image", setp(["nodes", 2, "inputs", "image"], "small."))
case("unknown-input", "unknown_input", "/nodes/0/inputs/source", setp(["nodes", 0, "inputs", "source"], "$inputs.clip"))
case("unknown-node", "unknown_node", "/nodes/2/inputs/image", setp(["nodes", 2, "inputs", "image"], "smal.image"))
case("unknown-output-port", "unknown_port", "/nodes/2/inputs/image", setp(["nodes", 2, "inputs", "image"], "small.img"))
case("unknown-input-port", "unknown_port", "/nodes/1/inputs/picture", setp(["nodes", 1, "inputs"], {"image": "frames.image", "picture": "frames.image"}))
case("missing-input", "missing_input", "/nodes/2/inputs", setp(["nodes", 2, "inputs"], {}))
case("type-mismatch-video", "type_mismatch", "/nodes/1/inputs/image", setp(["nodes", 1, "inputs", "image"], "$inputs.video"))
case("type-mismatch-image", "type_mismatch", "/nodes/0/inputs/source", lambda d: (d["nodes"][0]["inputs"].update(source="small.image")))
case("cycle-two", "cycle_detected", "/nodes", lambda d: d["nodes"][1]["inputs"].update(image="small.image"))
case("param-below-min", "param_invalid", "/nodes/1/params/width", setp(["nodes", 1, "params", "width"], 0))
case("param-above-max", "param_invalid", "/nodes/1/params/width", setp(["nodes", 1, "params", "width"], 100000))
case("param-not-integer", "param_invalid", "/nodes/1/params/width", setp(["nodes", 1, "params", "width"], 320.5))
case("param-wrong-type", "param_invalid", "/nodes/0/params/step", setp(["nodes", 0, "params", "step"], "2"))
case("param-bad-choice", "param_invalid", "/nodes/1/params/filter", setp(["nodes", 1, "params", "filter"], "lanczos"))
case("param-bool-type", "param_invalid", "/nodes/0/params/autorotate", setp(["nodes", 0, "params", "autorotate"], 1))
case("param-null", "param_invalid", "/nodes/2/params/pattern", setp(["nodes", 2, "params", "pattern"], None))
case("unknown-param", "unknown_param", "/nodes/1/params/widht", setp(["nodes", 1, "params"], {"widht": 320}))
case("unknown-param-escaped", "unknown_param", "/nodes/1/params/a~1b", setp(["nodes", 1, "params"], {"a/b": 1}))
case("no-sink", "no_sink", "/nodes", lambda d: d["nodes"].pop())
case("params-not-object", "invalid_type", "/nodes/1/params", setp(["nodes", 1, "params"], 3))
# Problems found when the run is built: the command line, the files it names, the stages' own checks.
case("run-input-missing-file", "input_not_found", "/inputs/video", args={"inputs": {"video": "$missing"}})
case("run-input-is-folder", "input_not_found", "/inputs/video", args={"inputs": {"video": "$folder"}})
case("run-input-default-missing", "input_not_found", "/inputs/video",
     setp(["inputs", "video"], {"type": "video", "default": "no-such-clip.mp4"}), args={"inputs": {}})
case("run-input-not-given", "input_not_given", "/inputs/video", args={"inputs": {}})
case("run-input-undeclared", "undeclared_input", "/inputs", args={"inputs": {"video": "$video", "audio": "$video"}})
case("run-input-not-a-video", "setup_failed", "/nodes/0", args={"inputs": {"video": "$text"}})
case("run-input-number-text", "invalid_type", "/inputs/scale",
     lambda d: d["inputs"].update(scale={"type": "number"}), args={"inputs": {"video": "$video", "scale": "big"}})
case("run-sequence-missing", "input_not_found", "/inputs/frames",
     lambda d: (d.update(inputs={"frames": {"type": "imageSequence"}}),
                d["nodes"][0].update(stage="sequence.read", inputs={"source": "$inputs.frames"}, params={})),
     args={"inputs": {"frames": "$missing/%05d.png"}})
case("run-output-under-file", "output_not_writable", "", args={"outputDir": "$underFile"})
case("run-pattern-no-number", "param_invalid", "/nodes/2/params/pattern", setp(["nodes", 2, "params", "pattern"], "out.png"))
case("run-pattern-absolute", "param_invalid", "/nodes/2/params/pattern", setp(["nodes", 2, "params", "pattern"], "/tmp/strata/%05d.png"))
case("run-pattern-escapes", "param_invalid", "/nodes/2/params/pattern", setp(["nodes", 2, "params", "pattern"], "../%05d.png"))
case("run-pattern-extension", "param_invalid", "/nodes/2/params/pattern", setp(["nodes", 2, "params", "pattern"], "f/%05d.gif"))
case("run-write-bit-depth", "param_invalid", "/nodes/2/params/bitDepth", setp(["nodes", 2, "params", "bitDepth"], 12))
case("run-resize-no-size", "param_invalid", "/nodes/1/params/width", setp(["nodes", 1, "params"], {"filter": "area"}))
case("run-colorize-half-range", "param_invalid", "/nodes/3/params/max",
     lambda d: d["nodes"].extend([
         {"id": "tint", "stage": "depth.colorize", "inputs": {"depth": "render.depth"}, "params": {"min": 1}},
         {"id": "render", "stage": "synth.render", "params": {"width": 8, "height": 4}},
         {"id": "see", "stage": "image.write", "inputs": {"image": "tint.image"}, "params": {"pattern": "t/%05d.png"}}]))
case("run-synth-unknown-scene", "param_invalid", "/nodes/3/params/scene",
     lambda d: d["nodes"].extend([
         {"id": "render", "stage": "synth.render", "params": {"scene": "castle"}},
         {"id": "keep", "stage": "depth.write", "inputs": {"depth": "render.depth"}}]))
case("run-override-syntax", "invalid_override", "", args={"set": ["small.width"]})
case("run-override-unknown-node", "invalid_override", "", args={"set": ["smal.width=64"]})
case("run-override-bad-value", "param_invalid", "/nodes/1/params/width", args={"set": ["small.width=0"]})
case("run-override-unknown-param", "unknown_param", "/nodes/1/params/widht", args={"set": ["small.widht=64"]})
case("run-frames-past-end", "no_frames", "", args={"frames": "500-"})

# Sphere stages.
case("sphere-patches-to-image-write", "type_mismatch", "/nodes/3/inputs/image",
     lambda d: d["nodes"].insert(2, {"id": "tiles", "stage": "sphere.toPatches", "inputs": {"image": "small.image"}})
     or d["nodes"][3]["inputs"].update(image="tiles.patches"))
case("sphere-face-pattern-on-image", "param_invalid", "/nodes/2/params/pattern", setp(["nodes", 2, "params", "pattern"], "f/%05d_{face}.png"))
case("sphere-padding-over-face", "param_invalid", "/nodes/2/params/padding",
     lambda d: d["nodes"].insert(2, {"id": "cube", "stage": "sphere.toCube", "inputs": {"image": "small.image"},
                                     "params": {"faceSize": 16, "padding": 17}})
     or d["nodes"][3]["inputs"].update(image="cube.faces"))
case("sphere-unknown-layout", "param_invalid", "/nodes/2/params/layout",
     lambda d: d["nodes"].insert(2, {"id": "tiles", "stage": "sphere.toPatches", "inputs": {"image": "small.image"},
                                     "params": {"layout": "dodecahedron"}})
     or d["nodes"].append({"id": "merge", "stage": "sphere.fromPatches", "inputs": {"patches": "tiles.patches"}})
     or d["nodes"][3]["inputs"].update(image="merge.image"))

# Depth stages.
def with_depth(params, write=None):
    def edit(d):
        d["nodes"].insert(2, {"id": "depth", "stage": "depth.estimate", "inputs": {"image": "small.image"}, "params": params})
        d["nodes"].append({"id": "depthfiles", "stage": "depth.write", "inputs": {"depth": "depth.depth"},
                           "params": write or {"pattern": "d/%05d.png"}})
    return edit


case("depth-preset-without-model", "param_invalid", "/nodes/2/params/preset", with_depth({"preset": "dpt-large"}))
case("depth-unknown-preset", "param_invalid", "/nodes/2/params/preset", with_depth({"model": "x.onnx", "preset": "midas-v4"}))
case("depth-model-missing", "setup_failed", "/nodes/2", with_depth({"model": "/nonexistent/depth.onnx", "preset": "midas-v21-small"}), exit=66)
case("depth-cube-padding-without-network", "param_invalid", "/nodes/2/params/padding", with_depth({"strategy": "cube", "padding": "network"}))
case("layers-too-many", "param_invalid", "/nodes/5/params/layers",
     lambda d: with_depth({})(d) or d["nodes"].append({"id": "layered", "stage": "layers.write",
                                                      "inputs": {"image": "small.image", "depth": "depth.depth"}, "params": {"layers": 9}}))
case("depth-write-min-without-max", "param_invalid", "/nodes/4/params/max", with_depth({}, {"pattern": "d/%05d.png", "min": 0}))
case("depth-align-confidence-from-image", "type_mismatch", "/nodes/3/inputs/depth",
     lambda d: with_depth({})(d) or d["nodes"].insert(3, {"id": "align", "stage": "depth.align", "inputs": {"depth": "small.image"}}))

# Sharding: --finalize where no stage needs it, and before any shard wrote its records.
case("shard-finalize-not-needed", "shard_mode", "", args={"finalize": True})
case("shard-finalize-before-shards", "records_missing", "",
     lambda d: with_depth({})(d) or d["nodes"].insert(3, {"id": "align", "stage": "depth.align", "inputs": {"depth": "depth.depth"}})
     or d["nodes"][5]["inputs"].update(depth="align.depth"), args={"finalize": True})
(out / "expected.json").write_text(json.dumps(cases, indent=2, sort_keys=True) + "\n")
print(len(cases), "cases in", out)
