import CStrataCodecs
import Dispatch
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
        /// Channels Strata decodes it to (palette and transparency expanded).
        public var channels: Int
    }

    /// Reads the chunks before the image data: size, layout and decoded channel count.
    public static func header(_ data: Data, path: String = "<memory>") throws -> Header {
        var raster = strata_raster()
        var reader: OpaquePointer?
        try data.withUnsafeBytes { bytes in
            try CodecCall.run(path: path, format: "PNG") { message, size in
                strata_png_reader_open(bytes.bindMemory(to: UInt8.self).baseAddress, bytes.count, 0, &reader, &raster, message, size)
            }
        }
        strata_png_reader_close(reader)
        return Header(width: Int(raster.width), height: Int(raster.height), bitDepth: Int(raster.source_bit_depth),
                      colorType: Int(raster.source_color_type), interlaced: raster.interlaced != 0, channels: Int(raster.channels))
    }

    /// Decodes PNG data to an image of 1–4 channels (palette becomes RGB or RGBA,
    /// transparency becomes alpha), samples scaled to 0…1.
    public static func decode(_ data: Data, path: String = "<memory>",
                              maxPixels: Int = ImageFile.defaultMaxPixels) throws -> Image {
        try data.withUnsafeBytes { bytes in
            let base = bytes.bindMemory(to: UInt8.self).baseAddress
            var reader: OpaquePointer?
            var raster = strata_raster()
            try CodecCall.run(path: path, format: "PNG", maxPixels: maxPixels) { message, size in
                strata_png_reader_open(base, bytes.count, UInt64(max(0, maxPixels)), &reader, &raster, message, size)
            }
            defer { strata_png_reader_close(reader) }
            if raster.interlaced != 0 { return try decodeWhole(reader!, raster, path: path) }
            return try decodeInBands(reader!, raster, path: path)
        }
    }

    /// Decodes row bands with libpng on this thread while another thread converts the band
    /// before to planar floats, so the conversion costs no wall time on a second core.
    private static func decodeInBands(_ reader: OpaquePointer, _ raster: strata_raster, path: String) throws -> Image {
        let (w, h, c, depth) = (Int(raster.width), Int(raster.height), Int(raster.channels), Int(raster.bit_depth))
        let rowBytes = w * c * depth / 8
        let bandRows = max(8, min(h, (256 << 10) / max(1, rowBytes)))
        let buffers = [UnsafeMutableRawPointer.allocate(byteCount: bandRows * rowBytes, alignment: 64),
                       UnsafeMutableRawPointer.allocate(byteCount: bandRows * rowBytes, alignment: 64)]
        defer { buffers.forEach { $0.deallocate() } }
        // One permit per buffer: a buffer is refilled only after its conversion finished.
        let free = [DispatchSemaphore(value: 1), DispatchSemaphore(value: 1)]
        let converting = DispatchGroup()
        var failure: Error?
        let image = Image(width: w, height: h, channels: c, uninitialized: { planes in
            let output = UncheckedSendable(planes.baseAddress!)
            var band = 0
            for firstRow in stride(from: 0, to: h, by: bandRows) {
                let rows = min(bandRows, h - firstRow)
                let k = band % 2
                free[k].wait()
                do {
                    try CodecCall.run(path: path, format: "PNG") { message, size in
                        strata_png_reader_read_rows(reader, buffers[k].assumingMemoryBound(to: UInt8.self), Int32(rows), message, size)
                    }
                } catch {
                    failure = error
                    free[k].signal()
                    break
                }
                let input = UncheckedSendable(buffers[k])
                let semaphore = free[k]
                DispatchQueue.global().async(group: converting) {
                    let offset = firstRow * w, count = rows * w
                    if depth == 16 {
                        Interleaving.deinterleave(input.value.assumingMemoryBound(to: UInt16.self), into: output.value,
                                                  planeSize: w * h, offset: offset, count: count, channels: c, scale: 1 / 65535)
                    } else {
                        Interleaving.deinterleave(input.value.assumingMemoryBound(to: UInt8.self), into: output.value,
                                                  planeSize: w * h, offset: offset, count: count, channels: c, scale: 1 / 255)
                    }
                    semaphore.signal()
                }
                band += 1
            }
            converting.wait()
            if failure != nil {
                // The image is discarded, but its samples must still be initialised.
                planes.update(repeating: 0)
            }
        })
        if let failure { throw failure }
        return image
    }

    /// Decodes the whole image in one libpng call: needed for Adam7-interlaced files.
    private static func decodeWhole(_ reader: OpaquePointer, _ raster: strata_raster, path: String) throws -> Image {
        let (w, h, c, depth) = (Int(raster.width), Int(raster.height), Int(raster.channels), Int(raster.bit_depth))
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: max(1, w * h * c * depth / 8), alignment: 64)
        defer { buffer.deallocate() }
        try CodecCall.run(path: path, format: "PNG") { message, size in
            strata_png_reader_read_image(reader, buffer.assumingMemoryBound(to: UInt8.self), message, size)
        }
        if depth == 16 {
            return Image(interleaved16: UnsafeBufferPointer(start: buffer.assumingMemoryBound(to: UInt16.self), count: w * h * c),
                         width: w, height: h, channels: c)
        }
        return Image(interleaved8: UnsafeBufferPointer(start: buffer.assumingMemoryBound(to: UInt8.self), count: w * h * c),
                     width: w, height: h, channels: c)
    }

    /// Reads the PNG file at `url`.
    public static func read(_ url: URL, maxPixels: Int = ImageFile.defaultMaxPixels) throws -> Image {
        try decode(try FileAccess.read(url), path: url.path, maxPixels: maxPixels)
    }

    /// Encodes an image of 1–4 channels (gray, gray+alpha, RGB, RGBA) at 8 or 16 bits.
    public static func encode(_ image: Image, bitDepth: Int = 8, compressionLevel: Int = 6,
                              filter: Filter = .none, path: String = "<memory>") throws -> Data {
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
                              compressionLevel: Int = 6, filter: Filter = .none, path: String = "<memory>") throws -> Data {
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
                             filter: Filter = .none) throws {
        let data = try encode(image, bitDepth: bitDepth, compressionLevel: compressionLevel, filter: filter, path: url.path)
        try AtomicFile.write(data, to: url)
    }
}
