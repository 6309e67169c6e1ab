import Foundation

extension Tensor.DataType {
    /// The ONNX TensorProto.DataType code, or nil for types the engine does not hold.
    init?(onnx code: Int32) {
        switch code {
        case 1: self = .float
        case 7: self = .int64
        case 9: self = .bool
        default: return nil
        }
    }
}

/// ONNX element type names, for messages.
let onnxTypeNames: [Int32: String] = [0: "undefined", 1: "float", 2: "uint8", 3: "int8", 4: "uint16", 5: "int16", 6: "int32", 7: "int64",
                                      8: "string", 9: "bool", 10: "float16", 11: "double", 12: "uint32", 13: "uint64",
                                      14: "complex64", 15: "complex128", 16: "bfloat16"]

extension Tensor {
    /// ONNX element types a tensor can come from: float, double, the integers, bool.
    static let heldTypes: Set<Int32> = [1, 11, 2, 3, 4, 5, 6, 7, 12, 13, 9]

    /// A tensor from its protobuf: typed fields, raw little-endian bytes or an external
    /// file. Integer types other than int64 are widened to int64, double narrowed to float.
    init(proto: Onnx_TensorProto, folder: URL?) throws {
        let shape = proto.dims.map { Int($0) }
        guard shape.allSatisfy({ $0 >= 0 }) else { throw NNError.invalidTensor("negative dimension in \(shape)") }
        let count = shape.reduce(1, *)
        var raw = proto.rawData
        if proto.dataLocation == .external {
            raw = try Tensor.externalBytes(proto, folder: folder)
        }
        let code = proto.dataType
        func check(_ n: Int) throws {
            guard n == count else { throw NNError.invalidTensor("\(n) values for shape \(shape)") }
        }
        switch code {
        case 1:  // float
            if !raw.isEmpty {
                try check(raw.count / 4)
                self.init(shape: shape, floats: raw.withUnsafeBytes { buffer in
                    (0..<count).map { Float(bitPattern: UInt32(littleEndian: buffer.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
                })
            } else {
                try check(proto.floatData.count)
                self.init(shape: shape, floats: proto.floatData)
            }
        case 11:  // double
            if !raw.isEmpty {
                try check(raw.count / 8)
                self.init(shape: shape, floats: raw.withUnsafeBytes { buffer in
                    (0..<count).map { Float(Double(bitPattern: UInt64(littleEndian: buffer.loadUnaligned(fromByteOffset: 8 * $0, as: UInt64.self)))) }
                })
            } else {
                try check(proto.doubleData.count)
                self.init(shape: shape, floats: proto.doubleData.map { Float($0) })
            }
        case 7:  // int64
            if !raw.isEmpty {
                try check(raw.count / 8)
                self.init(shape: shape, int64: raw.withUnsafeBytes { buffer in
                    (0..<count).map { Int64(littleEndian: buffer.loadUnaligned(fromByteOffset: 8 * $0, as: Int64.self)) }
                })
            } else {
                try check(proto.int64Data.count)
                self.init(shape: shape, int64: proto.int64Data)
            }
        case 6, 5, 3, 4, 2:  // int32, int16, int8, uint16, uint8 → int64
            let width = [6: 4, 5: 2, 3: 1, 4: 2, 2: 1][code]!
            let signed = code != 4 && code != 2
            if !raw.isEmpty {
                try check(raw.count / width)
                self.init(shape: shape, int64: Tensor.integers(raw, count: count, width: width, signed: signed))
            } else {
                try check(proto.int32Data.count)
                self.init(shape: shape, int64: proto.int32Data.map { Int64($0) })
            }
        case 12, 13:  // uint32, uint64 → int64 (values past Int64.max wrap, as a cast would)
            let width = code == 12 ? 4 : 8
            if !raw.isEmpty {
                try check(raw.count / width)
                self.init(shape: shape, int64: Tensor.integers(raw, count: count, width: width, signed: false))
            } else {
                try check(proto.uint64Data.count)
                self.init(shape: shape, int64: proto.uint64Data.map { Int64(bitPattern: $0) })
            }
        case 9:  // bool
            if !raw.isEmpty {
                try check(raw.count)
                self.init(shape: shape, bools: raw.map { $0 != 0 })
            } else {
                try check(proto.int32Data.count)
                self.init(shape: shape, bools: proto.int32Data.map { $0 != 0 })
            }
        default:
            throw NNError.invalidTensor("element type \(onnxTypeNames[code] ?? "\(code)") is not supported")
        }
    }

    /// `count` little-endian integers of `width` bytes, sign-extended when `signed`, as Int64
    /// (unsigned 64-bit values past Int64.max wrap, as a cast would).
    static func integers(_ raw: Data, count: Int, width: Int, signed: Bool) -> [Int64] {
        raw.withUnsafeBytes { buffer in
            (0..<count).map { i -> Int64 in
                var value: UInt64 = 0
                for b in 0..<width { value |= UInt64(buffer[i * width + b]) << (8 * b) }
                if signed && width < 8 && value >> (8 * width - 1) & 1 == 1 { value |= ~((1 << (8 * UInt64(width))) - 1) }
                return Int64(bitPattern: value)
            }
        }
    }

    /// The bytes of an external-data tensor: `location`, `offset`, `length` beside the model.
    static func externalBytes(_ proto: Onnx_TensorProto, folder: URL?) throws -> Data {
        var entries: [String: String] = [:]
        for entry in proto.externalData { entries[entry.key] = entry.value }
        guard let location = entries["location"] else { throw NNError.invalidTensor("external data without a location") }
        guard let folder else { throw NNError.invalidTensor("external data \"\(location)\" but the model was not loaded from a file") }
        guard !location.hasPrefix("/"), !location.split(separator: "/").contains("..") else {
            throw NNError.invalidTensor("external data location \"\(location)\" must stay beside the model")
        }
        let url = folder.appendingPathComponent(location)
        let handle: FileHandle
        do { handle = try FileHandle(forReadingFrom: url) } catch { throw NNError.invalidTensor("external data file \(url.path) cannot be read") }
        defer { try? handle.close() }
        let offset = UInt64(entries["offset"].flatMap { UInt64($0) } ?? 0)
        try handle.seek(toOffset: offset)
        let bytes: Data?
        if let length = entries["length"].flatMap({ Int($0) }) { bytes = try handle.read(upToCount: length) } else { bytes = try handle.readToEnd() }
        guard let bytes else { throw NNError.invalidTensor("external data file \(url.path) ends before offset \(offset)") }
        return bytes
    }
}
