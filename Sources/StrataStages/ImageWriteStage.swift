import Foundation
import StrataCore
import StrataIO
import StrataPipeline
import StrataSphere

/// `image.write`: each frame as a numbered file under the output folder, written atomically.
/// Cube faces go to six files (a `{face}` in the pattern becomes F R B L U D) or to one dice image.
final class ImageWriteStage: FrameSink {
    static let descriptor = StageDescriptor(
        name: "image.write", kind: .sink, doc: "Write each frame as a numbered image file (atomic); cube faces as six files or a dice.",
        inputs: [PortSpec("image", .image, also: [.cube])],
        params: [ParamSpec("pattern", .string, default: .string("frames/%05d.png"),
                           doc: "printf pattern under the output folder: .png, .jpg, .pfm or .npy; {face} names the cube face (F R B L U D)."),
                 ParamSpec("bitDepth", .integer(min: 8, max: 16),
                           doc: "PNG bits per sample, 8 or 16 (default: 16 when the frames come from deeper sources — 16-bit PNG, 10-bit video, floats — else 8)."),
                 ParamSpec("compressionLevel", .integer(min: 0, max: 9), default: .number(6), doc: "PNG zlib level."),
                 ParamSpec("jpegQuality", .integer(min: 1, max: 100), default: .number(90), doc: "JPEG quality.")])

    let files: FramePattern
    private let options: ImageWriteOptions
    /// Cube faces, one file each (the pattern names `{face}`); nil for images and dice.
    private let faces: [String]?

    init(_ context: StageContext) throws {
        files = try numberedPattern(context, extensions: ["png", "jpg", "jpeg", "pfm", "npy"])
        let namesFace = try context.string("pattern").contains("{face}")
        let isCube = context.inputTypes["image"] == .cube
        if namesFace && !isCube { throw context.invalid("pattern", "{face} names cube faces, but this node's input is not a cube") }
        faces = isCube && namesFace ? CubeFace.allCases.map(\.letter) : nil
        let bitDepth = try context.optionalInt("bitDepth") ?? ((context.sourceBitDepth ?? 8) > 8 ? 16 : 8)
        guard bitDepth == 8 || bitDepth == 16 else { throw context.invalid("bitDepth", "PNG samples are 8 or 16 bits, not \(bitDepth)") }
        options = ImageWriteOptions(bitDepth: bitDepth, compressionLevel: try context.int("compressionLevel"),
                                    jpegQuality: try context.int("jpegQuality"))
    }

    func outputs(for frame: FrameInfo) -> [URL]? {
        let path = files.path(frame.number)
        guard let faces else { return [URL(fileURLWithPath: path)] }
        return faces.map { URL(fileURLWithPath: path.replacingOccurrences(of: "{face}", with: $0)) }
    }

    func prepare() throws {
        // Each face may have a folder of its own ("{face}/%05d.png").
        for file in outputs(for: FrameInfo(index: 0, position: 0, number: 1))! { try prepareFolder(containing: file) }
    }

    func write(_ inputs: consuming PortValues, frame: FrameInfo) throws {
        guard let cube = inputs["image"] as? Cubemap else {
            try ImageFile.write(try inputs.get("image", as: Image.self), to: URL(fileURLWithPath: files.path(frame.number)), options: options)
            return
        }
        guard faces != nil else {
            try ImageFile.write(cube.image(layout: .dice), to: URL(fileURLWithPath: files.path(frame.number)), options: options)
            return
        }
        for (face, url) in zip(CubeFace.allCases, outputs(for: frame)!) {
            try ImageFile.write(cube.face(face), to: url, options: options)
        }
    }
}
