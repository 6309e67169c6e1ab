import Foundation
import StrataCore
import StrataIO
import StrataPipeline

/// `sequence.read`: numbered image files, read on several frames at once.
final class SequenceReadStage: FrameSource, Sendable {
    static let descriptor = StageDescriptor(
        name: "sequence.read", kind: .source, doc: "Frames of a numbered image sequence.",
        inputs: [PortSpec("source", .imageSequence, doc: "A printf pattern such as in/%05d.png.")],
        outputs: [PortSpec("image", .image, doc: "Each image as decoded.")],
        params: [ParamSpec("startNumber", .integer(min: 0, max: nil), doc: "Number of the first file (default: first of 0…4).")])

    private let reader: FrameSequenceReader

    init(_ context: StageContext) throws {
        let text = try context.inputPath("source")
        let pattern: FramePattern
        do { pattern = try FramePattern(text) } catch {
            throw StageSetupError(nodeIndex: context.nodeIndex, param: nil, message: "\"\(text)\" is not a frame pattern: \(error)")
        }
        reader = try FrameSequenceReader(pattern: pattern, startNumber: try context.optionalInt("startNumber"))
        let first = try ImageFile.info(URL(fileURLWithPath: pattern.path(reader.startNumber)))
        bitDepth = first.bitDepth
        summary = "\(text): \(reader.count) files from \(reader.startNumber), \(first.format.rawValue) \(first.width)x\(first.height), \(first.bitDepth)-bit"
    }

    let bitDepth: Int?
    let summary: String?

    var frameCount: Int { reader.count }
    var isRandomAccess: Bool { true }

    func read(_ index: Int) throws -> PortValues { PortValues(["image": try reader.read(index)]) }
}
