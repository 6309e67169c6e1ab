import CFFmpeg
import Dispatch

#if canImport(Glibc)
import Glibc
#endif

/// An FFmpeg error code, described by FFmpeg's own message (open to any code, like `Errno`).
struct FFmpegError: Error, Equatable, CustomStringConvertible {
    let code: Int32
    static let again = FFmpegError(code: strata_averror_eagain())
    static let endOfFile = FFmpegError(code: strata_averror_eof())

    var description: String {
        var buffer = [CChar](repeating: 0, count: 256)
        buffer.withUnsafeMutableBufferPointer { strata_av_strerror(code, $0.baseAddress, $0.count) }
        return buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }
}

/// Deadlines for FFmpeg's blocking calls, checked by its interrupt callback, so a damaged
/// file can never make a read hang.
final class InterruptDeadline {
    private var deadline: UInt64 = .max

    /// Allows the next blocking calls `seconds` from now.
    func arm(seconds: Double) {
        deadline = DispatchTimeNowNanos() + UInt64(seconds * 1e9)
    }

    var expired: Bool { DispatchTimeNowNanos() > deadline }

    /// The callback FFmpeg calls: non-zero aborts the blocking operation.
    static let callback: @convention(c) (UnsafeMutableRawPointer?) -> Int32 = { opaque in
        guard let opaque else { return 0 }
        return Unmanaged<InterruptDeadline>.fromOpaque(opaque).takeUnretainedValue().expired ? 1 : 0
    }
}

@inline(__always) func DispatchTimeNowNanos() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

enum FFmpegLog {
    /// FFmpeg writes its own warnings to stderr; Strata reports errors itself, so FFmpeg is
    /// quiet unless STRATA_FFMPEG_LOG is set.
    static let configure: Void = {
        if getenv("STRATA_FFMPEG_LOG") == nil { av_log_set_level(AV_LOG_QUIET) }
    }()
}
