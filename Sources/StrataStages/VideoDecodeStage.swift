import Foundation
import StrataCore
import StrataIO
import StrataPipeline

/// `video.decode`: the frames of a video, in order, as RGB images. As FFmpeg does, it also
/// takes a still image (one frame) and a numbered image sequence (a printf pattern).
final class VideoDecodeStage: FrameSource {
    static let descriptor = StageDescriptor(
        name: "video.decode", kind: .source, doc: "Frames of a video (or a still image, or an image sequence such as in/%05d.png), rotation applied.",
        inputs: [PortSpec("source", .video, doc: "The video file, still image or frame pattern.")],
        outputs: [PortSpec("image", .image, doc: "Each frame, RGB 0…1.")],
        params: [ParamSpec("step", .integer(min: 1, max: nil), default: .number(1), doc: "Take every step-th frame."),
                 ParamSpec("autorotate", .boolean, default: .bool(true), doc: "Apply the rotation metadata."),
                 ParamSpec("layout", .choice(["auto", "mono", "top-bottom", "side-by-side"]), default: .string("auto"),
                           doc: "How a stereo video packs its eyes: auto reads the container's Stereo 3D metadata (mono without it)."),
                 ParamSpec("eye", .choice(["left", "right"]), default: .string("left"),
                           doc: "The eye a stereo video gives; a cropped 360° equirect is placed on its full panorama (RGBA, alpha 0 outside).")])

    /// What the input turned out to be.
    private enum Input {
        case video(VideoReader, StereoEye)
        case still(URL)
        case sequence(FrameSequenceReader)
    }

    private let input: Input
    private let step: Int
    let frameCount: Int
    let bitDepth: Int?
    let summary: String?
    /// Frames per second of a video input; nil for stills and sequences.
    let frameRate: Double?
    /// The first image's EXIF focal length in 35 mm film terms (mm), for stills and sequences.
    let focalLength35mm: Int?

    init(_ context: StageContext) throws {
        step = try context.int("step")
        let path = try context.inputPath("source")
        let url = URL(fileURLWithPath: path)
        if FramePattern.isPattern(path) {
            let reader = try FrameSequenceReader(pattern: try FramePattern(path))
            let first = try ImageFile.info(URL(fileURLWithPath: reader.pattern.path(reader.startNumber)))
            (input, frameCount, bitDepth, frameRate) = (.sequence(reader), reader.count, first.bitDepth, nil)
            focalLength35mm = first.details["focalLength35mm"].flatMap { Int($0) }
            summary = "\(path): image sequence, \(reader.count) files from \(reader.startNumber), \(first.format.rawValue) \(first.width)x\(first.height)"
        } else if Self.isStill(url) {
            // A still is one frame (FFmpeg's image2 demuxer reads a JPEG as a stream of no
            // known length, which left nothing to process).
            let info = try ImageFile.info(url)
            (input, frameCount, bitDepth, frameRate) = (.still(url), 1, info.bitDepth, nil)
            focalLength35mm = info.details["focalLength35mm"].flatMap { Int($0) }
            summary = "\(path): still image (one frame), \(info.format.rawValue) \(info.width)x\(info.height), \(info.bitDepth)-bit"
        } else {
            let reader = try VideoReader(url: url, applyRotation: try context.bool("autorotate"))
            // Shards and resumed runs need the true count; packets are counted without decoding.
            let count = reader.info.frameCountIsEstimate ? try reader.countFrames() : reader.info.frameCount
            let i = reader.info
            let eye = try StereoEye(layout: try context.string("layout"), eye: try context.string("eye"), info: i, path: path)
            (input, frameCount, bitDepth, frameRate) = (.video(reader, eye), count, i.bitDepth, i.frameRate)
            focalLength35mm = nil
            var line = "\(path): video, \(count) frames, \(i.codec) \(i.width)x\(i.height) \(i.pixelFormat), \(String(format: "%.3g", i.frameRate)) fps"
            if let spherical = i.spherical {
                line += ", 360° \(spherical.projection)"
                if spherical.yaw != 0 || spherical.pitch != 0 || spherical.roll != 0 {
                    line += String(format: " (orientation yaw %.1f° pitch %.1f° roll %.1f°, reported, not applied)", spherical.yaw, spherical.pitch, spherical.roll)
                }
            }
            if let taken = eye.description { line += "; taking \(try context.string("eye")) eye: \(taken)" }
            summary = line
        }
    }

    /// Whether the file is an image Strata decodes itself (by its first bytes, not its name).
    private static func isStill(_ url: URL) -> Bool {
        // A raw Motion JPEG stream starts like a JPEG but holds many frames.
        guard !["mjpeg", "mjpg"].contains(url.pathExtension.lowercased()), let handle = try? FileHandle(forReadingFrom: url) else { return false }
        defer { try? handle.close() }
        return ImageFormat.sniff((try? handle.read(upToCount: 16)) ?? Data()) != nil
    }

    func selects(_ index: Int) -> Bool { index % step == 0 }

    var isRandomAccess: Bool {
        if case .video = input { return false }
        return true
    }

    func read(_ index: Int) throws -> PortValues {
        switch input {
        case .still(let url):
            return PortValues(["image": try ImageFile.read(url)])
        case .sequence(let reader):
            return PortValues(["image": try reader.read(index)])
        case .video(let reader, let eye):
            guard let frame = try reader.frame(at: index) else {
                throw MediaError(path: reader.url.path, .frameOutOfRange("the stream ends before frame \(index) (the header promised \(frameCount))"),
                                 frame: index)
            }
            return PortValues(["image": eye.isIdentity ? frame.image : eye.extract(frame.image)])
        }
    }
}
