import CFFmpeg
import Foundation
import StrataCore

/// One decoded video frame.
public struct VideoFrame: Sendable {
    /// Position in the stream, counting from 0.
    public var index: Int
    /// Presentation time in seconds from the start of the stream.
    public var timestamp: Double
    /// RGB, 0…1, rotation metadata applied when the reader was asked to.
    public var image: Image
}

/// Decodes the best video stream of any file FFmpeg can open, one frame at a time.
///
/// Memory stays flat whatever the length: one packet and one frame are reused, and each
/// returned image is the caller's. Frames come in presentation order; ``seek(toFrame:)`` is
/// accurate on every container: it lands before the asked frame (backing off where the
/// container's seek lands late, as MPEG-TS's timestamp search does) and decodes forward.
public final class VideoReader {
    /// The file.
    public let url: URL
    /// What the file holds.
    public let info: VideoInfo
    /// Whether frames are turned as the display matrix asks.
    public let appliesRotation: Bool
    /// Whether any damage stops decoding with an error naming the frame (`strata info
    /// --check`), instead of being concealed and skipped as FFmpeg does for playback.
    public let strict: Bool

    private var formatContext: UnsafeMutablePointer<AVFormatContext>?
    private var codecContext: UnsafeMutablePointer<AVCodecContext>?
    private var packet: UnsafeMutablePointer<AVPacket>?
    private var frame: UnsafeMutablePointer<AVFrame>?
    private var scaler: OpaquePointer?
    private let streamIndex: Int32
    private let timeBase: Double
    private let startPTS: Int64
    /// Whether frames carry timestamps to number them by after a seek; without them (a raw
    /// elementary stream) frames are counted from the start.
    private let timestamped: Bool
    /// Whether the start of the file is the start of the stream, so rewinding is a seek to
    /// byte 0 (containers without an index, where a timestamp seek may land late).
    private let rewindsByByte: Bool
    private let interrupt = InterruptDeadline()

    private var nextIndex = 0
    private var seekTarget: Int?
    /// Frames before this index are decoded but not converted (reading forward to a frame).
    private var skipBelow = 0
    /// The same for a seek in a stream without timestamps: frames are counted from the start.
    private var countingTo = 0
    private var draining = false
    private var finished = false
    private var framesReturned = 0
    private var consecutiveErrors = 0
    private var lastError: FFmpegError?

    /// Opens `url`; `threads` 0 lets the decoder use every core.
    public init(url: URL, maxPixels: Int = ImageFile.defaultMaxPixels, applyRotation: Bool = true, threads: Int = 0,
                strict: Bool = false) throws {
        _ = FFmpegLog.configure
        self.url = url
        self.strict = strict
        self.appliesRotation = applyRotation
        try FileAccess.checkReadable(url)
        let path = url.path

        var context = avformat_alloc_context()
        guard context != nil else { throw MediaError(path: path, .corrupt("out of memory")) }
        context!.pointee.interrupt_callback = AVIOInterruptCB(callback: InterruptDeadline.callback,
                                                              opaque: Unmanaged.passUnretained(interrupt).toOpaque())
        interrupt.arm(seconds: 30)
        var code = avformat_open_input(&context, path, nil, nil)
        guard code >= 0, let format = context else {
            throw MediaError(path: path, .unrecognizedFormat("not a video FFmpeg can read (\(FFmpegError(code: code)))"))
        }
        // Any failure below leaves `self` half-built: deinit does not run, so clean up here.
        var openedCodec: UnsafeMutablePointer<AVCodecContext>?
        func fail(_ reason: MediaError.Reason) -> MediaError {
            avcodec_free_context(&openedCodec)
            avformat_close_input(&context)
            return MediaError(path: path, reason)
        }
        interrupt.arm(seconds: 60)
        code = avformat_find_stream_info(format, nil)
        guard code >= 0 else { throw fail(.corrupt("cannot read the stream headers (\(FFmpegError(code: code)))")) }

        var decoder: UnsafePointer<AVCodec>?
        let index = av_find_best_stream(format, AVMEDIA_TYPE_VIDEO, -1, -1, &decoder, 0)
        guard index >= 0 else {
            // Tell "no video at all" from "video we have no decoder for".
            let streams = UnsafeBufferPointer(start: format.pointee.streams, count: Int(format.pointee.nb_streams))
            if let video = streams.first(where: { $0?.pointee.codecpar.pointee.codec_type == AVMEDIA_TYPE_VIDEO }) {
                let name = String(cString: avcodec_get_name(video!.pointee.codecpar.pointee.codec_id))
                throw fail(.unsupported("no decoder for the \(name) video codec in this FFmpeg"))
            }
            throw fail(.noVideoStream)
        }
        streamIndex = index
        let stream = format.pointee.streams[Int(index)]!
        let parameters = stream.pointee.codecpar!
        let codedWidth = Int(parameters.pointee.width), codedHeight = Int(parameters.pointee.height)
        guard codedWidth > 0, codedHeight > 0 else { throw fail(.corrupt("the video stream has no frame size")) }
        guard maxPixels <= 0 || codedWidth * codedHeight <= maxPixels else {
            throw fail(.tooLarge(width: codedWidth, height: codedHeight, limit: maxPixels))
        }

        guard let codec = avcodec_alloc_context3(decoder) else { throw fail(.corrupt("out of memory")) }
        openedCodec = codec
        code = avcodec_parameters_to_context(codec, parameters)
        guard code >= 0 else { throw fail(.corrupt("bad codec parameters (\(FFmpegError(code: code)))")) }
        codec.pointee.thread_count = Int32(max(0, threads))
        // Strict: the decoder reports damage it would otherwise conceal.
        if strict { codec.pointee.err_recognition |= AV_EF_EXPLODE | AV_EF_CRCCHECK | AV_EF_BITSTREAM }
        codec.pointee.pkt_timebase = stream.pointee.time_base
        code = avcodec_open2(codec, decoder, nil)
        guard code >= 0 else { throw fail(.unsupported("cannot open the decoder (\(FFmpegError(code: code)))")) }

        timeBase = av_q2d(stream.pointee.time_base)
        startPTS = stream.pointee.start_time == strata_nopts_value() ? 0 : stream.pointee.start_time
        timestamped = stream.pointee.start_time != strata_nopts_value()
        let containerName = String(cString: format.pointee.iformat.pointee.name)
        rewindsByByte = format.pointee.iformat.pointee.flags & AVFMT_NO_BYTE_SEEK == 0
            && containerName.split(separator: ",").contains { ["mpegts", "mpeg", "mpegvideo", "h264", "hevc", "m4v", "mpegtsraw"].contains($0) }
        var rate = stream.pointee.avg_frame_rate
        if rate.num <= 0 || rate.den <= 0 { rate = stream.pointee.r_frame_rate }
        let fps = (rate.num > 0 && rate.den > 0) ? av_q2d(rate) : 25
        var duration = stream.pointee.duration != strata_nopts_value() && stream.pointee.duration > 0
            ? Double(stream.pointee.duration) * timeBase : 0
        if duration == 0, format.pointee.duration > 0 { duration = Double(format.pointee.duration) / Double(AV_TIME_BASE) }
        let recorded = Int(stream.pointee.nb_frames)
        let ccw = strata_stream_rotation(stream)
        let rotation = ccw.isNaN ? 0 : ((Int((-ccw / 90).rounded()) % 4 + 4) % 4) * 90
        let pixelFormat = av_get_pix_fmt_name(AVPixelFormat(rawValue: parameters.pointee.format)).map { String(cString: $0) } ?? "unknown"
        let bitDepth = av_pix_fmt_desc_get(AVPixelFormat(rawValue: parameters.pointee.format)).map { Int($0.pointee.comp.0.depth) } ?? 8
        let turned = applyRotation && rotation % 180 == 90
        info = VideoInfo(width: turned ? codedHeight : codedWidth, height: turned ? codedWidth : codedHeight,
                         codedWidth: codedWidth, codedHeight: codedHeight,
                         frameCount: recorded > 0 ? recorded : Int((duration * fps).rounded()),
                         frameCountIsEstimate: recorded <= 0, frameRate: fps, duration: duration, rotation: rotation,
                         codec: String(cString: avcodec_get_name(parameters.pointee.codec_id)),
                         container: String(cString: format.pointee.iformat.pointee.name),
                         pixelFormat: pixelFormat, bitDepth: bitDepth, bitRate: Int(format.pointee.bit_rate),
                         spherical: SphericalMapping(stream: stream), stereo: StereoLayout(stream: stream))
        var packet = av_packet_alloc()
        var frame = av_frame_alloc()
        guard packet != nil, frame != nil else {
            av_packet_free(&packet)
            av_frame_free(&frame)
            throw fail(.corrupt("out of memory"))
        }
        self.packet = packet
        self.frame = frame
        self.formatContext = format
        self.codecContext = codec
    }

    deinit {
        sws_freeContext(scaler)
        av_packet_free(&packet)
        av_frame_free(&frame)
        avcodec_free_context(&codecContext)
        avformat_close_input(&formatContext)
    }

    /// The next frame in presentation order, or nil at the end of the stream.
    public func nextFrame() throws -> VideoFrame? {
        guard let codec = codecContext, let frame, let packet, let format = formatContext else { return nil }
        while !finished {
            let received = avcodec_receive_frame(codec, frame)
            if received == 0 {
                consecutiveErrors = 0
                if strict && (frame.pointee.flags & AV_FRAME_FLAG_CORRUPT != 0 || frame.pointee.decode_error_flags != 0) {
                    av_frame_unref(frame)
                    throw MediaError(path: url.path, .corrupt("frame \(nextIndex) decodes with errors (damaged data)"), frame: nextIndex)
                }
                defer { av_frame_unref(frame) }
                let pts = frame.pointee.best_effort_timestamp
                let timestamp = pts == strata_nopts_value() ? Double(nextIndex) / info.frameRate : Double(pts - startPTS) * timeBase
                if let target = seekTarget {
                    // After a seek, frame numbers come from timestamps until the target is reached.
                    let position = pts == strata_nopts_value() ? target : Int((timestamp * info.frameRate).rounded())
                    if position < target { continue }
                    nextIndex = position
                    seekTarget = nil
                }
                if nextIndex < max(skipBelow, countingTo) {
                    nextIndex += 1
                    continue
                }
                let image = try convert(frame)
                let result = VideoFrame(index: nextIndex, timestamp: timestamp, image: image)
                countingTo = 0
                nextIndex += 1
                framesReturned += 1
                return result
            }
            if received == FFmpegError.endOfFile.code {
                finished = true
                break
            }
            if received != FFmpegError.again.code {
                try noteError(FFmpegError(code: received))
                continue
            }
            if draining { finished = true; break }
            interrupt.arm(seconds: 30)
            let read = av_read_frame(format, packet)
            if read < 0 {
                if interrupt.expired { throw MediaError(path: url.path, .corrupt("reading timed out"), frame: nextIndex) }
                if read != FFmpegError.endOfFile.code {
                    lastError = FFmpegError(code: read)
                    if strict {
                        throw MediaError(path: url.path, .corrupt("unreadable data after frame \(nextIndex - 1) (\(FFmpegError(code: read)))"), frame: nextIndex)
                    }
                }
                // End of file (or an unreadable tail): flush what the decoder still holds.
                avcodec_send_packet(codec, nil)
                draining = true
                continue
            }
            defer { av_packet_unref(packet) }
            guard packet.pointee.stream_index == streamIndex else { continue }
            if strict && packet.pointee.flags & AV_PKT_FLAG_CORRUPT != 0 {
                throw MediaError(path: url.path, .corrupt("a damaged or cut packet after frame \(nextIndex - 1)"), frame: nextIndex)
            }
            let sent = avcodec_send_packet(codec, packet)
            if sent < 0 && sent != FFmpegError.again.code { try noteError(FFmpegError(code: sent)) }
        }
        if framesReturned == 0, let lastError {
            throw MediaError(path: url.path, .corrupt("no frame could be decoded (\(lastError))"))
        }
        return nil
    }

    /// Positions the reader so that the next ``nextFrame()`` returns frame `index`.
    ///
    /// The container seeks to a keyframe at or before the frame's time; where it lands late
    /// (MPEG-TS searches timestamps by bisection, and the first frame decoded may come after
    /// the asked one), the seek backs off by 1, 2, 4… seconds until the first frame decoded
    /// is at or before `index`, and from the start of the file as a last resort.
    public func seek(toFrame index: Int) throws {
        guard let format = formatContext else { return }
        guard index >= 0 else {
            throw MediaError(path: url.path, .frameOutOfRange("frame \(index) does not exist (frames count from 0)"))
        }
        guard timestamped, index > 0 else {
            try rewind()
            countingTo = index
            return
        }
        var backoff = 0.0
        while true {
            let seconds = Double(index) / info.frameRate - backoff
            if seconds <= 0 {
                try rewind()
                countingTo = index
                return
            }
            let target = startPTS + Int64((seconds / timeBase).rounded())
            interrupt.arm(seconds: 30)
            let code = av_seek_frame(format, streamIndex, target, AVSEEK_FLAG_BACKWARD)
            if code < 0 {
                // Unseekable input: reading on from here still reaches a later frame.
                guard index >= nextIndex else {
                    throw MediaError(path: url.path, .unsupported("cannot seek back in this file (\(FFmpegError(code: code)))"), frame: index)
                }
                seekTarget = index
                return
            }
            restartDecoding()
            // Where did it land? Decode one frame (not converted) to see; then seek the same
            // way again, since that frame has been taken from the decoder.
            if let landed = try firstPosition(), landed <= index {
                interrupt.arm(seconds: 30)
                _ = av_seek_frame(format, streamIndex, target, AVSEEK_FLAG_BACKWARD)
                restartDecoding()
                seekTarget = index
                return
            }
            backoff = max(1, backoff * 2)
        }
    }

    /// Back to the first frame: by byte for containers without an index, else by timestamp.
    private func rewind() throws {
        guard let format = formatContext else { return }
        interrupt.arm(seconds: 30)
        var code = rewindsByByte ? av_seek_frame(format, -1, 0, AVSEEK_FLAG_BYTE) : -1
        if code < 0 { code = av_seek_frame(format, streamIndex, timestamped ? startPTS : 0, AVSEEK_FLAG_BACKWARD) }
        if code < 0 && nextIndex > 0 {
            throw MediaError(path: url.path, .unsupported("cannot seek back in this file (\(FFmpegError(code: code)))"), frame: 0)
        }
        restartDecoding()
        nextIndex = 0
        seekTarget = nil
        countingTo = 0
    }

    private func restartDecoding() {
        if let codecContext { avcodec_flush_buffers(codecContext) }
        draining = false
        finished = false
    }

    /// The position (from its timestamp) of the next frame the decoder gives, or nil at the end.
    private func firstPosition() throws -> Int? {
        guard let codec = codecContext, let frame, let packet, let format = formatContext else { return nil }
        while true {
            let received = avcodec_receive_frame(codec, frame)
            if received == 0 {
                defer { av_frame_unref(frame) }
                let pts = frame.pointee.best_effort_timestamp
                guard pts != strata_nopts_value() else { continue }
                return Int((Double(pts - startPTS) * timeBase * info.frameRate).rounded())
            }
            if received == FFmpegError.endOfFile.code { return nil }
            if received != FFmpegError.again.code { continue }
            if draining { return nil }
            interrupt.arm(seconds: 30)
            if av_read_frame(format, packet) < 0 {
                avcodec_send_packet(codec, nil)
                draining = true
                continue
            }
            defer { av_packet_unref(packet) }
            guard packet.pointee.stream_index == streamIndex else { continue }
            _ = avcodec_send_packet(codec, packet)
        }
    }

    /// Frame `index`, reading forward from the current position when it is close ahead and
    /// seeking otherwise; frames passed over are decoded (as they must be) but not converted.
    /// Nil when the stream ends first.
    public func frame(at index: Int) throws -> VideoFrame? {
        // Within about two seconds, decoding forward is cheaper than a seek to the keyframe before.
        let seekDistance = max(16, Int(info.frameRate * 2))
        if index < nextIndex || index - nextIndex > seekDistance || seekTarget != nil {
            try seek(toFrame: index)
        }
        skipBelow = index
        defer { skipBelow = 0 }
        while let frame = try nextFrame() {
            if frame.index == index { return frame }
            if frame.index > index { return nil }  // a timestamp gap jumped over it
        }
        return nil
    }

    /// Calls `body` with each frame that `range` selects, in order; seeks to the first.
    public func forEachFrame(in range: FrameRange = .all, _ body: (VideoFrame) throws -> Void) throws {
        if range.first > 0 { try seek(toFrame: range.first) }
        while let frame = try nextFrame() {
            if range.isPast(frame.index) { break }
            if range.contains(frame.index) { try body(frame) }
        }
    }

    /// Decodes every frame from the start without converting any (what `strata info
    /// --check` runs, best on a ``strict`` reader); returns how many decoded. Throws at the
    /// first damage, naming the frame; a stream shorter than its header says is damage too.
    public func decodeAll() throws -> Int {
        try rewind()
        skipBelow = .max
        defer { skipBelow = 0 }
        while try nextFrame() != nil {}
        if nextIndex == 0 { throw MediaError(path: url.path, .corrupt("no frame decodes")) }
        // MPEG-TS has no frame count or index to compare with, and FFmpeg drops a cut last
        // packet silently; a file that is not whole packets (188 bytes, 192 for M2TS, 204
        // with Reed-Solomon) was cut.
        if info.container == "mpegts", let size = (try? FileManager.default.attributesOfItem(atPath: url.path))?[.size] as? Int,
           ![188, 192, 204].contains(where: { size % $0 == 0 }) {
            throw MediaError(path: url.path, .corrupt("the file ends in the middle of a transport packet (\(size) bytes): it was cut after frame \(nextIndex - 1)"), frame: nextIndex)
        }
        if !info.frameCountIsEstimate && nextIndex < info.frameCount {
            throw MediaError(path: url.path, .corrupt("the stream ends after \(nextIndex) frames; the header promised \(info.frameCount)"), frame: nextIndex)
        }
        return nextIndex
    }

    /// Counts the frames by reading every packet of the stream (no decoding); exact where the
    /// header's count is missing or wrong. Leaves the reader at the start.
    public func countFrames() throws -> Int {
        guard let format = formatContext, let packet else { return 0 }
        try rewind()
        var count = 0
        while true {
            interrupt.arm(seconds: 30)
            if av_read_frame(format, packet) < 0 { break }
            if packet.pointee.stream_index == streamIndex { count += 1 }
            av_packet_unref(packet)
        }
        try rewind()
        return count
    }

    private func noteError(_ error: FFmpegError) throws {
        lastError = error
        if strict { throw MediaError(path: url.path, .corrupt("damaged data at frame \(nextIndex) (\(error))"), frame: nextIndex) }
        consecutiveErrors += 1
        // A damaged packet is skipped as FFmpeg does; an endless run of them is a broken file.
        if consecutiveErrors > 500 {
            throw MediaError(path: url.path, .corrupt("the stream does not decode (\(error))"), frame: nextIndex)
        }
    }

    /// Converts a decoded frame to planar RGB through swscale, honouring its colour matrix and range.
    private func convert(_ frame: UnsafeMutablePointer<AVFrame>) throws -> Image {
        let width = Int(frame.pointee.width), height = Int(frame.pointee.height)
        let source = AVPixelFormat(rawValue: frame.pointee.format)
        guard width > 0, height > 0, let descriptor = av_pix_fmt_desc_get(source) else {
            throw MediaError(path: url.path, .corrupt("a frame without a size or pixel format"), frame: nextIndex)
        }
        let deep = descriptor.pointee.comp.0.depth > 8
        let target = deep ? AV_PIX_FMT_RGB48LE : AV_PIX_FMT_RGB24
        // Bicubic, as the ffmpeg command line converts: frames match `ffmpeg -i clip.mp4 %05d.png`.
        // (swscale's planar-float output was tried: it interpolates chroma fully, which is
        // finer but makes every PNG ~6% larger and slower to write; see BENCHMARKS.md.)
        scaler = sws_getCachedContext(scaler, Int32(width), Int32(height), source, Int32(width), Int32(height), target,
                                      Int32(SWS_BICUBIC), nil, nil, nil)
        guard let scaler else { throw MediaError(path: url.path, .unsupported("cannot convert \(String(cString: descriptor.pointee.name)) to RGB"), frame: nextIndex) }
        if descriptor.pointee.flags & UInt64(AV_PIX_FMT_FLAG_RGB) == 0 {
            let matrix: Int32
            switch frame.pointee.colorspace {
            case AVCOL_SPC_BT709: matrix = SWS_CS_ITU709
            case AVCOL_SPC_BT2020_NCL, AVCOL_SPC_BT2020_CL: matrix = SWS_CS_BT2020
            case AVCOL_SPC_SMPTE240M: matrix = SWS_CS_SMPTE240M
            case AVCOL_SPC_FCC: matrix = SWS_CS_FCC
            default: matrix = SWS_CS_DEFAULT
            }
            let fullRange: Int32 = frame.pointee.color_range == AVCOL_RANGE_JPEG || source == AV_PIX_FMT_YUVJ420P
                || source == AV_PIX_FMT_YUVJ422P || source == AV_PIX_FMT_YUVJ444P ? 1 : 0
            sws_setColorspaceDetails(scaler, sws_getCoefficients(matrix), fullRange,
                                     sws_getCoefficients(SWS_CS_DEFAULT), 1, 0, 1 << 16, 1 << 16)
        }
        // swscale's SIMD paths may write past the end of a row: give every row a 64-byte
        // aligned stride and the buffer a spare row, as av_image_alloc would.
        let bytesPerSample = deep ? 2 : 1
        let stride = (width * 3 * bytesPerSample + 63) & ~63
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: stride * (height + 1), alignment: 64)
        defer { buffer.deallocate() }
        var destination: [UnsafeMutablePointer<UInt8>?] = [buffer.assumingMemoryBound(to: UInt8.self), nil, nil, nil]
        var strides: [Int32] = [Int32(stride), 0, 0, 0]
        withUnsafePointer(to: &frame.pointee.data) { data in
            data.withMemoryRebound(to: UnsafePointer<UInt8>?.self, capacity: 8) { planes in
                withUnsafePointer(to: &frame.pointee.linesize) { lines in
                    lines.withMemoryRebound(to: Int32.self, capacity: 8) { lineSizes in
                        _ = sws_scale(scaler, planes, lineSizes, 0, Int32(height), &destination, &strides)
                    }
                }
            }
        }
        let rows = UncheckedSendable(buffer)
        var image = Image(width: width, height: height, channels: 3, uninitialized: { planes in
            let output = UncheckedSendable(planes.baseAddress!)
            Parallel.forEachBand(height, minimumBand: 32) { band in
                for y in band {
                    let row = rows.value + y &* stride
                    if deep {
                        Interleaving.deinterleave(row.assumingMemoryBound(to: UInt16.self), into: output.value, planeSize: width * height,
                                                  offset: y &* width, count: width, channels: 3, scale: 1 / 65535)
                    } else {
                        Interleaving.deinterleave(row.assumingMemoryBound(to: UInt8.self), into: output.value, planeSize: width * height,
                                                  offset: y &* width, count: width, channels: 3, scale: 1 / 255)
                    }
                }
            }
        })
        if appliesRotation && info.rotation != 0 { image = image.rotated(clockwiseDegrees: Double(info.rotation)) }
        return image
    }
}
