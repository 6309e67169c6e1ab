import Foundation
import StrataCore

/// Depth maps to and from files: 16-bit PNG (scaled or normalised), PFM and NPY.
public enum DepthFile {
    /// 16-bit samples for metric depth: round(depth × scale), 0 for invalid, non-positive or
    /// out-of-range values (65535 / scale metres is the largest representable depth).
    public static func quantize(_ depth: DepthMap, scale: Double) -> [UInt16] {
        depth.values.pixels.map { v -> UInt16 in
            guard v.isFinite, v > 0 else { return 0 }
            let stored = (Double(v) * scale).rounded()
            return stored >= 1 && stored <= 65535 ? UInt16(stored) : 0
        }
    }

    /// Writes metric depth as a 16-bit PNG at `scale` (millimetres by default).
    public static func writePNG16(_ depth: DepthMap, to url: URL, scale: DepthScale = .millimetres,
                                  compressionLevel: Int = 6) throws {
        let samples = quantize(depth, scale: scale.factor)
        try writeSamples(samples, of: depth, to: url, compressionLevel: compressionLevel)
    }

    /// Writes relative depth as a 16-bit PNG spreading `range` (default: the valid range)
    /// over 1…65535; returns the range, which belongs in the sidecar.
    @discardableResult
    public static func writeNormalizedPNG16(_ depth: DepthMap, to url: URL, range: ClosedRange<Float>? = nil,
                                            compressionLevel: Int = 6) throws -> ClosedRange<Float> {
        let span = range ?? depth.validRange() ?? 0...1
        let width = Double(span.upperBound - span.lowerBound)
        let samples = depth.values.pixels.map { v -> UInt16 in
            guard v.isFinite else { return 0 }
            let t = width > 0 ? (Double(v) - Double(span.lowerBound)) / width : 0
            return UInt16(1 + (min(max(t, 0), 1) * 65534).rounded())
        }
        try writeSamples(samples, of: depth, to: url, compressionLevel: compressionLevel)
        return span
    }

    private static func writeSamples(_ samples: [UInt16], of depth: DepthMap, to url: URL, compressionLevel: Int) throws {
        let data = try samples.withUnsafeBytes {
            // Smooth 16-bit depth is where row filters pay for themselves.
            try PNG.encode(samples: $0, width: depth.width, height: depth.height, channels: 1, bitDepth: 16,
                           compressionLevel: compressionLevel, filter: .adaptive, path: url.path)
        }
        try AtomicFile.write(data, to: url)
    }

    /// Reads a 16-bit depth PNG: value / scale, or spread over `range` when given; 0 → NaN.
    public static func readPNG16(_ url: URL, scale: DepthScale = .millimetres, range: ClosedRange<Float>? = nil,
                                 kind: DepthKind = .metric, quantity: DepthQuantity = .zDepth,
                                 projection: Projection = .unknown) throws -> DepthMap {
        let data = try FileAccess.read(url)
        let header = try PNG.header(data, path: url.path)
        guard header.bitDepth == 16, header.colorType == 0 else {
            throw MediaError(path: url.path, .unsupported("a depth PNG is 16-bit gray; this one is \(header.bitDepth)-bit with colour type \(header.colorType)"))
        }
        var image = try PNG.decode(data, path: url.path)
        let factor = Float(scale.factor)
        for i in image.pixels.indices {
            let stored = (image.pixels[i] * 65535).rounded()
            if stored == 0 {
                image.pixels[i] = .nan
            } else if let range {
                image.pixels[i] = range.lowerBound + (stored - 1) / 65534 * (range.upperBound - range.lowerBound)
            } else {
                image.pixels[i] = stored / factor
            }
        }
        return DepthMap(values: image, kind: kind, quantity: quantity, projection: projection)
    }

    /// Writes float depth as PFM or NPY (by extension); NaN stays NaN so no value is lost.
    public static func writeFloat(_ depth: DepthMap, to url: URL) throws {
        switch url.pathExtension.lowercased() {
        case "pfm": try PFM.write(depth.values, to: url)
        case "npy": try NPY.write(depth.values, to: url)
        default: throw MediaError(path: url.path, .unsupported("float depth is written as .pfm or .npy"))
        }
    }

    /// Reads a depth file of any encoding, interpreting it with the `depth.json` in its
    /// folder when there is one (otherwise PNGs are taken as millimetres).
    public static func read(_ url: URL) throws -> DepthMap {
        let sidecar = try DepthSidecar.read(inFolder: url.deletingLastPathComponent())
        let kind = sidecar?.kind ?? .metric
        let quantity = sidecar?.quantity ?? .zDepth
        let projection = sidecar?.projection ?? .unknown
        switch url.pathExtension.lowercased() {
        case "png":
            var range: ClosedRange<Float>?
            if sidecar?.encoding == .png16Normalized, let r = sidecar?.range, r.count == 2 {
                range = Float(r[0])...Float(max(r[0], r[1]))
            }
            return try readPNG16(url, scale: .custom(sidecar?.scale ?? 1000), range: range,
                                 kind: kind, quantity: quantity, projection: projection)
        case "pfm", "npy":
            var values = url.pathExtension.lowercased() == "pfm" ? try PFM.read(url) : try NPY.read(url)
            guard values.channels == 1 else {
                throw MediaError(path: url.path, .unsupported("a depth map has one channel, not \(values.channels)"))
            }
            let invalid = Float(sidecar?.invalidValue ?? 0)
            for i in values.pixels.indices where values.pixels[i] == invalid { values.pixels[i] = .nan }
            return DepthMap(values: values, kind: kind, quantity: quantity, projection: projection)
        default:
            throw MediaError(path: url.path, .unsupported("depth files are .png, .pfm or .npy"))
        }
    }
}

/// Colour previews of depth maps.
public enum DepthPreview {
    /// An RGB rendering with near bright and far dark (for inverse depth, high values are near).
    /// `range` defaults to the map's valid range; invalid pixels are black.
    public static func render(_ depth: DepthMap, colormap: Colormap = .turbo, range: ClosedRange<Float>? = nil) -> Image {
        let span = range ?? depth.validRange() ?? 0...1
        return colormap.apply(to: depth.values, range: span, inverted: depth.kind != .inverseRelative)
    }
}
