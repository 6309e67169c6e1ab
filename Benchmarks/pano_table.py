#!/usr/bin/env python3
"""Reads `strata {json}` and `peer {json}` lines (Benchmarks/pano.sh) and prints the
Markdown rows: best of each side per panorama size and blending, and their ratio."""
import json
import sys

rows = {"strata": [], "peer": []}
for line in sys.stdin:
    side, text = line.split(" ", 1)
    rows[side].append(json.loads(text))
# Peer lines carry no size: they come in the order of the Strata line before each.
for strata, peer in zip(rows["strata"], rows["peer"]):
    peer["width"], peer["viewSize"] = strata["width"], strata["viewSize"]
keys = sorted({(r["width"], r["height"], r["viewSize"], r["blending"]) for r in rows["strata"]}, key=lambda k: (k[0], k[3] != "feather"))
for w, h, v, blending in keys:
    s = min((r for r in rows["strata"] if r["width"] == w and r["blending"] == blending), key=lambda r: r["total"])
    p = min((r for r in rows["peer"] if r["width"] == w and r["blending"] == blending), key=lambda r: r["total"])
    print(f"| {w}×{h}, 20 patches of {v}², {blending} | {p['total']:.2f} s (split {p['split']:.2f}, align {p['alignment']:.2f}, "
          f"merge {p['merge']:.2f}) | {s['total']:.2f} s (split {s['split']:.3f}, align {s['alignment']:.2f}, "
          f"merge {s['merge']:.2f}; first run {s['first']:.2f}) | {p['total'] / s['total']:.1f}× | "
          f"{p['maxRelativeDifferenceToStrata']:.0e} |")
