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
                 ParamSpec("scale", .choice(["mm", "kitti", "tum"]), default: .string("mm"), doc: "16-bit PNG scale preset for metric depth.")])

    let files: FramePattern
    private let scale: DepthScale
    private let sidecarWritten = Mutex(false)

    init(_ context: StageContext) throws {
        files = try numberedPattern(context, extensions: ["png", "pfm", "npy"])
        scale = DepthScale(name: try context.string("scale"))!
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
        if encoding == .png16 {
            guard depth.kind == .metric else {
                throw StageError("\(depth.kind.rawValue) depth has no unit to scale into a 16-bit PNG; write .pfm or .npy instead")
            }
            try DepthFile.writePNG16(depth, to: url, scale: scale)
        } else {
            try DepthFile.writeFloat(depth, to: url)
        }
        // The sidecar describes the folder; every run (and shard) writes the same one, atomically.
        try sidecarWritten.withLock { written in
            guard !written else { return }
            let sidecar = DepthSidecar(kind: depth.kind, quantity: depth.quantity, encoding: encoding,
                                       scale: encoding == .png16 ? scale.factor : nil, projection: depth.projection)
            try sidecar.write(toFolder: url.deletingLastPathComponent())
            written = true
        }
    }
}
