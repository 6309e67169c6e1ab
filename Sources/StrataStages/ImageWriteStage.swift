import Foundation
import StrataCore
import StrataIO
import StrataPipeline

/// `image.write`: each frame as a numbered file under the output folder, written atomically.
final class ImageWriteStage: FrameSink {
    static let descriptor = StageDescriptor(
        name: "image.write", kind: .sink, doc: "Write each frame as a numbered image file (atomic).",
        inputs: [PortSpec("image", .image)],
        params: [ParamSpec("pattern", .string, default: .string("frames/%05d.png"), doc: "printf pattern under the output folder: .png, .jpg, .pfm or .npy."),
                 ParamSpec("bitDepth", .integer(min: 8, max: 16), default: .number(8), doc: "PNG bits per sample: 8 or 16."),
                 ParamSpec("compressionLevel", .integer(min: 0, max: 9), default: .number(6), doc: "PNG zlib level."),
                 ParamSpec("jpegQuality", .integer(min: 1, max: 100), default: .number(90), doc: "JPEG quality.")])

    let files: FramePattern
    private let options: ImageWriteOptions

    init(_ context: StageContext) throws {
        files = try numberedPattern(context, extensions: ["png", "jpg", "jpeg", "pfm", "npy"])
        let bitDepth = try context.int("bitDepth")
        guard bitDepth == 8 || bitDepth == 16 else { throw context.invalid("bitDepth", "PNG samples are 8 or 16 bits, not \(bitDepth)") }
        options = ImageWriteOptions(bitDepth: bitDepth, compressionLevel: try context.int("compressionLevel"),
                                    jpegQuality: try context.int("jpegQuality"))
    }

    func outputs(for frame: FrameInfo) -> [URL]? { [URL(fileURLWithPath: files.path(frame.number))] }

    func prepare() throws { try prepareFolder(of: files) }

    func write(_ inputs: PortValues, frame: FrameInfo) throws {
        try ImageFile.write(try inputs.get("image", as: Image.self), to: URL(fileURLWithPath: files.path(frame.number)), options: options)
    }
}

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

    func write(_ inputs: PortValues, frame: FrameInfo) throws {
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

/// The sink's `pattern` param as a frame pattern under the output folder, with a number in it.
func numberedPattern(_ context: StageContext, extensions: [String]) throws -> FramePattern {
    let text = try context.string("pattern")
    let url = try context.outputURL(text, param: "pattern")
    let pattern: FramePattern
    do { pattern = try FramePattern(url.path) } catch {
        throw context.invalid("pattern", "\"\(text)\" is not a printf pattern: \(error)")
    }
    guard pattern.path(1) != pattern.path(2) else {
        throw context.invalid("pattern", "\"\(text)\" has no frame number (such as %05d), so every frame would overwrite one file")
    }
    let ext = url.pathExtension.lowercased()
    guard extensions.contains(ext) else {
        throw context.invalid("pattern", "\"\(text)\" must end in \(extensions.map { "." + $0 }.joined(separator: ", "))")
    }
    return pattern
}

/// Creates the folder a pattern writes into and clears temporary files of killed runs from it.
func prepareFolder(of pattern: FramePattern) throws {
    let folder = URL(fileURLWithPath: pattern.path(1)).deletingLastPathComponent()
    try AtomicFile.createFolder(folder)
    AtomicFile.removeAbandoned(in: folder)
}
