import Foundation
import StrataCore

/// NumPy's `.npy` format (version 1.0–3.0): float32 written, common numeric types read.
public enum NPY {
    /// Encodes as little-endian float32: shape (H, W) for one channel, (H, W, C) otherwise,
    /// as NumPy users hold images.
    public static func encode(_ image: Image) -> Data {
        let shape = image.channels == 1 ? "(\(image.height), \(image.width))" : "(\(image.height), \(image.width), \(image.channels))"
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': \(shape), }"
        // Pad so that the data starts on a 64-byte boundary, ending the header with '\n'.
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var data = Data([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 0x01, 0x00])
        let length = UInt16(header.utf8.count)
        data.append(contentsOf: [UInt8(length & 0xFF), UInt8(length >> 8)])
        data.append(contentsOf: Array(header.utf8))
        var interleaved = [Float](repeating: 0, count: image.pixels.count)
        let (n, c) = (image.planeSize, image.channels)
        for ch in 0..<c { for i in 0..<n { interleaved[i * c + ch] = image.pixels[ch * n + i] } }
        interleaved.withUnsafeBytes { raw in
            for value in raw.bindMemory(to: UInt32.self) {
                withUnsafeBytes(of: value.littleEndian) { data.append(contentsOf: $0) }
            }
        }
        return data
    }

    /// Decodes an array of shape (H, W) or (H, W, C) of f4, f8, u1, u2, i2, i4 or bool.
    public static func decode(_ data: Data, path: String = "<memory>") throws -> Image {
        let bytes = [UInt8](data)
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
        let shape = shapeField[shapeField.index(after: shapeField.startIndex)..<close]
            .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.compactMap { Int($0) }
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
        let little = !descr.hasPrefix(">")
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
        guard bytes.count - dataStart >= count * itemSize else { throw MediaError(path: path, .truncated) }
        var interleaved = [Float](repeating: 0, count: count)
        bytes.withUnsafeBytes { raw in
            func load<T: FixedWidthInteger>(_: T.Type, _ i: Int) -> T {
                let v = raw.loadUnaligned(fromByteOffset: dataStart + i * MemoryLayout<T>.size, as: T.self)
                return little ? T(littleEndian: v) : T(bigEndian: v)
            }
            for i in 0..<count {
                switch kind {
                case "f4": interleaved[i] = Float(bitPattern: load(UInt32.self, i))
                case "f8": interleaved[i] = Float(Double(bitPattern: load(UInt64.self, i)))
                case "f2": interleaved[i] = Float(Float16Bits(load(UInt16.self, i)))
                case "i4": interleaved[i] = Float(load(Int32.self, i))
                case "u4": interleaved[i] = Float(load(UInt32.self, i))
                case "i8": interleaved[i] = Float(load(Int64.self, i))
                case "u8": interleaved[i] = Float(load(UInt64.self, i))
                case "u2": interleaved[i] = Float(load(UInt16.self, i))
                case "i2": interleaved[i] = Float(load(Int16.self, i))
                case "i1": interleaved[i] = Float(load(Int8.self, i))
                default: interleaved[i] = Float(load(UInt8.self, i))
                }
            }
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
