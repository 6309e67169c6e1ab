import ArgumentParser
import Foundation
import StrataCore
import StrataIO

struct Convert: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Convert between images, videos and numbered frame sequences.",
        discussion: """
        The kind of each side is judged by a %d in its name (a frame sequence), then by the \
        input file's content and the output's extension. Images keep the source's bit \
        depth (16-bit PNG, deep video and float images give 16-bit PNG) unless --bit-depth \
        says otherwise. One frame goes to one file: a still, a one-frame video, or --frames N.

        Examples:
          strata convert clip.mp4 'frames/%05d.png'         # video to PNG sequence
          strata convert clip.mp4 'frames/%05d.png' --frames 10-200x2
          strata convert 'frames/%05d.png' clip.mp4 --fps 24 # sequence to H.264
          strata convert depth16.png copy.png                # stays 16-bit
          strata convert photo.jpg photo.png --bit-depth 16  # image to image
          strata convert clip.mp4 still.png --frames 42      # one frame
        """
    )

    @Argument(help: "An image, a video, or an input frame pattern such as in/%04d.jpg.")
    var input: String

    @Argument(help: "An image (.png .jpg .pfm .npy), a video (.mp4 .mov .mkv .webm .avi), or an output frame pattern.")
    var output: String

    @Option(help: "Frames to take, counted from 0: first-last[xstep], e.g. 10-200x2, 5-, x3, 42.")
    var frames: String?

    @Option(help: "Number of the first output file of a sequence.")
    var startNumber = 1

    @Option(help: "Number of the first input file of a sequence (default: the first of 0…4 that exists).")
    var inputStartNumber: Int?

    @Option(help: "PNG bits per sample, 8 or 16 (default: the source's: 16 for 16-bit PNG, deeper-than-8-bit video and float images).")
    var bitDepth: Int?

    @Option(help: "PNG zlib compression level 0–9.")
    var compressionLevel = 6

    @Option(help: "PNG row filter: none (fastest, as ffmpeg), adaptive (smaller files, as libpng and Pillow), sub, up, average, paeth.")
    var pngFilter: String = "none"

    @Option(help: "JPEG quality 1–100.")
    var jpegQuality = 90

    @Option(help: "Video quality on the CRF scale (0 best … 51 worst).")
    var crf = 20

    @Option(help: "Video encoder: auto (H.264 if available, else MPEG-4), h264, mpeg4, hevc, vp9, av1, mjpeg.")
    var codec: String = "auto"

    @Option(help: "Output frame rate for videos (default: the input's, or 30 for sequences).")
    var fps: Double?

    @Option(help: "Encoding threads (0: every core).")
    var threads = 0

    @Option(help: "Refuse images and frames with more pixels than this.")
    var maxPixels = ImageFile.defaultMaxPixels

    @Flag(help: "Keep video frames as coded instead of applying the rotation metadata.")
    var noAutorotate = false

    func validate() throws {
        if let bitDepth, bitDepth != 8 && bitDepth != 16 { throw ValidationError("--bit-depth must be 8 or 16, not \(bitDepth)") }
        guard (0...9).contains(compressionLevel) else { throw ValidationError("--compression-level must be 0…9, not \(compressionLevel)") }
        guard (1...100).contains(jpegQuality) else { throw ValidationError("--jpeg-quality must be 1…100, not \(jpegQuality)") }
        guard (0...51).contains(crf) else { throw ValidationError("--crf must be 0…51, not \(crf)") }
        guard PNG.Filter(rawValue: pngFilter) != nil else { throw ValidationError("--png-filter must be one of adaptive, none, sub, up, average, paeth") }
        guard VideoWriter.Codec(rawValue: codec) != nil else { throw ValidationError("--codec must be one of \(VideoWriter.Codec.allCases.map(\.rawValue).joined(separator: ", "))") }
        if let fps { guard fps > 0 && fps.isFinite else { throw ValidationError("--fps must be positive") } }
        guard threads >= 0 else { throw ValidationError("--threads must be 0 or more") }
        if let frames {
            do { _ = try FrameRange(parsing: frames) } catch let error as FrameRangeError { throw ValidationError(error.description) }
        }
    }

    /// How images are written: at `--bit-depth`, else at the depth that keeps the source's samples.
    func writeOptions(for source: FrameSource) throws -> ImageWriteOptions {
        ImageWriteOptions(bitDepth: try bitDepth ?? source.keptBitDepth(), compressionLevel: compressionLevel,
                          pngFilter: PNG.Filter(rawValue: pngFilter) ?? .none, jpegQuality: jpegQuality)
    }

    func run() throws {
        try reportingErrors {
            if threads > 0 { Parallel.maxThreads = threads }
            let range = try frames.map { try FrameRange(parsing: $0) } ?? .all
            let source = try FrameSource(path: input, kind: MediaKind.of(input), range: range, options: self)
            let count: Int
            if FramePattern.isPattern(output) {
                count = try writeSequence(from: source)
            } else if ImageFormat(pathExtension: URL(fileURLWithPath: output).pathExtension) != nil {
                count = try writeImage(from: source, range: range)
            } else {
                count = try writeVideo(from: source)
            }
            FileHandleStream.standardError.write("strata: wrote \(count) frame\(count == 1 ? "" : "s") to \(output)\n")
        }
    }

    private func writeSequence(from source: FrameSource) throws -> Int {
        let writer = ConcurrentFrameWriter(
            try FrameSequenceWriter(pattern: try FramePattern(output), startNumber: startNumber, options: try writeOptions(for: source)),
            threads: threads)
        var written = 0
        do {
            try source.forEach { image in
                try writer.write(image, index: written)
                written += 1
            }
        } catch {
            // Let frames already queued land before reporting, so nothing finished is lost.
            try? writer.finish()
            throw error
        }
        try writer.finish()
        return written
    }

    /// One frame into one file, as `ffmpeg -i clip.mp4 -frames:v 1 frame.png`: a still, a
    /// one-frame video, or a selection of one frame. A selection of several is refused
    /// before anything is written.
    private func writeImage(from source: FrameSource, range: FrameRange) throws -> Int {
        let several = "\(output) holds one image, and \(input) has several frames\(frames.map { " in --frames \($0)" } ?? ""): write a sequence with a %d pattern (e.g. out/%05d.png) or pick one frame with --frames N"
        if source.kind != .image, let last = range.last, last >= range.first + range.step { throw UsageError(message: several) }
        // The selection may still hold several frames (no --frames, or an open range): decode
        // the first and look for a second before writing.
        var first: Image?
        try source.forEach { image in
            if first != nil { throw UsageError(message: several) }
            first = image
        }
        guard let first else { throw MediaError(path: input, .frameOutOfRange("no frame in the range \(range)")) }
        try ImageFile.write(first, to: URL(fileURLWithPath: output), options: try writeOptions(for: source))
        return 1
    }

    private func writeVideo(from source: FrameSource) throws -> Int {
        var writer: VideoWriter?
        var written = 0
        let options = VideoWriter.Options(codec: VideoWriter.Codec(rawValue: codec) ?? .auto, quality: crf,
                                          frameRate: fps ?? source.frameRate ?? 30)
        try source.forEach { image in
            if writer == nil {
                try AtomicFile.createFolder(URL(fileURLWithPath: output).deletingLastPathComponent())
                writer = try VideoWriter(url: URL(fileURLWithPath: output), width: image.width, height: image.height, options: options)
            }
            try writer!.append(image)
            written += 1
        }
        guard let writer else { throw MediaError(path: input, .frameOutOfRange("no frame to write")) }
        try writer.finish()
        return written
    }
}

/// Frames from an image, a video or a sequence, restricted to a range.
struct FrameSource {
    let path: String
    let kind: MediaKind
    let range: FrameRange
    let maxPixels: Int
    let inputStartNumber: Int?
    let autorotate: Bool
    let threads: Int
    /// Opened once here for its frame rate, then decoded by `forEach`.
    private let video: VideoReader?
    var frameRate: Double? { video?.info.frameRate }

    init(path: String, kind: MediaKind, range: FrameRange, options: Convert) throws {
        self.path = path
        self.kind = kind
        self.range = range
        self.maxPixels = options.maxPixels
        self.inputStartNumber = options.inputStartNumber
        self.autorotate = !options.noAutorotate
        self.threads = options.threads
        video = kind == .video
            ? try VideoReader(url: URL(fileURLWithPath: path), maxPixels: maxPixels, applyRotation: autorotate, threads: threads)
            : nil
    }

    /// The PNG bit depth that keeps the source's samples (16 for 16-bit PNG, deep video, floats).
    func keptBitDepth() throws -> Int {
        switch kind {
        case .image: return try ImageFile.info(URL(fileURLWithPath: path), maxPixels: maxPixels).keptBitDepth
        case .video: return (video?.info.bitDepth ?? 8) > 8 ? 16 : 8
        case .sequence:
            let reader = try FrameSequenceReader(pattern: try FramePattern(path), startNumber: inputStartNumber, maxPixels: maxPixels)
            return try ImageFile.info(URL(fileURLWithPath: reader.pattern.path(reader.startNumber)), maxPixels: maxPixels).keptBitDepth
        }
    }

    func forEach(_ body: (Image) throws -> Void) throws {
        switch kind {
        case .image:
            try body(try ImageFile.read(URL(fileURLWithPath: path), maxPixels: maxPixels))
        case .video:
            try video?.forEachFrame(in: range) { try body($0.image) }
        case .sequence:
            let reader = try FrameSequenceReader(pattern: try FramePattern(path), startNumber: inputStartNumber, maxPixels: maxPixels)
            for index in range.indices(count: reader.count) { try body(try reader.read(index)) }
        }
    }
}
