#!/usr/bin/env python3
"""Writes Tests/StrataPipelineTests/Fixtures/malformed/: one broken pipeline file per case,
and expected.json mapping each file to the diagnostic code and JSON Pointer the validator
must report first (errors only). Cases start from one valid pipeline and break one thing.

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


def case(name, code, pointer, edit=None, text=None):
    if text is None:
        doc = copy.deepcopy(base)
        edit(doc)
        text = json.dumps(doc, indent=2)
    (out / f"{name}.json").write_text(text)
    cases[f"{name}.json"] = {"code": code, "pointer": pointer}


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
(out / "expected.json").write_text(json.dumps(cases, indent=2, sort_keys=True) + "\n")
print(len(cases), "cases in", out)
