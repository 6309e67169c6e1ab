import Foundation
import StrataCore
import StrataIO
import StrataPipeline

/// `video.decode`: the frames of a video, in order, as RGB images.
final class VideoDecodeStage: FrameSource {
    static let descriptor = StageDescriptor(
        name: "video.decode", kind: .source, doc: "Frames of a video, rotation applied, as RGB images.",
        inputs: [PortSpec("source", .video, doc: "The video file.")],
        outputs: [PortSpec("image", .image, doc: "Each frame, RGB 0…1.")],
        params: [ParamSpec("step", .integer(min: 1, max: nil), default: .number(1), doc: "Take every step-th frame."),
                 ParamSpec("autorotate", .boolean, default: .bool(true), doc: "Apply the rotation metadata.")])

    private let reader: VideoReader
    private let step: Int
    let frameCount: Int

    init(_ context: StageContext) throws {
        step = try context.int("step")
        reader = try VideoReader(url: URL(fileURLWithPath: try context.inputPath("source")),
                                 applyRotation: try context.bool("autorotate"))
        // Shards and resumed runs need the true count; packets are counted without decoding.
        frameCount = reader.info.frameCountIsEstimate ? try reader.countFrames() : reader.info.frameCount
    }

    func selects(_ index: Int) -> Bool { index % step == 0 }

    func read(_ index: Int) throws -> PortValues {
        guard let frame = try reader.frame(at: index) else {
            throw MediaError(path: reader.url.path, .frameOutOfRange("the stream ends before frame \(index) (the header promised \(frameCount))"),
                             frame: index)
        }
        return PortValues(["image": frame.image])
    }
}

/// `sequence.read`: numbered image files, read on several frames at once.
final class SequenceReadStage: FrameSource, Sendable {
    static let descriptor = StageDescriptor(
        name: "sequence.read", kind: .source, doc: "Frames of a numbered image sequence.",
        inputs: [PortSpec("source", .imageSequence, doc: "A printf pattern such as in/%05d.png.")],
        outputs: [PortSpec("image", .image, doc: "Each image as decoded.")],
        params: [ParamSpec("startNumber", .integer(min: 0, max: nil), doc: "Number of the first file (default: first of 0…4).")])

    private let reader: FrameSequenceReader

    init(_ context: StageContext) throws {
        let text = try context.inputPath("source")
        let pattern: FramePattern
        do { pattern = try FramePattern(text) } catch {
            throw StageSetupError(nodeIndex: context.nodeIndex, param: nil, message: "\"\(text)\" is not a frame pattern: \(error)")
        }
        reader = try FrameSequenceReader(pattern: pattern, startNumber: try context.optionalInt("startNumber"))
    }

    var frameCount: Int { reader.count }
    var isRandomAccess: Bool { true }

    func read(_ index: Int) throws -> PortValues { PortValues(["image": try reader.read(index)]) }
}

/// `image.read`: one still image, which accompanies every frame of a video beside it.
final class ImageReadStage: FrameSource, Sendable {
    static let descriptor = StageDescriptor(
        name: "image.read", kind: .source, doc: "One still image (PNG, JPEG, PFM, NPY).",
        inputs: [PortSpec("source", .file, doc: "The image file.")],
        outputs: [PortSpec("image", .image)])

    private let url: URL

    init(_ context: StageContext) throws {
        url = URL(fileURLWithPath: try context.inputPath("source"))
        _ = try ImageFile.info(url)  // fails now, before any frame, when the file is not an image
    }

    var frameCount: Int { 1 }
    var isRandomAccess: Bool { true }

    func read(_ index: Int) throws -> PortValues { PortValues(["image": try ImageFile.read(url)]) }
}
