import Foundation
import StrataCore

/// A printf-style file name pattern for numbered frames, such as `frame_%05d.png`.
///
/// Exactly one integer conversion (`%d`, `%5d`, `%05d`) is allowed; `%%` is a literal percent sign.
public struct FramePattern: Sendable, Equatable, CustomStringConvertible {
    /// The pattern as given.
    public let pattern: String
    private let prefix: String, suffix: String
    private let width: Int, zeroPad: Bool

    /// Parses `pattern`; throws when it has no integer conversion or more than one.
    public init(_ pattern: String) throws {
        self.pattern = pattern
        var prefix = "", suffix = ""
        var width = 0, zeroPad = false, found = false
        var chars = Array(pattern)[...]
        while let c = chars.popFirst() {
            if c == "%" {
                if chars.first == "%" { chars.removeFirst(); (found ? { suffix.append("%") } : { prefix.append("%") })(); continue }
                guard !found else { throw MediaError(path: pattern, .unsupported("a frame pattern has exactly one %d conversion")) }
                if chars.first == "0" { zeroPad = true; chars.removeFirst() }
                var digits = ""
                while let d = chars.first, d.isNumber { digits.append(d); chars.removeFirst() }
                guard chars.popFirst() == "d" else {
                    throw MediaError(path: pattern, .unsupported("only %d, %Nd and %0Nd conversions are allowed in a frame pattern"))
                }
                width = Int(digits) ?? 0
                guard width <= 20 else { throw MediaError(path: pattern, .unsupported("a %d width above 20")) }
                found = true
            } else if found {
                suffix.append(c)
            } else {
                prefix.append(c)
            }
        }
        guard found else {
            throw MediaError(path: pattern, .unsupported("a frame pattern needs a %d conversion, such as frame_%05d.png"))
        }
        (self.prefix, self.suffix, self.width, self.zeroPad) = (prefix, suffix, width, zeroPad)
    }

    /// Whether `text` contains an integer conversion and so names a sequence.
    public static func isPattern(_ text: String) -> Bool { (try? FramePattern(text)) != nil }

    /// The path of frame number `n`.
    public func path(_ n: Int) -> String {
        let digits = String(n)
        let padding = max(0, width - digits.count)
        return prefix + String(repeating: zeroPad ? "0" : " ", count: padding) + digits + suffix
    }

    public var description: String { pattern }
}

/// Reads the frames of a numbered sequence in order.
public struct FrameSequenceReader: Sendable {
    public let pattern: FramePattern
    /// The number of the first file.
    public let startNumber: Int
    /// How many consecutive files exist from `startNumber`.
    public let count: Int
    public let maxPixels: Int

    /// Opens a sequence. Without `startNumber`, the first existing of 0…4 is used, as ffmpeg does.
    public init(pattern: FramePattern, startNumber: Int? = nil, maxPixels: Int = ImageFile.defaultMaxPixels) throws {
        let exists = { (n: Int) in FileManager.default.fileExists(atPath: pattern.path(n)) }
        let start: Int
        if let startNumber {
            start = startNumber
        } else if let found = (0...4).first(where: exists) {
            start = found
        } else {
            throw MediaError(path: pattern.path(1), .notFound)
        }
        var count = 0
        while exists(start + count) { count += 1 }
        guard count > 0 else { throw MediaError(path: pattern.path(start), .notFound) }
        self.pattern = pattern
        self.startNumber = start
        self.count = count
        self.maxPixels = maxPixels
    }

    /// Reads the frame at position `index` (0 = the file numbered `startNumber`).
    public func read(_ index: Int) throws -> Image {
        guard index >= 0 && index < count else {
            throw MediaError(path: pattern.pattern, .frameOutOfRange("frame \(index) is outside the sequence of \(count)"))
        }
        do {
            return try ImageFile.read(URL(fileURLWithPath: pattern.path(startNumber + index)), maxPixels: maxPixels)
        } catch var error as MediaError {
            error.frame = index
            throw error
        }
    }
}

/// Writes numbered frames, each atomically, creating the folder when missing.
public struct FrameSequenceWriter: Sendable {
    public let pattern: FramePattern
    /// The number given to the first frame (ffmpeg's `-start_number`, default 1).
    public let startNumber: Int
    public let options: ImageWriteOptions

    public init(pattern: FramePattern, startNumber: Int = 1, options: ImageWriteOptions = ImageWriteOptions()) throws {
        self.pattern = pattern
        self.startNumber = startNumber
        self.options = options
        try AtomicFile.createFolder(URL(fileURLWithPath: pattern.path(startNumber)).deletingLastPathComponent())
    }

    /// The file that frame `index` (0-based position in the output) goes to.
    public func url(_ index: Int) -> URL { URL(fileURLWithPath: pattern.path(startNumber + index)) }

    /// Writes frame `index`.
    public func write(_ image: Image, index: Int) throws {
        do {
            try ImageFile.write(image, to: url(index), options: options)
        } catch var error as MediaError {
            error.frame = index
            throw error
        }
    }
}
