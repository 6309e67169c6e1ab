import CFFmpeg
import Foundation
import StrataCore

/// Encodes frames into a video file (MP4, MOV, MKV, WebM or AVI by extension), atomically: the
/// file appears under its name only when ``finish()`` succeeds.
public final class VideoWriter {
    /// The video encoder.
    public enum Codec: String, Sendable, Codable, CaseIterable {
        /// H.264 through libx264 when this FFmpeg has it, MPEG-4 Part 2 otherwise.
        case auto
        /// H.264 through libx264; an error when it is missing.
        case h264
        /// FFmpeg's built-in MPEG-4 Part 2 encoder, present in every build.
        case mpeg4
        /// H.265 through libx265.
        case hevc
        /// VP9 through libvpx (MKV or WebM).
        case vp9
        /// AV1 through libsvtav1, libaom or librav1e, whichever this FFmpeg has (MKV, MP4 or WebM).
        case av1
        /// Motion JPEG, FFmpeg's built-in encoder (every frame a JPEG).
        case mjpeg

        /// The FFmpeg encoders that can serve this codec, in order of preference.
        var encoderNames: [String] {
            switch self {
            case .auto: return ["libx264", "mpeg4"]
            case .h264: return ["libx264"]
            case .mpeg4: return ["mpeg4"]
            case .hevc: return ["libx265"]
            case .vp9: return ["libvpx-vp9"]
            case .av1: return ["libsvtav1", "libaom-av1", "librav1e"]
            case .mjpeg: return ["mjpeg"]
            }
        }
    }

    /// How to encode.
    public struct Options: Sendable, Equatable {
        public var codec: Codec = .auto
        /// Constant-quality level on x264's CRF scale: 0 lossless-ish … 51 worst; 18–23 is typical.
        public var quality: Int = 20
        /// Frames per second.
        public var frameRate: Double = 30
        /// Clockwise rotation, in degrees (a multiple of 90), recorded as display metadata.
        public var rotation: Int = 0
        /// 360° metadata to record (players then show the video as a sphere).
        public var spherical: SphericalMapping?
        /// Stereo packing to record.
        public var stereo: StereoLayout?
        /// x264 speed preset (ultrafast … veryslow).
        public var preset: String = "medium"
        /// Frames between keyframes, or nil for the encoder's default (250 for x264).
        public var keyframeInterval: Int?

        public init(codec: Codec = .auto, quality: Int = 20, frameRate: Double = 30, rotation: Int = 0,
                    preset: String = "medium", keyframeInterval: Int? = nil) {
            self.keyframeInterval = keyframeInterval
            self.codec = codec
            self.quality = quality
            self.frameRate = frameRate
            self.rotation = rotation
            self.preset = preset
        }
    }

    /// The file being written.
    public let url: URL
    public let width: Int
    public let height: Int
    /// The FFmpeg encoder in use (libx264 or mpeg4).
    public let encoderName: String
    /// Frames appended so far.
    public private(set) var frameCount = 0

    private let temporary: URL
    private var formatContext: UnsafeMutablePointer<AVFormatContext>?
    private var codecContext: UnsafeMutablePointer<AVCodecContext>?
    private var stream: UnsafeMutablePointer<AVStream>?
    private var frame: UnsafeMutablePointer<AVFrame>?
    private var packet: UnsafeMutablePointer<AVPacket>?
    private var scaler: OpaquePointer?
    private var finished = false
    /// Two sets of RGB rows with aligned strides and a spare row, as swscale's SIMD paths need
    /// (they may read past a row's end), kept from frame to frame: a fresh 6 MB a 1080p frame
    /// would be fresh pages for the kernel to zero each time. The caller fills one while the
    /// encoder takes the other.
    private var rows: [UnsafeMutableRawPointer] = []
    /// The frame each set of rows holds (nil: zeros, or a fill that failed).
    private var held: [Int?] = [nil, nil]
    /// Frames are converted and encoded here, one behind the caller: encoders such as x264
    /// leave a core partly idle between their own threads' frames, and the caller's next
    /// frame (a depth map to colour, a loop frame to compose) fills it.
    private let encoding = DispatchQueue(label: "strata.video.encode")
    /// The first error the encoding thread met; written there, read after waiting for it.
    private let encodingFailure = FailureBox()

    /// Whether this FFmpeg build has the libx264 encoder.
    public static var hasH264Encoder: Bool { isAvailable(.h264) }

    /// Whether this FFmpeg build has an encoder for `codec`.
    public static func isAvailable(_ codec: Codec) -> Bool {
        codec.encoderNames.contains { avcodec_find_encoder_by_name($0) != nil }
    }

    /// Starts a video of `width × height` frames at `url`.
    public init(url: URL, width: Int, height: Int, options: Options = Options()) throws {
        _ = FFmpegLog.configure
        self.url = url
        self.width = width
        self.height = height
        let path = url.path
        guard let container = av_guess_format(nil, url.lastPathComponent, nil),
              ["mp4", "mov", "matroska", "avi", "webm"].contains(String(cString: container.pointee.name)) else {
            throw MediaError(path: path, .unsupported("unknown video extension \".\(url.pathExtension)\" (use .mp4, .mov, .mkv, .webm or .avi)"))
        }
        guard width > 0, height > 0, width % 2 == 0, height % 2 == 0 else {
            throw MediaError(path: path, .unsupported("\(width)x\(height): H.264 and MPEG-4 in 4:2:0 need even, positive width and height (crop or pad the frames)"))
        }
        guard options.frameRate > 0, options.frameRate.isFinite, options.rotation % 90 == 0 else {
            throw MediaError(path: path, .unsupported("frame rate \(options.frameRate) or rotation \(options.rotation)"))
        }
        let candidates = options.codec.encoderNames.compactMap { avcodec_find_encoder_by_name($0) }
        guard let encoder = candidates.first else {
            throw MediaError(path: path, .unsupported("this FFmpeg has no \(options.codec.rawValue) encoder (\(options.codec.encoderNames.joined(separator: ", ")))"))
        }
        guard avformat_query_codec(container, encoder.pointee.id, FF_COMPLIANCE_NORMAL) == 1 else {
            throw MediaError(path: path, .unsupported("a .\(url.pathExtension) file cannot hold \(options.codec.rawValue) video"))
        }
        encoderName = String(cString: encoder.pointee.name)
        temporary = try AtomicFile.temporaryURL(for: url)

        // Resources are kept in locals until everything succeeded; `cleanUp` frees them otherwise.
        var format: UnsafeMutablePointer<AVFormatContext>?
        var codec: UnsafeMutablePointer<AVCodecContext>?
        var frame: UnsafeMutablePointer<AVFrame>?
        var packet: UnsafeMutablePointer<AVPacket>?
        let temporaryPath = temporary.path
        func fail(_ reason: MediaError.Reason) -> MediaError {
            av_frame_free(&frame)
            av_packet_free(&packet)
            avcodec_free_context(&codec)
            if let format {
                if format.pointee.pb != nil { avio_closep(&format.pointee.pb) }
                avformat_free_context(format)
            }
            unlink(temporaryPath)
            return MediaError(path: path, reason)
        }
        var code = avformat_alloc_output_context2(&format, container, nil, temporaryPath)
        guard code >= 0, let format else { throw fail(.notWritable("cannot set up the container (\(FFmpegError(code: code)))")) }
        guard let allocated = avcodec_alloc_context3(encoder) else { throw fail(.notWritable("out of memory")) }
        codec = allocated
        let rate = av_d2q(options.frameRate, 1 << 16)
        allocated.pointee.width = Int32(width)
        allocated.pointee.height = Int32(height)
        allocated.pointee.time_base = AVRational(num: rate.den, den: rate.num)
        allocated.pointee.framerate = rate
        // MJPEG takes full-range ("J") YUV; everything else limited-range 4:2:0.
        let pixelFormat = encoderName == "mjpeg" ? AV_PIX_FMT_YUVJ420P : AV_PIX_FMT_YUV420P
        let fullRange = encoderName == "mjpeg"
        allocated.pointee.pix_fmt = pixelFormat
        allocated.pointee.colorspace = AVCOL_SPC_SMPTE170M
        allocated.pointee.color_range = fullRange ? AVCOL_RANGE_JPEG : AVCOL_RANGE_MPEG
        allocated.pointee.thread_count = 0
        if let interval = options.keyframeInterval { allocated.pointee.gop_size = Int32(max(1, interval)) }
        if format.pointee.oformat.pointee.flags & AVFMT_GLOBALHEADER != 0 {
            allocated.pointee.flags |= Int32(AV_CODEC_FLAG_GLOBAL_HEADER)
        }
        let quality = min(max(options.quality, 0), 51)
        let privateOptions = allocated.pointee.priv_data
        switch encoderName {
        case "libx264", "libx265":
            av_opt_set(privateOptions, "crf", "\(quality)", 0)
            av_opt_set(privateOptions, "preset", options.preset, 0)
            if encoderName == "libx265" { av_opt_set(privateOptions, "x265-params", "log-level=none", 0) }
        case "libvpx-vp9", "libaom-av1":
            // Constant quality: CRF on a 0…63 scale with no bit-rate target.
            av_opt_set(privateOptions, "crf", "\(quality * 63 / 51)", 0)
            allocated.pointee.bit_rate = 0
            av_opt_set(privateOptions, encoderName == "libaom-av1" ? "cpu-used" : "deadline",
                       encoderName == "libaom-av1" ? "6" : "good", 0)
        case "libsvtav1", "librav1e":
            av_opt_set(privateOptions, encoderName == "libsvtav1" ? "crf" : "qp", "\(quality * 63 / 51)", 0)
        default:
            // MPEG-4 Part 2 and MJPEG take a quantiser 2…31; map the CRF scale onto it.
            allocated.pointee.flags |= Int32(AV_CODEC_FLAG_QSCALE)
            allocated.pointee.global_quality = Int32(FF_QP2LAMBDA) * Int32(2 + quality * 29 / 51)
        }
        code = avcodec_open2(allocated, encoder, nil)
        // Encoders may have made this thread and their workers real-time (SVT-AV1 does as root).
        RealTimeScheduling.dropRealTime()
        guard code >= 0 else { throw fail(.unsupported("cannot open the \(encoderName) encoder (\(FFmpegError(code: code)))")) }
        guard let stream = avformat_new_stream(format, nil) else { throw fail(.notWritable("out of memory")) }
        avcodec_parameters_from_context(stream.pointee.codecpar, allocated)
        stream.pointee.time_base = allocated.pointee.time_base
        stream.pointee.avg_frame_rate = rate
        if options.rotation % 360 != 0 {
            // av_display_rotation_set takes clockwise degrees (its getter answers counter-clockwise).
            guard strata_stream_set_rotation(stream, Double(options.rotation)) >= 0 else { throw fail(.notWritable("out of memory")) }
        }
        if options.spherical != nil || options.stereo != nil {
            guard options.spherical?.attach(to: stream) ?? 0 >= 0, options.stereo?.attach(to: stream) ?? 0 >= 0 else {
                throw fail(.notWritable("out of memory"))
            }
            // MP4 writes the sv3d and st3d boxes only when told that unofficial extensions are fine.
            format.pointee.strict_std_compliance = FF_COMPLIANCE_UNOFFICIAL
        }
        code = avio_open(&format.pointee.pb, temporaryPath, AVIO_FLAG_WRITE)
        guard code >= 0 else { throw fail(.notWritable(FFmpegError(code: code).description)) }
        code = avformat_write_header(format, nil)
        guard code >= 0 else { throw fail(.notWritable("cannot write the header (\(FFmpegError(code: code)))")) }
        frame = av_frame_alloc()
        packet = av_packet_alloc()
        guard let frame, packet != nil else { throw fail(.notWritable("out of memory")) }
        frame.pointee.format = pixelFormat.rawValue
        frame.pointee.width = Int32(width)
        frame.pointee.height = Int32(height)
        code = av_frame_get_buffer(frame, 0)
        guard code >= 0 else { throw fail(.notWritable("out of memory")) }
        guard let scaler = sws_getContext(Int32(width), Int32(height), AV_PIX_FMT_RGB24, Int32(width), Int32(height),
                                          pixelFormat, Int32(SWS_BILINEAR | SWS_ACCURATE_RND), nil, nil, nil) else {
            throw fail(.unsupported("cannot convert RGB to YUV 4:2:0"))
        }
        // Full-range sRGB in, BT.601 out in the range the stream is tagged with.
        sws_setColorspaceDetails(scaler, sws_getCoefficients(SWS_CS_DEFAULT), 1,
                                 sws_getCoefficients(SWS_CS_ITU601), fullRange ? 1 : 0, 0, 1 << 16, 1 << 16)
        self.scaler = scaler
        self.formatContext = format
        self.codecContext = codec
        self.stream = stream
        self.frame = frame
        self.packet = packet
    }

    deinit {
        encoding.sync {}
        if !finished, let format = formatContext {
            if format.pointee.pb != nil { avio_closep(&format.pointee.pb) }
            unlink(temporary.path)
        }
        sws_freeContext(scaler)
        for set in rows { set.deallocate() }
        av_frame_free(&frame)
        av_packet_free(&packet)
        avcodec_free_context(&codecContext)
        avformat_free_context(formatContext)
    }

    /// Encodes one frame (gray or colour; alpha is dropped); it must have the video's size.
    public func append(_ image: Image) throws {
        guard !finished else {
            throw MediaError(path: url.path, .notWritable("the video is already finished"), frame: frameCount)
        }
        guard image.width == width, image.height == height else {
            throw MediaError(path: url.path, .unsupported("frame is \(image.width)x\(image.height), the video \(width)x\(height)"), frame: frameCount)
        }
        let rgb = image.channels == 3 ? image : image.rgb()
        try append(rgb24: rgb.interleaved8())
    }

    /// Encodes one frame given as 8-bit RGB, interleaved, row by row (width × height × 3
    /// bytes): what ``append(_:)`` encodes after converting an image, for callers that
    /// already hold such bytes.
    public func append(rgb24 samples: [UInt8]) throws {
        guard samples.count == width * height * 3 else {
            throw MediaError(path: url.path, .unsupported("frame has \(samples.count) bytes, the video \(width)x\(height)x3"), frame: frameCount)
        }
        let rowBytes = width * 3
        try append(rgb24Rows: { rows, stride, _ in
            samples.withUnsafeBytes { src in
                for y in 0..<height { (rows + y * stride).update(from: src.baseAddress!.assumingMemoryBound(to: UInt8.self) + y * rowBytes, count: rowBytes) }
            }
        })
    }

    /// Encodes one frame that `fill` writes straight into the writer's own 8-bit RGB rows:
    /// `fill(rows, stride, held)` gets `height` rows of `width` × 3 bytes (interleaved RGB),
    /// `stride` bytes apart, that hold frame `held` of this video (two frames back: the
    /// writer encodes one frame while the next is filled), or zeros when `held` is nil. A
    /// caller whose frames differ in a few pixels writes only those, and no frame is copied.
    public func append(rgb24Rows fill: (UnsafeMutablePointer<UInt8>, Int, Int?) throws -> Void) throws {
        guard !finished, let frame, let scaler, let codecContext, let formatContext, let stream, let packet else {
            throw MediaError(path: url.path, .notWritable("the video is already finished"), frame: frameCount)
        }
        let stride = rowStride
        if rows.isEmpty {
            rows = (0..<2).map { _ in
                let set = UnsafeMutableRawPointer.allocate(byteCount: stride * (height + 1), alignment: 64)
                set.initializeMemory(as: UInt8.self, repeating: 0, count: stride * (height + 1))
                return set
            }
        }
        // Frame k - 1 may still be encoding from the other set; k - 2 is done with this one.
        let slot = frameCount & 1, before = held[slot]
        held[slot] = nil
        try fill(rows[slot].assumingMemoryBound(to: UInt8.self), stride, before)
        held[slot] = frameCount
        try waitForEncoder()
        // The job holds the encoder's pointers, not the writer: a writer dropped while its
        // last frame encodes waits for it in `deinit`, on the caller's thread.
        let job = UncheckedSendable(EncodeJob(path: url.path, height: height, rows: rows[slot], stride: stride, index: frameCount,
                                              codec: codecContext, format: formatContext, stream: stream, frame: frame,
                                              packet: packet, scaler: scaler, failure: encodingFailure))
        encoding.async { job.value.run() }
        frameCount += 1
    }

    /// Bytes from one RGB row to the next: 64-byte aligned for the scaler's vector loads.
    private var rowStride: Int { (width * 3 + 63) & ~63 }

    /// Waits for the frame in the encoder, and throws what went wrong there.
    private func waitForEncoder() throws {
        encoding.sync {}
        if let failure = encodingFailure.error { throw failure }
    }

    /// Flushes the encoder, writes the trailer and moves the file into place.
    public func finish() throws {
        guard !finished, let format = formatContext, let codecContext, let stream, let packet else { return }
        try waitForEncoder()
        avcodec_send_frame(codecContext, nil)
        try EncodeJob.drain(codecContext, format, stream, packet, path: url.path, frame: frameCount)
        var code = av_write_trailer(format)
        guard code >= 0 else { throw MediaError(path: url.path, .notWritable("cannot finish the file (\(FFmpegError(code: code)))")) }
        code = avio_closep(&format.pointee.pb)
        guard code >= 0 else { throw MediaError(path: url.path, .notWritable(FFmpegError(code: code).description)) }
        finished = true
        try AtomicFile.commit(temporary, to: url)
    }

}

/// The first error met on a writer's encoding queue.
private final class FailureBox: @unchecked Sendable {
    var error: MediaError?
}

/// One frame to convert from a set of RGB rows to the encoder's YUV and to encode, on the
/// writer's encoding queue.
private struct EncodeJob {
    let path: String
    let height: Int
    let rows: UnsafeMutableRawPointer
    let stride: Int
    let index: Int
    let codec: UnsafeMutablePointer<AVCodecContext>
    let format: UnsafeMutablePointer<AVFormatContext>
    let stream: UnsafeMutablePointer<AVStream>
    let frame: UnsafeMutablePointer<AVFrame>
    let packet: UnsafeMutablePointer<AVPacket>
    let scaler: OpaquePointer
    let failure: FailureBox

    func run() {
        guard failure.error == nil else { return }
        do {
            var code = av_frame_make_writable(frame)
            guard code >= 0 else { throw MediaError(path: path, .notWritable(FFmpegError(code: code).description), frame: index) }
            var planes: [UnsafePointer<UInt8>?] = [UnsafePointer(rows.assumingMemoryBound(to: UInt8.self)), nil, nil, nil]
            var strides: [Int32] = [Int32(stride), 0, 0, 0]
            withUnsafeMutablePointer(to: &frame.pointee.data) { data in
                data.withMemoryRebound(to: UnsafeMutablePointer<UInt8>?.self, capacity: 8) { out in
                    withUnsafePointer(to: &frame.pointee.linesize) { lines in
                        lines.withMemoryRebound(to: Int32.self, capacity: 8) { outStrides in
                            _ = sws_scale(scaler, &planes, &strides, 0, Int32(height), out, outStrides)
                        }
                    }
                }
            }
            frame.pointee.pts = Int64(index)
            code = avcodec_send_frame(codec, frame)
            guard code >= 0 else { throw MediaError(path: path, .notWritable("encoding failed (\(FFmpegError(code: code)))"), frame: index) }
            try Self.drain(codec, format, stream, packet, path: path, frame: index)
        } catch {
            failure.error = error as? MediaError ?? MediaError(path: path, .notWritable("\(error)"), frame: index)
        }
    }

    /// Writes the packets the encoder has ready.
    static func drain(_ codec: UnsafeMutablePointer<AVCodecContext>, _ format: UnsafeMutablePointer<AVFormatContext>,
                      _ stream: UnsafeMutablePointer<AVStream>, _ packet: UnsafeMutablePointer<AVPacket>,
                      path: String, frame index: Int) throws {
        while true {
            let code = avcodec_receive_packet(codec, packet)
            if code == FFmpegError.again.code || code == FFmpegError.endOfFile.code { return }
            guard code >= 0 else { throw MediaError(path: path, .notWritable("encoding failed (\(FFmpegError(code: code)))"), frame: index) }
            av_packet_rescale_ts(packet, codec.pointee.time_base, stream.pointee.time_base)
            packet.pointee.stream_index = stream.pointee.index
            let written = av_interleaved_write_frame(format, packet)
            av_packet_unref(packet)
            guard written >= 0 else { throw MediaError(path: path, .notWritable(FFmpegError(code: written).description), frame: index) }
        }
    }
}
