import StrataCore

/// Why reading or writing a media file failed, with the file (and frame) it concerns.
///
/// Every failure of StrataIO is one of these; ``exitCode`` gives the sysexits code a
/// command-line tool should exit with.
public struct MediaError: Error, Sendable, Equatable, CustomStringConvertible, ExitCodeProviding {
    /// What went wrong.
    public enum Reason: Sendable, Equatable {
        /// Nothing exists at the path.
        case notFound
        /// The path is a folder where a file was expected.
        case isDirectory
        /// The file exists but cannot be opened or read; the system's message.
        case notReadable(String)
        /// The output cannot be created or written; the system's message.
        case notWritable(String)
        /// The content is not in any format Strata reads (or not the one asked for).
        case unrecognizedFormat(String)
        /// The content claims to be the format but is damaged; the decoder's message.
        case corrupt(String)
        /// The file ends before its content does.
        case truncated
        /// The image is larger than the decoder's pixel limit (a decompression-bomb guard).
        case tooLarge(width: Int, height: Int, limit: Int)
        /// A container without any video stream.
        case noVideoStream
        /// Valid, but something Strata does not do (a layout, a codec, a channel count).
        case unsupported(String)
        /// A frame index or range outside the file.
        case frameOutOfRange(String)
    }

    /// The file concerned.
    public var path: String
    /// What went wrong.
    public var reason: Reason
    /// The frame concerned, for videos and sequences.
    public var frame: Int?

    /// An error about `path`.
    public init(path: String, _ reason: Reason, frame: Int? = nil) {
        self.path = path
        self.reason = reason
        self.frame = frame
    }

    /// The sysexits code: 66 for missing input, 73 for outputs that cannot be created,
    /// 74 for other I/O, 65 for bad data.
    public var exitCode: Int32 {
        switch reason {
        case .notFound, .isDirectory, .notReadable: return 66
        case .notWritable: return 73
        case .unrecognizedFormat, .corrupt, .truncated, .tooLarge, .noVideoStream, .unsupported, .frameOutOfRange: return 65
        }
    }

    public var description: String {
        let place = frame.map { "\(path) (frame \($0))" } ?? path
        switch reason {
        case .notFound: return "\(place): no such file"
        case .isDirectory: return "\(place): is a folder, not a file"
        case .notReadable(let why): return "\(place): cannot read: \(why)"
        case .notWritable(let why): return "\(place): cannot write: \(why)"
        case .unrecognizedFormat(let why): return "\(place): \(why)"
        case .corrupt(let why): return "\(place): corrupt data: \(why)"
        case .truncated: return "\(place): truncated: the file ends before its content does"
        case .tooLarge(let w, let h, let limit):
            return "\(place): \(w)x\(h) is \(w * h) pixels, above the limit of \(limit) (raise it with --max-pixels if the file is trusted)"
        case .noVideoStream: return "\(place): has no video stream"
        case .unsupported(let why): return "\(place): unsupported: \(why)"
        case .frameOutOfRange(let why): return "\(place): \(why)"
        }
    }
}
