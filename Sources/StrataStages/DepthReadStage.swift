import Foundation
import StrataCore
import StrataIO
import StrataPipeline

/// `depth.read`: one depth map from a file (depth from elsewhere: a sensor, a renderer,
/// another tool), which accompanies every frame of a video beside it.
final class DepthReadStage: FrameSource, Sendable {
    static let descriptor = StageDescriptor(
        name: "depth.read", kind: .source,
        doc: "One depth map: a 16-bit PNG, PFM or NPY, read with the depth.json beside it when there is one.",
        inputs: [PortSpec("source", .file, doc: "The depth file.")],
        outputs: [PortSpec("depth", .depth)],
        params: [ParamSpec("kind", .choice(["auto", "metric", "relative", "inverse-relative"]), default: .string("auto"),
                           doc: "What the values are; auto: the sidecar's word, else metric."),
                 ParamSpec("projection", .choice(["auto", "equirect", "perspective"]), default: .string("auto"),
                           doc: "auto: the sidecar's word, else equirect for a 2:1 map.")])

    private let depth: DepthMap
    let summary: String?
    var bitDepth: Int? { nil }

    init(_ context: StageContext) throws {
        let url = URL(fileURLWithPath: try context.inputPath("source"))
        var depth = try DepthFile.read(url)
        let hasSidecar = try DepthSidecar.read(inFolder: url.deletingLastPathComponent()) != nil
        switch try context.string("kind") {
        case "metric": depth.kind = .metric
        case "relative": depth.kind = .relative
        case "inverse-relative": depth.kind = .inverseRelative
        default: break
        }
        switch try context.string("projection") {
        case "equirect": depth.projection = .equirectangular
        case "perspective": depth.projection = .unknown
        default:
            if !hasSidecar, depth.width == 2 * depth.height {
                depth.projection = .equirectangular
                depth.quantity = .rayDistance
            }
        }
        self.depth = depth
        summary = "\(url.path): depth \(depth.width)x\(depth.height), \(depth.kind.rawValue), \(depth.projection == .equirectangular ? "equirect" : "perspective")"
    }

    var frameCount: Int { 1 }
    var isRandomAccess: Bool { true }

    func read(_ index: Int) throws -> PortValues { PortValues(["depth": depth]) }
}
