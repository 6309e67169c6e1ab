import Foundation
import StrataCore

/// The Portable Float Map: 1 or 3 float32 channels, rows stored bottom to top.
public enum PFM {
    /// Encodes a 1-channel ("Pf") or 3-channel ("PF") image, little-endian (scale −1).
    public static func encode(_ image: Image, path: String = "<memory>") throws -> Data {
        guard image.channels == 1 || image.channels == 3 else {
            throw MediaError(path: path, .unsupported("PFM holds 1 or 3 channels, not \(image.channels)"))
        }
        var data = Data("\(image.channels == 1 ? "Pf" : "PF")\n\(image.width) \(image.height)\n-1.0\n".utf8)
        let (w, h, c, n) = (image.width, image.height, image.channels, image.planeSize)
        var body = [UInt32](repeating: 0, count: w * h * c)
        for row in 0..<h {
            let y = h - 1 - row
            for x in 0..<w {
                for ch in 0..<c {
                    body[(row * w + x) * c + ch] = image.pixels[ch * n + y * w + x].bitPattern.littleEndian
                }
            }
        }
        body.withUnsafeBytes { data.append(contentsOf: $0) }
        return data
    }

    /// Decodes PFM data of either byte order.
    public static func decode(_ data: Data, path: String = "<memory>") throws -> Image {
        let bytes = [UInt8](data)
        var offset = 0
        func token() -> String? {
            while offset < bytes.count, bytes[offset] == 0x20 || bytes[offset] == 0x0A || bytes[offset] == 0x0D || bytes[offset] == 0x09 { offset += 1 }
            let start = offset
            while offset < bytes.count, !(bytes[offset] == 0x20 || bytes[offset] == 0x0A || bytes[offset] == 0x0D || bytes[offset] == 0x09) { offset += 1 }
            return start < offset && offset - start < 32 ? String(decoding: bytes[start..<offset], as: UTF8.self) : nil
        }
        let magic = token()
        guard magic == "PF" || magic == "Pf" else { throw MediaError(path: path, .unrecognizedFormat("not a PFM file (bad magic)")) }
        guard let w = token().flatMap({ Int($0) }), let h = token().flatMap({ Int($0) }), let scale = token().flatMap({ Double($0) }),
              w > 0, h > 0, w < 1 << 20, h < 1 << 20, scale != 0 else {
            throw MediaError(path: path, .corrupt("bad PFM header"))
        }
        offset += 1  // the single whitespace after the scale
        let c = magic == "PF" ? 3 : 1
        guard bytes.count - offset >= w * h * c * 4 else { throw MediaError(path: path, .truncated) }
        let little = scale < 0
        var image = Image(width: w, height: h, channels: c)
        let n = w * h
        bytes.withUnsafeBytes { raw in
            for row in 0..<h {
                let y = h - 1 - row
                for x in 0..<w {
                    for ch in 0..<c {
                        let v = raw.loadUnaligned(fromByteOffset: offset + ((row * w + x) * c + ch) * 4, as: UInt32.self)
                        image.pixels[ch * n + y * w + x] = Float(bitPattern: little ? UInt32(littleEndian: v) : UInt32(bigEndian: v))
                    }
                }
            }
        }
        return image
    }

    /// Reads a PFM file.
    public static func read(_ url: URL) throws -> Image { try decode(try FileAccess.read(url), path: url.path) }

    /// Writes a PFM file atomically.
    public static func write(_ image: Image, to url: URL) throws { try AtomicFile.write(try encode(image, path: url.path), to: url) }
}
