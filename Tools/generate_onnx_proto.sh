#!/usr/bin/env bash
# Regenerates Sources/StrataNN/Proto/onnx.pb.swift, StrataNN's reading of ONNX files, from
# the onnx.proto that Debian's libonnx-dev ships (ONNX 1.12, IR version 8, opsets ≤ 17;
# newer files parse too: protobuf skips fields it does not know).
#
#   sudo apt-get install protobuf-compiler libonnx-dev
#   bash Tools/generate_onnx_proto.sh
#
# protoc-gen-swift is built from the swift-protobuf release the package depends on (1.39.0),
# so the generated code matches the runtime library. Internal visibility: the protobuf
# types are StrataNN's business; its API speaks Tensor, Node and Model.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git clone -q --branch 1.39.0 https://github.com/apple/swift-protobuf "$work/swift-protobuf"
swift build -c release --package-path "$work/swift-protobuf" --product protoc-gen-swift
cp /usr/include/onnx/onnx.proto "$work/onnx.proto"
(cd "$work" && protoc --plugin="$work/swift-protobuf/.build/release/protoc-gen-swift" \
    --swift_out=. --swift_opt=Visibility=Internal onnx.proto)
cp "$work/onnx.pb.swift" Sources/StrataNN/Proto/onnx.pb.swift
echo "wrote Sources/StrataNN/Proto/onnx.pb.swift"
