import Foundation
@testable import StrataNN

/// Builds small ONNX models in memory for the tests, through the same generated protobuf
/// types the engine reads.
struct ModelBuilder {
    var proto = Onnx_ModelProto()

    init(opset: Int = 17) {
        proto.irVersion = 8
        proto.producerName = "strata-tests"
        var set = Onnx_OperatorSetIdProto()
        set.version = Int64(opset)
        proto.opsetImport = [set]
    }

    static func valueInfo(_ name: String, type: Int32 = 1, shape: [Int?]) -> Onnx_ValueInfoProto {
        var v = Onnx_ValueInfoProto()
        v.name = name
        v.type.tensorType.elemType = type
        v.type.tensorType.shape.dim = shape.map { d in
            var dim = Onnx_TensorShapeProto.Dimension()
            if let d { dim.dimValue = Int64(d) } else { dim.dimParam = "dynamic" }
            return dim
        }
        return v
    }

    mutating func input(_ name: String, type: Int32 = 1, shape: [Int?]) {
        proto.graph.input.append(Self.valueInfo(name, type: type, shape: shape))
    }

    mutating func output(_ name: String, type: Int32 = 1, shape: [Int?]? = nil) {
        var v = Onnx_ValueInfoProto()
        v.name = name
        if let shape { v = Self.valueInfo(name, type: type, shape: shape) } else { v.type.tensorType.elemType = type }
        proto.graph.output.append(v)
    }

    mutating func node(_ op: String, _ inputs: [String], _ outputs: [String], name: String = "", ints: [String: [Int]] = [:], int: [String: Int] = [:]) {
        var n = Onnx_NodeProto()
        n.opType = op
        n.name = name
        n.input = inputs
        n.output = outputs
        for (key, values) in ints {
            var a = Onnx_AttributeProto()
            a.name = key
            a.type = .ints
            a.ints = values.map { Int64($0) }
            n.attribute.append(a)
        }
        for (key, value) in int {
            var a = Onnx_AttributeProto()
            a.name = key
            a.type = .int
            a.i = Int64(value)
            n.attribute.append(a)
        }
        proto.graph.node.append(n)
    }

    /// An int64 initializer (indices, shapes, axes).
    mutating func integers(_ name: String, shape: [Int], values: [Int]) {
        var t = Onnx_TensorProto()
        t.name = name
        t.dataType = 7
        t.dims = shape.map { Int64($0) }
        t.int64Data = values.map { Int64($0) }
        proto.graph.initializer.append(t)
    }

    /// A float initializer stored in the file, or in `external` beside it.
    mutating func weight(_ name: String, shape: [Int], values: [Float], external: String? = nil, offset: Int = 0) {
        var t = Onnx_TensorProto()
        t.name = name
        t.dataType = 1
        t.dims = shape.map { Int64($0) }
        if let external {
            t.dataLocation = .external
            for (k, v) in [("location", external), ("offset", "\(offset)"), ("length", "\(values.count * 4)")] {
                var entry = Onnx_StringStringEntryProto()
                entry.key = k
                entry.value = v
                t.externalData.append(entry)
            }
        } else {
            t.floatData = values
        }
        proto.graph.initializer.append(t)
    }

    func data() throws -> Data { try proto.serializedData() }

    func model() throws -> Model { try Model(data: data(), path: "test.onnx") }
}
