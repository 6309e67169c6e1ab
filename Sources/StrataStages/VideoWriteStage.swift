import Foundation
import StrataCore
import StrataIO
import StrataPipeline

/// `video.write`: every frame of the run encoded into one video file, in frame order, which
/// appears under its name only when the last frame is in (a failed or interrupted run leaves
/// nothing). Frames may reach a sink out of order (workers run side by side): each waits
/// here until the frames before it are encoded. Sharded runs store the frames, and
/// `--finalize` encodes them.
final class VideoWriteStage: FrameSink, @unchecked Sendable {
    static let descriptor = StageDescriptor(
        name: "video.write", kind: .sink, sharding: .needsFinalize,
        doc: "Encode the frames into one video file (MP4, MOV, MKV, WebM or AVI by extension, or a looping animated GIF), in frame order; the file appears only when the run completes.",
        inputs: [PortSpec("image", .image, doc: "Frames of one size; for video, even width and height (4:2:0).")],
        params: [ParamSpec("path", .string, default: .string("video.mp4"),
                           doc: "The file under the output folder: .mp4, .mov, .mkv, .webm or .avi; or .gif, an animated GIF that loops (one 256-colour palette for all frames; codec and quality do not apply)."),
                 ParamSpec("fps", .number(min: 0.01, max: 1000), default: .number(30), unit: "Hz", doc: "Frames per second."),
                 ParamSpec("codec", .choice(VideoWriter.Codec.allCases.map(\.rawValue)), default: .string("auto"),
                           doc: "auto: H.264 (libx264) when this FFmpeg has it, MPEG-4 Part 2 otherwise."),
                 ParamSpec("quality", .integer(min: 0, max: 51), default: .number(20), doc: "Constant rate factor: lower is better and larger.")])

    private let url: URL
    private let options: VideoWriter.Options
    private let lock = NSLock()
    private var writer: VideoWriter?
    /// The position of the next frame to encode, and frames that came early.
    private var next = 0
    private var early: [Int: Image] = [:]
    /// A GIF's frames, kept for one palette over all of them; nil for video.
    private var gifFrames: [Image]?
    private let fps: Double

    init(_ context: StageContext) throws {
        let text = try context.string("path")
        url = try context.outputURL(text, param: "path")
        guard ["mp4", "mov", "mkv", "webm", "avi", "gif"].contains(url.pathExtension.lowercased()) else {
            throw context.invalid("path", "\"\(text)\" must end in .mp4, .mov, .mkv, .webm, .avi or .gif")
        }
        fps = try context.double("fps")
        if url.pathExtension.lowercased() == "gif" { gifFrames = [] }
        let codec = VideoWriter.Codec(rawValue: try context.string("codec")) ?? .auto
        guard VideoWriter.isAvailable(codec) else {
            throw context.invalid("codec", "this FFmpeg has no \(codec.rawValue) encoder: choose another codec, or auto")
        }
        options = VideoWriter.Options(codec: codec, quality: try context.int("quality"), frameRate: try context.double("fps"))
    }

    /// One file for the whole run: resuming cannot tell which frames it holds.
    func outputs(for frame: FrameInfo) -> [URL]? { nil }

    func prepare() throws { try prepareFolder(containing: url) }

    func write(_ inputs: consuming PortValues, frame: FrameInfo) throws {
        let image: Image = try inputs.get("image")
        try lock.withLock {
            early[frame.position] = image
            while let ready = early.removeValue(forKey: next) {
                try encode(ready, frame: next)
                next += 1
            }
        }
    }

    private func encode(_ image: Image, frame: Int) throws {
        if gifFrames != nil {
            if let first = gifFrames!.first, first.width != image.width || first.height != image.height {
                throw StageError("\(url.lastPathComponent): frame \(frame + 1) is \(image.width)x\(image.height), the GIF \(first.width)x\(first.height): every frame must have one size")
            }
            gifFrames!.append(image)
            return
        }
        if writer == nil {
            guard image.width % 2 == 0, image.height % 2 == 0 else {
                throw StageError("\(url.lastPathComponent): frames of \(image.width)x\(image.height); video in 4:2:0 needs even width and height (resize the frames, image.resize)")
            }
            writer = try VideoWriter(url: url, width: image.width, height: image.height, options: options)
        }
        guard image.width == writer!.width, image.height == writer!.height else {
            throw StageError("\(url.lastPathComponent): frame \(frame + 1) is \(image.width)x\(image.height), the video \(writer!.width)x\(writer!.height): every frame must have one size")
        }
        try writer!.append(image)
    }

    func finish() throws {
        try lock.withLock {
            guard early.isEmpty else {
                throw StageError("\(url.lastPathComponent): frames \(early.keys.sorted().map { String($0 + 1) }.joined(separator: ", ")) came without the frame before them", exitCode: 70)
            }
            if let gifFrames, !gifFrames.isEmpty { try GIF.write(gifFrames, fps: fps, to: url) }
            try writer?.finish()
        }
    }
}
