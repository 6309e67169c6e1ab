import Foundation
import StrataCore
import StrataPipeline

/// `camera.path`: a looping camera move, one pose per frame, for rendering a still scene
/// (its layers) with parallax. Still images beside it accompany every one of its frames.
final class CameraPathStage: FrameSource, Sendable {
    static let descriptor = StageDescriptor(
        name: "camera.path", kind: .source,
        doc: "A looping camera move around the original viewpoint: one pose (metres, degrees) per frame.",
        outputs: [PortSpec("x", .number, doc: "Right, metres."), PortSpec("y", .number, doc: "Up, metres."),
                  PortSpec("z", .number, doc: "Forward, metres."), PortSpec("yaw", .number, doc: "Degrees, positive to the right."),
                  PortSpec("pitch", .number, doc: "Degrees, positive up.")],
        params: [ParamSpec("path", .choice(["circle", "swing", "dolly"]), default: .string("circle"),
                           doc: "circle: round the viewpoint across the view (right and up); swing: left and right; dolly: forward and back."),
                 ParamSpec("frames", .integer(min: 1, max: 100_000), default: .number(48), doc: "Frames in one loop."),
                 ParamSpec("radius", .number(min: 0, max: 100), default: .number(0.1), unit: "m", doc: "How far the camera moves from the viewpoint."),
                 ParamSpec("yaw", .number(min: -180, max: 180), default: .number(0), unit: "deg", doc: "Where the camera looks, throughout.")])

    private let path: String
    let frameCount: Int
    private let radius: Double
    private let yaw: Double
    var isRandomAccess: Bool { true }
    var bitDepth: Int? { nil }
    var summary: String? { "\(path) of \(radius) m in \(frameCount) frames" }

    init(_ context: StageContext) throws {
        path = try context.string("path")
        frameCount = try context.int("frames")
        radius = try context.double("radius")
        yaw = try context.double("yaw")
    }

    /// The pose of frame `index`: a loop whose last frame leads back into the first.
    func pose(_ index: Int) -> (x: Double, y: Double, z: Double) {
        let angle = 2 * Double.pi * Double(index) / Double(frameCount)
        switch path {
        case "swing": return (radius * sin(angle), 0, 0)
        case "dolly": return (0, 0, radius * sin(angle))
        default: return (radius * sin(angle), radius * (1 - cos(angle)) / 2, 0)
        }
    }

    func read(_ index: Int) throws -> PortValues {
        let p = pose(index)
        return PortValues(["x": p.x, "y": p.y, "z": p.z, "yaw": yaw, "pitch": 0.0])
    }
}
