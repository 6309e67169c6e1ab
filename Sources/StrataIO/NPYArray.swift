import Foundation
import StrataCore

/// An n-dimensional NumPy array as `.npy` holds it: any shape, C order, float32, int64 or
/// bool elements (other numeric types are read into the nearest of those).
public struct NPYArray: Sendable, Equatable {
    /// The elements.
    public enum Elements: Sendable, Equatable {
        case float([Float])
        case int64([Int64])
        case bool([Bool])
    }

    /// Extent of each axis (empty for a scalar).
    public var shape: [Int]
    /// The elements, row-major.
    public var elements: Elements

    /// An array; the element count must be the product of `shape`.
    public init(shape: [Int], elements: Elements) {
        let n: Int
        switch elements {
        case .float(let v): n = v.count
        case .int64(let v): n = v.count
        case .bool(let v): n = v.count
        }
        precondition(n == shape.reduce(1, *), "\(n) elements for shape \(shape)")
        (self.shape, self.elements) = (shape, elements)
    }

    /// Decodes `.npy` bytes: floating types become float32, integers int64, bool bool.
    public static func decode(_ data: Data, path: String = "<memory>") throws -> NPYArray {
        let bytes = [UInt8](data)
        let h = try NPY.header(bytes, path: path)
        let count = h.shape.reduce(1, *)
        return bytes.withUnsafeBytes { raw in
            switch h.kind {
            case "f4", "f8", "f2":
                return NPYArray(shape: h.shape, elements: .float((0..<count).map { Float(NPY.element(raw, h, $0)) }))
            case "b1":
                return NPYArray(shape: h.shape, elements: .bool((0..<count).map { raw[h.dataStart + $0] != 0 }))
            case "i8", "u8":
                // Straight from the bits: Double would round values past 2^53.
                return NPYArray(shape: h.shape, elements: .int64((0..<count).map { i in
                    let v = raw.loadUnaligned(fromByteOffset: h.dataStart + i * 8, as: Int64.self)
                    return h.little ? Int64(littleEndian: v) : Int64(bigEndian: v)
                }))
            default:
                return NPYArray(shape: h.shape, elements: .int64((0..<count).map { Int64(NPY.element(raw, h, $0)) }))
            }
        }
    }

    /// Encodes as `.npy` version 1.0: `<f4`, `<i8` or `|b1`.
    public func encode() -> Data {
        let descr: String
        var body = Data()
        switch elements {
        case .float(let v):
            descr = "<f4"
            v.withUnsafeBytes { raw in for value in raw.bindMemory(to: UInt32.self) { withUnsafeBytes(of: value.littleEndian) { body.append(contentsOf: $0) } } }
        case .int64(let v):
            descr = "<i8"
            for value in v { withUnsafeBytes(of: value.littleEndian) { body.append(contentsOf: $0) } }
        case .bool(let v):
            descr = "|b1"
            body.append(contentsOf: v.map { $0 ? 1 : 0 })
        }
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeText), }"
        // Pad so that the data starts on a 64-byte boundary, ending the header with '\n'.
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var data = Data([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 0x01, 0x00])
        let length = UInt16(header.utf8.count)
        data.append(contentsOf: [UInt8(length & 0xFF), UInt8(length >> 8)])
        data.append(contentsOf: Array(header.utf8))
        data.append(body)
        return data
    }

    /// Reads an `.npy` file.
    public static func read(_ url: URL) throws -> NPYArray { try decode(try FileAccess.read(url), path: url.path) }

    /// Writes an `.npy` file atomically.
    public func write(to url: URL) throws { try AtomicFile.write(encode(), to: url) }
}
