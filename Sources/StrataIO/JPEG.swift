import CStrataCodecs
import Foundation
import StrataCore

/// JPEG reading and writing through libjpeg(-turbo).
public enum JPEG {
    /// A decoded JPEG with what its metadata said.
    public struct Decoded: Sendable {
        /// The pixels as displayed: RGB or gray, EXIF orientation applied when asked.
        public var image: Image
        /// The EXIF orientation tag (1–8) the file carried, or nil.
        public var exifOrientation: Int?
        /// Whether the file was CMYK or YCCK (converted to RGB).
        public var wasCMYK: Bool
        /// The EXIF focal length in 35 mm film terms (mm), or nil.
        public var focalLength35mm: Int? = nil
    }

    /// Decodes JPEG data: gray stays gray, YCbCr becomes RGB, CMYK/YCCK is converted to RGB,
    /// and the EXIF orientation is applied unless `applyOrientation` is false.
    public static func decode(_ data: Data, path: String = "<memory>", maxPixels: Int = ImageFile.defaultMaxPixels,
                              applyOrientation: Bool = true) throws -> Decoded {
        var raster = strata_raster()
        try data.withUnsafeBytes { bytes in
            try CodecCall.run(path: path, format: "JPEG", maxPixels: maxPixels) { message, size in
                strata_jpeg_decode(bytes.bindMemory(to: UInt8.self).baseAddress, bytes.count, UInt64(max(0, maxPixels)),
                                   &raster, message, size)
            }
        }
        defer { strata_raster_free(&raster) }
        let (w, h, c) = (Int(raster.width), Int(raster.height), Int(raster.channels))
        let samples = UnsafeBufferPointer(start: raster.pixels, count: w * h * c)
        var image: Image
        let isCMYK = c == 4
        if isCMYK {
            image = cmykToRGB(samples, width: w, height: h, inverted: raster.inverted_cmyk != 0)
        } else {
            image = Image(interleaved8: samples, width: w, height: h, channels: c)
        }
        var orientation: Int?, focal: Int?
        if raster.exif_size > 0, let exif = raster.exif {
            let block = Array(UnsafeBufferPointer(start: exif, count: raster.exif_size))
            orientation = EXIF.orientation(in: block)
            focal = EXIF.focalLength35mm(in: block)
        }
        if applyOrientation, let o = orientation { image = image.applyingEXIFOrientation(o) }
        return Decoded(image: image, exifOrientation: orientation, wasCMYK: isCMYK, focalLength35mm: focal)
    }

    /// Reads the JPEG file at `url`, orientation applied.
    public static func read(_ url: URL, maxPixels: Int = ImageFile.defaultMaxPixels) throws -> Image {
        try decode(try FileAccess.read(url), path: url.path, maxPixels: maxPixels).image
    }

    /// Encodes gray or colour (alpha is dropped) at `quality` 1–100; optionally tags an EXIF orientation.
    public static func encode(_ image: Image, quality: Int = 90, exifOrientation: Int? = nil,
                              path: String = "<memory>") throws -> Data {
        let source: Image
        switch image.channels {
        case 1, 3: source = image
        case 2: source = image.channel(0)
        case 4: source = image.rgb()
        default: throw MediaError(path: path, .unsupported("JPEG holds gray or RGB, not \(image.channels) channels"))
        }
        return try encode(samples: source.interleaved8(), width: image.width, height: image.height,
                          channels: source.channels, quality: quality, exifOrientation: exifOrientation, path: path)
    }

    /// Encodes a 4-channel image of ink amounts (0 none … 1 full) as Adobe-style CMYK, the
    /// form Photoshop writes (stored inverted, with an Adobe marker).
    public static func encodeCMYK(_ ink: Image, quality: Int = 90, path: String = "<memory>") throws -> Data {
        guard ink.channels == 4 else { throw MediaError(path: path, .unsupported("CMYK needs 4 channels, not \(ink.channels)")) }
        var inverted = ink
        for i in inverted.pixels.indices { inverted.pixels[i] = 1 - inverted.pixels[i] }
        return try encode(samples: inverted.interleaved8(), width: ink.width, height: ink.height, channels: 4,
                          quality: quality, exifOrientation: nil, path: path)
    }

    /// Writes an image as a JPEG file, atomically.
    public static func write(_ image: Image, to url: URL, quality: Int = 90) throws {
        try AtomicFile.write(try encode(image, quality: quality, path: url.path), to: url)
    }

    private static func encode(samples: [UInt8], width: Int, height: Int, channels: Int, quality: Int,
                               exifOrientation: Int?, path: String) throws -> Data {
        let exif = exifOrientation.map { EXIF.block(orientation: $0) } ?? []
        var output: UnsafeMutablePointer<UInt8>?
        var outputSize = 0
        try samples.withUnsafeBufferPointer { pixels in
            try exif.withUnsafeBufferPointer { exifBytes in
                try CodecCall.run(path: path, format: "JPEG") { message, size in
                    strata_jpeg_encode(pixels.baseAddress, Int32(width), Int32(height), Int32(channels), Int32(quality),
                                       exifBytes.baseAddress, exifBytes.count, &output, &outputSize, message, size)
                }
            }
        }
        return Data(bytesNoCopy: output!, count: outputSize, deallocator: .custom { p, _ in strata_buffer_free(p) })
    }

    /// Multiplicative CMYK → RGB (R = (1 − C)(1 − K)), as Pillow converts.
    private static func cmykToRGB(_ samples: UnsafeBufferPointer<UInt8>, width: Int, height: Int, inverted: Bool) -> Image {
        var out = Image(width: width, height: height, channels: 3)
        let n = width * height
        let scale: Float = 1 / 255
        out.pixels.withUnsafeMutableBufferPointer { dst in
            for i in 0..<n {
                var cmyk = (Float(samples[i &* 4]), Float(samples[i &* 4 &+ 1]), Float(samples[i &* 4 &+ 2]), Float(samples[i &* 4 &+ 3]))
                if !inverted { cmyk = (255 - cmyk.0, 255 - cmyk.1, 255 - cmyk.2, 255 - cmyk.3) }
                // Now each value is 255 × (1 − ink).
                let k = cmyk.3 * scale
                dst[i] = cmyk.0 * scale * k
                dst[n &+ i] = cmyk.1 * scale * k
                dst[2 &* n &+ i] = cmyk.2 * scale * k
            }
        }
        return out
    }
}
