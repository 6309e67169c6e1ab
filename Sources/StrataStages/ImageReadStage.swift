import Foundation
import StrataCore
import StrataIO
import StrataPipeline

/// `image.read`: one still image, which accompanies every frame of a video beside it.
final class ImageReadStage: FrameSource, Sendable {
    static let descriptor = StageDescriptor(
        name: "image.read", kind: .source, doc: "One still image (PNG, JPEG, PFM, NPY).",
        inputs: [PortSpec("source", .file, doc: "The image file.")],
        outputs: [PortSpec("image", .image)])

    private let url: URL
    let bitDepth: Int?
    let summary: String?

    init(_ context: StageContext) throws {
        url = URL(fileURLWithPath: try context.inputPath("source"))
        let info = try ImageFile.info(url)  // fails now, before any frame, when the file is not an image
        bitDepth = info.bitDepth
        summary = "\(url.path): \(info.format.rawValue) \(info.width)x\(info.height), \(info.bitDepth)-bit"
    }

    var frameCount: Int { 1 }
    var isRandomAccess: Bool { true }

    func read(_ index: Int) throws -> PortValues { PortValues(["image": try ImageFile.read(url)]) }
}
