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
