import Foundation
import StrataCore
import StrataIO
import StrataPipeline

/// `depth.write`: depth files at the chosen encoding, and the `depth.json` sidecar beside them.
final class DepthWriteStage: FrameSink {
    static let descriptor = StageDescriptor(
        name: "depth.write", kind: .sink, doc: "Write depth files and the depth.json sidecar (atomic).",
        inputs: [PortSpec("depth", .depth)],
        params: [ParamSpec("pattern", .string, default: .string("depth/%05d.png"), doc: "printf pattern: .png (16-bit), .pfm or .npy (float)."),
                 ParamSpec("scale", .choice(["mm", "kitti", "tum"]), default: .string("mm"), doc: "16-bit PNG scale preset for metric depth."),
                 ParamSpec("compressionLevel", .integer(min: 0, max: 9), default: .number(6), doc: "PNG zlib level (1 writes a 1080p depth PNG about 3× faster than 6, 10–20% larger)."),
                 ParamSpec("min", .number(min: nil, max: nil), doc: "Relative depth in 16-bit PNG: the value stored as 1 (default: each frame's own range)."),
                 ParamSpec("max", .number(min: nil, max: nil), doc: "Relative depth in 16-bit PNG: the value stored as 65535; with min, one range for every frame, recorded in the sidecar.")])

    let files: FramePattern
    private let scale: DepthScale
    private let sidecarWritten = Mutex(false)
    /// The fixed range of normalised 16-bit PNGs, when given.
    private let range: ClosedRange<Float>?
    private let compressionLevel: Int

    init(_ context: StageContext) throws {
        files = try numberedPattern(context, extensions: ["png", "pfm", "npy"])
        scale = DepthScale(name: try context.string("scale"))!
        compressionLevel = try context.int("compressionLevel")
        switch (try context.optionalDouble("min"), try context.optionalDouble("max")) {
        case (nil, nil): range = nil
        case (let lo?, let hi?):
            guard lo < hi else { throw context.invalid("max", "must be above min (\(lo))") }
            range = Float(lo)...Float(hi)
        case (let lo, _): throw context.invalid(lo == nil ? "min" : "max", "give min and max together, or neither for each frame's own range")
        }
    }

    private var encoding: DepthEncoding {
        switch (files.pattern as NSString).pathExtension.lowercased() {
        case "pfm": return .pfm
        case "npy": return .npy
        default: return .png16
        }
    }

    func outputs(for frame: FrameInfo) -> [URL]? { [URL(fileURLWithPath: files.path(frame.number))] }

    func prepare() throws { try prepareFolder(of: files) }

    func write(_ inputs: consuming PortValues, frame: FrameInfo) throws {
        let depth: DepthMap = try inputs.get("depth")
        let url = URL(fileURLWithPath: files.path(frame.number))
        // Metric depth is stored scaled; relative depth has no unit, so it is spread over the
        // 16 bits (one range for the run when given, each frame's own otherwise).
        let normalized = encoding == .png16 && depth.kind != .metric
        if normalized {
            try DepthFile.writeNormalizedPNG16(depth, to: url, range: range, compressionLevel: compressionLevel)
        } else if encoding == .png16 {
            try DepthFile.writePNG16(depth, to: url, scale: scale, compressionLevel: compressionLevel)
        } else {
            try DepthFile.writeFloat(depth, to: url)
        }
        // The sidecar describes the folder; every run (and shard) writes the same one, atomically.
        try sidecarWritten.withLock { written in
            guard !written else { return }
            let sidecar = DepthSidecar(kind: depth.kind, quantity: depth.quantity, encoding: normalized ? .png16Normalized : encoding,
                                       scale: encoding == .png16 && !normalized ? scale.factor : nil,
                                       range: normalized ? range.map { [Double($0.lowerBound), Double($0.upperBound)] } : nil,
                                       projection: depth.projection)
            try sidecar.write(toFolder: url.deletingLastPathComponent())
            written = true
        }
    }
}
