#!/usr/bin/env python3
"""Reads `strata {json}` and `peer {json}` lines (Benchmarks/pano.sh) and prints the
Markdown rows: best of each side per panorama size, and their ratio."""
import json
import sys

rows = {"strata": [], "peer": []}
for line in sys.stdin:
    side, text = line.split(" ", 1)
    rows[side].append(json.loads(text))
sizes = sorted({(r["width"], r["height"], r["viewSize"]) for r in rows["strata"]})
per_size = len(rows["peer"]) // len(sizes)
for i, (w, h, v) in enumerate(sizes):
    s = min((r for r in rows["strata"] if r["width"] == w), key=lambda r: r["total"])
    p = min(rows["peer"][i * per_size:(i + 1) * per_size], key=lambda r: r["total"])
    print(f"| {w}×{h}, 20 patches of {v}² | {p['total']:.2f} s (split {p['split']:.2f}, align {p['alignment']:.2f}, "
          f"merge {p['merge']:.2f}) | {s['total']:.2f} s (split {s['split']:.3f}, align {s['alignment']:.2f}, "
          f"merge {s['merge']:.2f}; first run {s['first']:.2f}) | {p['total'] / s['total']:.1f}× | "
          f"{p['maxRelativeDifferenceToStrata']:.0e} |")
