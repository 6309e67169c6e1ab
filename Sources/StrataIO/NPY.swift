import Foundation
import StrataCore

/// NumPy's `.npy` format (version 1.0–3.0): float32 written, common numeric types read.
public enum NPY {
    /// Encodes as little-endian float32: shape (H, W) for one channel, (H, W, C) otherwise,
    /// as NumPy users hold images.
    public static func encode(_ image: Image) -> Data {
        let shape = image.channels == 1 ? [image.height, image.width] : [image.height, image.width, image.channels]
        var interleaved = [Float](repeating: 0, count: image.pixels.count)
        let (n, c) = (image.planeSize, image.channels)
        for ch in 0..<c { for i in 0..<n { interleaved[i * c + ch] = image.pixels[ch * n + i] } }
        return NPYArray(shape: shape, elements: .float(interleaved)).encode()
    }

    /// The parts of an NPY header: element type, shape and where the data starts.
    struct Header {
        var kind: Substring
        var itemSize: Int
        var little: Bool
        var shape: [Int]
        var dataStart: Int
    }

    /// Parses the magic, version and header dictionary of `bytes`.
    static func header(_ bytes: [UInt8], path: String) throws -> Header {
        func bad(_ why: String) -> MediaError { MediaError(path: path, .corrupt(why)) }
        guard bytes.count >= 10, bytes[0] == 0x93, Array(bytes[1...5]) == Array("NUMPY".utf8) else {
            throw MediaError(path: path, .unrecognizedFormat("not an NPY file (bad magic)"))
        }
        let major = bytes[6]
        let headerLength: Int, start: Int
        switch major {
        case 1:
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            start = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw MediaError(path: path, .truncated) }
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
            start = 12
        default: throw MediaError(path: path, .unsupported("NPY version \(major)"))
        }
        guard start + headerLength <= bytes.count else { throw MediaError(path: path, .truncated) }
        guard let header = String(bytes: bytes[start..<(start + headerLength)], encoding: .utf8) else {
            throw bad("the header is not text")
        }
        func field(_ key: String) -> Substring? {
            guard let range = header.range(of: "'\(key)':") else { return nil }
            return header[range.upperBound...].drop(while: { $0 == " " })
        }
        guard let descrField = field("descr"), descrField.first == "'",
              let descrEnd = descrField.dropFirst().firstIndex(of: "'") else { throw bad("no 'descr' in the header") }
        let descr = String(descrField[descrField.index(after: descrField.startIndex)..<descrEnd])
        if let fortran = field("fortran_order"), fortran.hasPrefix("True") {
            throw MediaError(path: path, .unsupported("Fortran-ordered arrays"))
        }
        guard let shapeField = field("shape"), shapeField.first == "(", let close = shapeField.firstIndex(of: ")") else {
            throw bad("no 'shape' in the header")
        }
        let parts = shapeField[shapeField.index(after: shapeField.startIndex)..<close]
            .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let shape = parts.compactMap { Int($0) }
        guard shape.count == parts.count, shape.allSatisfy({ $0 >= 0 && $0 < 1 << 31 }) else { throw bad("shape \(parts) is not a list of sizes") }
        let kind = descr.drop(while: { "<>|=".contains($0) })
        let itemSize: Int
        switch kind {
        case "f4", "i4", "u4": itemSize = 4
        case "f8", "i8", "u8": itemSize = 8
        case "u2", "i2", "f2": itemSize = 2
        case "u1", "i1", "b1": itemSize = 1
        default: throw MediaError(path: path, .unsupported("NPY dtype '\(descr)'"))
        }
        let dataStart = start + headerLength
        let (count, overflow) = shape.reduce((1, false)) { acc, d in
            let (p, o) = acc.0.multipliedReportingOverflow(by: d)
            return (p, acc.1 || o)
        }
        guard !overflow, bytes.count - dataStart >= count * itemSize else { throw MediaError(path: path, .truncated) }
        return Header(kind: kind, itemSize: itemSize, little: !descr.hasPrefix(">"), shape: shape, dataStart: dataStart)
    }

    /// Element `i` of the data as a Double (exact for every integer type NumPy images use).
    @inline(__always)
    static func element(_ raw: UnsafeRawBufferPointer, _ h: Header, _ i: Int) -> Double {
        func load<T: FixedWidthInteger>(_: T.Type) -> T {
            let v = raw.loadUnaligned(fromByteOffset: h.dataStart + i * MemoryLayout<T>.size, as: T.self)
            return h.little ? T(littleEndian: v) : T(bigEndian: v)
        }
        switch h.kind {
        case "f4": return Double(Float(bitPattern: load(UInt32.self)))
        case "f8": return Double(bitPattern: load(UInt64.self))
        case "f2": return Double(Float16Bits(load(UInt16.self)))
        case "i4": return Double(load(Int32.self))
        case "u4": return Double(load(UInt32.self))
        case "i8": return Double(load(Int64.self))
        case "u8": return Double(load(UInt64.self))
        case "u2": return Double(load(UInt16.self))
        case "i2": return Double(load(Int16.self))
        case "i1": return Double(load(Int8.self))
        default: return Double(load(UInt8.self))
        }
    }

    /// Decodes an array of shape (H, W) or (H, W, C) of f4, f8, u1, u2, i2, i4 or bool.
    public static func decode(_ data: Data, path: String = "<memory>") throws -> Image {
        let bytes = [UInt8](data)
        let h = try header(bytes, path: path)
        let shape = h.shape
        let (height, width, channels): (Int, Int, Int)
        switch shape.count {
        case 2: (height, width, channels) = (shape[0], shape[1], 1)
        case 3: (height, width, channels) = (shape[0], shape[1], shape[2])
        default: throw MediaError(path: path, .unsupported("an array of shape \(shape) (expected (H, W) or (H, W, C))"))
        }
        guard height > 0, width > 0, channels > 0, height < 1 << 20, width < 1 << 20, channels < 1 << 16 else {
            throw MediaError(path: path, .unsupported("an array of shape \(shape)"))
        }
        let count = height * width * channels
        var interleaved = [Float](repeating: 0, count: count)
        bytes.withUnsafeBytes { raw in
            for i in 0..<count { interleaved[i] = Float(element(raw, h, i)) }
        }
        var image = Image(width: width, height: height, channels: channels)
        let n = width * height
        for ch in 0..<channels { for i in 0..<n { image.pixels[ch * n + i] = interleaved[i * channels + ch] } }
        return image
    }

    /// Reads an NPY file.
    public static func read(_ url: URL) throws -> Image { try decode(try FileAccess.read(url), path: url.path) }

    /// Writes an NPY file atomically.
    public static func write(_ image: Image, to url: URL) throws { try AtomicFile.write(encode(image), to: url) }
}

/// Converts IEEE half-precision bits to Float without relying on Float16 (absent on some targets).
private func Float16Bits(_ bits: UInt16) -> Float {
    let sign: UInt32 = UInt32(bits & 0x8000) << 16
    let exponent = Int((bits >> 10) & 0x1F)
    let mantissa = UInt32(bits & 0x3FF)
    if exponent == 0 {
        let value = Float(mantissa) * Float(sign == 0 ? 1 : -1) / Float(1 << 24)
        return value
    }
    if exponent == 31 { return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13)) }
    return Float(bitPattern: sign | UInt32(exponent - 15 + 127) << 23 | mantissa << 13)
}
