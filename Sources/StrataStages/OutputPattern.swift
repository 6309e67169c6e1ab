import Foundation
import StrataCore
import StrataIO
import StrataPipeline

/// The sink's `pattern` param (or another) as a frame pattern under the output folder,
/// with a number in it.
func numberedPattern(_ context: StageContext, param: String = "pattern", extensions: [String]) throws -> FramePattern {
    let text = try context.string(param)
    let url = try context.outputURL(text, param: param)
    let pattern: FramePattern
    do { pattern = try FramePattern(url.path) } catch {
        throw context.invalid(param, "\"\(text)\" is not a printf pattern: \(error)")
    }
    guard pattern.path(1) != pattern.path(2) else {
        throw context.invalid(param, "\"\(text)\" has no frame number (such as %05d), so every frame would overwrite one file")
    }
    let ext = url.pathExtension.lowercased()
    guard extensions.contains(ext) else {
        throw context.invalid(param, "\"\(text)\" must end in \(extensions.map { "." + $0 }.joined(separator: ", "))")
    }
    return pattern
}

/// Creates the folder a pattern writes into and clears temporary files of killed runs from it.
func prepareFolder(of pattern: FramePattern) throws {
    try prepareFolder(containing: URL(fileURLWithPath: pattern.path(1)))
}

/// Creates the folder a file goes into and clears temporary files of killed runs from it.
func prepareFolder(containing file: URL) throws {
    let folder = file.deletingLastPathComponent()
    try AtomicFile.createFolder(folder)
    AtomicFile.removeAbandoned(in: folder)
}
