import Foundation
import StrataIO
import StrataPipeline

/// Human messages go to stderr, so stdout carries only data.
enum FileHandleStream {
    static let standardError = StandardError()
    struct StandardError {
        func write(_ string: String) { FileHandle.standardError.write(Data(string.utf8)) }
    }
}

/// What a path on the command line names.
enum MediaKind {
    case image, video, sequence

    /// Judged by a `%d` in the name, then by the file's signature.
    static func of(_ path: String) -> MediaKind {
        if path.contains("%"), FramePattern.isPattern(path) { return .sequence }
        if ImageFormat(pathExtension: URL(fileURLWithPath: path).pathExtension) != nil { return .image }
        guard let handle = FileHandle(forReadingAtPath: path) else { return .video }
        defer { try? handle.close() }
        let head = (try? handle.read(upToCount: 16)) ?? Data()
        return ImageFormat.sniff(head) != nil ? .image : .video
    }
}

/// Pipeline problems: one `file:/pointer: error[code]: message` line each on stderr, or a
/// JSON array on stdout for machines.
func printDiagnostics(_ found: [Diagnostic], file: String, json: Bool) throws {
    if json {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        print(String(decoding: try encoder.encode(found), as: UTF8.self))
    } else {
        for problem in found { FileHandleStream.standardError.write(problem.formatted(file: file) + "\n") }
    }
}
