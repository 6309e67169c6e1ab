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

    func write(_ inputs: consuming PortValues, frame: FrameInfo) throws {
        try ImageFile.write(try inputs.get("image", as: Image.self), to: URL(fileURLWithPath: files.path(frame.number)), options: options)
    }
}
