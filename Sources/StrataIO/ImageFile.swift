import Foundation
import StrataCore

/// The still-image formats Strata reads and writes.
public enum ImageFormat: String, Sendable, Codable, CaseIterable {
    case png, jpeg, pfm, npy

    /// The format the bytes are in, judged by their signature, not the file name.
    public static func sniff(_ data: Data) -> ImageFormat? {
        let head = [UInt8](data.prefix(8))
        if head.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        if head.starts(with: [0xFF, 0xD8, 0xFF]) { return .jpeg }
        if head.starts(with: [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]) { return .npy }
        if head.starts(with: Array("PF".utf8)) || head.starts(with: Array("Pf".utf8)) { return .pfm }
        return nil
    }

    /// The format a file name's extension asks for when writing.
    public init?(pathExtension: String) {
        switch pathExtension.lowercased() {
        case "png": self = .png
        case "jpg", "jpeg", "jpe": self = .jpeg
        case "pfm": self = .pfm
        case "npy": self = .npy
        default: return nil
        }
    }
}

/// How images are written; each format uses the fields that apply to it.
public struct ImageWriteOptions: Sendable, Equatable {
    /// PNG bits per sample: 8 or 16.
    public var bitDepth: Int = 8
    /// PNG zlib level 0–9.
    public var compressionLevel: Int = 6
    /// PNG row filter: none by default, as ffmpeg: on camera and rendered frames the
    /// adaptive filter costs 1.5–3× the encode time for a few per cent of size (BENCHMARKS.md).
    public var pngFilter: PNG.Filter = .none
    /// JPEG quality 1–100.
    public var jpegQuality: Int = 90

    public init(bitDepth: Int = 8, compressionLevel: Int = 6, pngFilter: PNG.Filter = .none, jpegQuality: Int = 90) {
        self.bitDepth = bitDepth
        self.compressionLevel = compressionLevel
        self.pngFilter = pngFilter
        self.jpegQuality = jpegQuality
    }
}

/// What an image file holds.
public struct ImageFileInfo: Sendable, Equatable, Codable {
    public var format: ImageFormat
    public var width: Int
    public var height: Int
    /// Channels as Strata decodes them.
    public var channels: Int
    /// Bits per sample in the file (32 for float formats).
    public var bitDepth: Int
    /// Format-specific notes: colour type, interlacing, EXIF orientation.
    public var details: [String: String]

    /// The PNG depth that keeps these samples: 16 for 16-bit PNG and float images, else 8
    /// (what ffmpeg and OpenCV keep when converting).
    public var keptBitDepth: Int { bitDepth > 8 ? 16 : 8 }
}

/// Reading and writing still images of any supported format.
public enum ImageFile {
    /// The default decompression-bomb guard: images above one gigapixel are refused.
    public static let defaultMaxPixels = 1_000_000_000

    /// Reads an image, choosing the decoder by the file's content.
    public static func read(_ url: URL, maxPixels: Int = defaultMaxPixels) throws -> Image {
        let data = try FileAccess.read(url)
        switch try format(of: data, url: url) {
        case .png: return try PNG.decode(data, path: url.path, maxPixels: maxPixels)
        case .jpeg: return try JPEG.decode(data, path: url.path, maxPixels: maxPixels).image
        case .pfm: return try PFM.decode(data, path: url.path)
        case .npy: return try NPY.decode(data, path: url.path)
        }
    }

    /// Describes an image file: PNGs from their header alone, other formats by decoding.
    public static func info(_ url: URL, maxPixels: Int = defaultMaxPixels) throws -> ImageFileInfo {
        let data = try FileAccess.read(url)
        let format = try format(of: data, url: url)
        switch format {
        case .png:
            let header = try PNG.header(data, path: url.path)
            let names = [0: "gray", 2: "RGB", 3: "palette", 4: "gray+alpha", 6: "RGBA"]
            return ImageFileInfo(format: .png, width: header.width, height: header.height, channels: header.channels,
                                 bitDepth: header.bitDepth,
                                 details: ["colorType": names[header.colorType] ?? "\(header.colorType)",
                                           "interlaced": header.interlaced ? "Adam7" : "no"])
        case .jpeg:
            let decoded = try JPEG.decode(data, path: url.path, maxPixels: maxPixels)
            var details = ["colorSpace": decoded.wasCMYK ? "CMYK" : (decoded.image.channels == 1 ? "gray" : "YCbCr")]
            if let o = decoded.exifOrientation { details["exifOrientation"] = "\(o)" }
            if let f = decoded.focalLength35mm { details["focalLength35mm"] = "\(f)" }
            return ImageFileInfo(format: .jpeg, width: decoded.image.width, height: decoded.image.height,
                                 channels: decoded.image.channels, bitDepth: 8, details: details)
        case .pfm, .npy:
            let image = format == .pfm ? try PFM.decode(data, path: url.path) : try NPY.decode(data, path: url.path)
            return ImageFileInfo(format: format, width: image.width, height: image.height, channels: image.channels,
                                 bitDepth: 32, details: [:])
        }
    }

    /// Writes an image atomically in the format its extension names (.png, .jpg, .pfm, .npy).
    public static func write(_ image: Image, to url: URL, options: ImageWriteOptions = ImageWriteOptions()) throws {
        try AtomicFile.write(try encode(image, for: url, options: options), to: url)
    }

    /// The bytes `write` would put in the file at `url`.
    public static func encode(_ image: Image, for url: URL, options: ImageWriteOptions = ImageWriteOptions()) throws -> Data {
        guard let format = ImageFormat(pathExtension: url.pathExtension) else {
            throw MediaError(path: url.path, .unsupported("unknown image extension \".\(url.pathExtension)\" (use .png, .jpg, .pfm or .npy)"))
        }
        switch format {
        case .png:
            return try PNG.encode(image, bitDepth: options.bitDepth, compressionLevel: options.compressionLevel,
                                  filter: options.pngFilter, path: url.path)
        case .jpeg: return try JPEG.encode(image, quality: options.jpegQuality, path: url.path)
        case .pfm: return try PFM.encode(image, path: url.path)
        case .npy: return NPY.encode(image)
        }
    }

    private static func format(of data: Data, url: URL) throws -> ImageFormat {
        if data.isEmpty { throw MediaError(path: url.path, .truncated) }
        guard let format = ImageFormat.sniff(data) else {
            throw MediaError(path: url.path, .unrecognizedFormat("not a PNG, JPEG, PFM or NPY image (unrecognised signature)"))
        }
        return format
    }
}
