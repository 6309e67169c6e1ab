import StrataCore
import StrataPipeline
import StrataSphere

/// `sphere.toPerspective`: a pinhole view cut from an equirect panorama.
final class SphereToPerspectiveStage: FrameProcessor {
    static let descriptor = StageDescriptor(
        name: "sphere.toPerspective", kind: .perFrame, doc: "A perspective view cut from an equirect panorama (py360convert's e2p).",
        inputs: [PortSpec("image", .image)],
        outputs: [PortSpec("image", .image)],
        params: [ParamSpec("yaw", .number(min: -360, max: 360), default: .number(0), unit: "deg", doc: "Turn right (longitude of the view centre)."),
                 ParamSpec("pitch", .number(min: -90, max: 90), default: .number(0), unit: "deg", doc: "Tilt up (latitude of the view centre)."),
                 ParamSpec("roll", .number(min: -360, max: 360), default: .number(0), unit: "deg", doc: "Turn about the view axis (py360convert's in_rot_deg)."),
                 ParamSpec("fov", .number(min: 1, max: 179), default: .number(90), unit: "deg", doc: "Horizontal field of view, edge to edge."),
                 ParamSpec("verticalFOV", .number(min: 1, max: 179), unit: "deg", doc: "Vertical field of view (default: square pixels)."),
                 ParamSpec("width", .integer(min: 1, max: 16384), default: .number(512), unit: "px", doc: "View width."),
                 ParamSpec("height", .integer(min: 1, max: 16384), default: .number(512), unit: "px", doc: "View height."),
                 interpolationParam])

    private let view: PerspectiveView
    private let interpolation: Interpolation

    init(_ context: StageContext) throws {
        view = PerspectiveView(yaw: try context.double("yaw"), pitch: try context.double("pitch"), roll: try context.double("roll"),
                               fov: try context.double("fov"), verticalFOV: try context.optionalDouble("verticalFOV"),
                               width: try context.int("width"), height: try context.int("height"))
        interpolation = try context.interpolation()
    }

    func process(_ inputs: consuming PortValues, frame: FrameInfo) throws -> PortValues {
        let image: Image = try inputs.get("image")
        return PortValues(["image": image.equirectToPerspective(view, interpolation: interpolation)])
    }
}
