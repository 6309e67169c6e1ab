#!/usr/bin/env bash
# 360° depth from views (issue 17): Strata's split + alignment (20 tangent patches, an 8×7
# grid of scale and shift per patch) + merge, feathered and gradient-domain, against the
# same energy and merges in NumPy/SciPy/OpenCV/PyAMG (Benchmarks/pano_peer.py), in one run,
# alternating; then the quality of each strategy on StrataSynth's room with exact depth.
# Prints Markdown rows and the CPU.
#
#   bash Benchmarks/pano.sh        (needs: pip install numpy scipy opencv-python-headless pyamg)
set -euo pipefail
unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-2}
swift build -c release --product strata-bench >/dev/null
bench="$(swift build -c release --show-bin-path)/strata-bench"
work=Benchmarks/work/pano
for size in "2048 1024 256" "4096 2048 512"; do
    set -- $size
    "$bench" pano dump "$1" "$2" "$3" "$work-$1"
    for _ in $(seq "$ROUNDS"); do
        for blending in feather gradient; do
            "$bench" pano speed "$1" "$2" "$3" 3 "$blending" | sed 's/^/strata /'
            python3 Benchmarks/pano_peer.py "$work-$1" "$([ "$blending" = gradient ] && echo 1 || echo 3)" "$blending" | sed 's/^/peer /'
        done
    done
done | python3 Benchmarks/pano_table.py
echo
grep -m1 "model name" /proc/cpuinfo
echo "ISA: $(grep -o -w -E 'avx512f|avx2|fma' /proc/cpuinfo | sort -u | tr '\n' ' ')"
python3 -c "import ctypes; l = ctypes.CDLL('libopenblas.so.0'); l.openblas_get_corename.restype = ctypes.c_char_p; print('OpenBLAS core:', l.openblas_get_corename().decode())"
echo
"$bench" pano quality 1024 512
