import CStrataCodecs
import Foundation
import StrataCore

/// PNG reading and writing through libpng.
public enum PNG {
    /// Row filters libpng may use when writing (see the PNG specification, section 9).
    public enum Filter: String, Sendable, Codable, CaseIterable {
        /// libpng's default: tries every filter per row and keeps the cheapest.
        case adaptive
        case none, sub, up, average, paeth

        var mask: Int32 {
            switch self {
            case .adaptive: return -1
            case .none: return 0x08
            case .sub: return 0x10
            case .up: return 0x20
            case .average: return 0x40
            case .paeth: return 0x80
            }
        }
    }

    /// What a PNG file holds, as read from its header.
    public struct Header: Sendable, Equatable {
        public var width: Int, height: Int
        /// Bits per sample in the file: 1, 2, 4, 8 or 16.
        public var bitDepth: Int
        /// The PNG colour type: 0 gray, 2 RGB, 3 palette, 4 gray+alpha, 6 RGBA.
        public var colorType: Int
        public var interlaced: Bool
    }

    /// Reads only the header of PNG data.
    public static func header(_ data: Data, path: String = "<memory>") throws -> Header {
        var raster = strata_raster()
        try data.withUnsafeBytes { bytes in
            try CodecCall.run(path: path, format: "PNG") { message, size in
                strata_png_header(bytes.bindMemory(to: UInt8.self).baseAddress, bytes.count, &raster, message, size)
            }
        }
        return Header(width: Int(raster.width), height: Int(raster.height), bitDepth: Int(raster.source_bit_depth),
                      colorType: Int(raster.source_color_type), interlaced: raster.interlaced != 0)
    }

    /// Decodes PNG data to an image of 1–4 channels (palette becomes RGB or RGBA,
    /// transparency becomes alpha), samples scaled to 0…1.
    public static func decode(_ data: Data, path: String = "<memory>",
                              maxPixels: Int = ImageFile.defaultMaxPixels) throws -> Image {
        var raster = strata_raster()
        try data.withUnsafeBytes { bytes in
            try CodecCall.run(path: path, format: "PNG", maxPixels: maxPixels) { message, size in
                strata_png_decode(bytes.bindMemory(to: UInt8.self).baseAddress, bytes.count, UInt64(max(0, maxPixels)),
                                  &raster, message, size)
            }
        }
        defer { strata_raster_free(&raster) }
        let (w, h, c) = (Int(raster.width), Int(raster.height), Int(raster.channels))
        if raster.bit_depth == 16 {
            return raster.pixels.withMemoryRebound(to: UInt16.self, capacity: w * h * c) {
                Image(interleaved16: UnsafeBufferPointer(start: $0, count: w * h * c), width: w, height: h, channels: c)
            }
        }
        return Image(interleaved8: UnsafeBufferPointer(start: raster.pixels, count: w * h * c), width: w, height: h, channels: c)
    }

    /// Reads the PNG file at `url`.
    public static func read(_ url: URL, maxPixels: Int = ImageFile.defaultMaxPixels) throws -> Image {
        try decode(try FileAccess.read(url), path: url.path, maxPixels: maxPixels)
    }

    /// Encodes an image of 1–4 channels (gray, gray+alpha, RGB, RGBA) at 8 or 16 bits.
    public static func encode(_ image: Image, bitDepth: Int = 8, compressionLevel: Int = 6,
                              filter: Filter = .adaptive, path: String = "<memory>") throws -> Data {
        guard (1...4).contains(image.channels) else {
            throw MediaError(path: path, .unsupported("PNG holds 1 to 4 channels, not \(image.channels)"))
        }
        switch bitDepth {
        case 8:
            let samples = image.interleaved8()
            return try samples.withUnsafeBytes {
                try encode(samples: $0, width: image.width, height: image.height, channels: image.channels,
                           bitDepth: 8, compressionLevel: compressionLevel, filter: filter, path: path)
            }
        case 16:
            let samples = image.interleaved16()
            return try samples.withUnsafeBytes {
                try encode(samples: $0, width: image.width, height: image.height, channels: image.channels,
                           bitDepth: 16, compressionLevel: compressionLevel, filter: filter, path: path)
            }
        default:
            throw MediaError(path: path, .unsupported("PNG is written at 8 or 16 bits, not \(bitDepth)"))
        }
    }

    /// Encodes interleaved samples: bytes for 8-bit, host-order `UInt16`s for 16-bit.
    public static func encode(samples: UnsafeRawBufferPointer, width: Int, height: Int, channels: Int, bitDepth: Int,
                              compressionLevel: Int = 6, filter: Filter = .adaptive, path: String = "<memory>") throws -> Data {
        precondition(samples.count >= width * height * channels * bitDepth / 8, "short sample buffer")
        var output: UnsafeMutablePointer<UInt8>?
        var outputSize = 0
        try CodecCall.run(path: path, format: "PNG") { message, size in
            strata_png_encode(samples.baseAddress, Int32(width), Int32(height), Int32(channels), Int32(bitDepth),
                              Int32(compressionLevel), filter.mask, &output, &outputSize, message, size)
        }
        return Data(bytesNoCopy: output!, count: outputSize, deallocator: .custom { p, _ in strata_buffer_free(p) })
    }

    /// Writes an image as a PNG file, atomically.
    public static func write(_ image: Image, to url: URL, bitDepth: Int = 8, compressionLevel: Int = 6,
                             filter: Filter = .adaptive) throws {
        let data = try encode(image, bitDepth: bitDepth, compressionLevel: compressionLevel, filter: filter, path: url.path)
        try AtomicFile.write(data, to: url)
    }
}
