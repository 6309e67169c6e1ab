import StrataCore
import StrataPipeline
import StrataSphere

/// `sphere.padCube`: cube padding between stages, from the faces themselves.
final class SpherePadCubeStage: FrameProcessor {
    static let descriptor = StageDescriptor(
        name: "sphere.padCube", kind: .perFrame, doc: "Pad every cube face from its neighbours (tensor-level cube padding).",
        inputs: [PortSpec("faces", .cube)],
        outputs: [PortSpec("faces", .cube)],
        params: [ParamSpec("padding", .integer(min: 0, max: 4096), default: .number(1), unit: "px", doc: "Pixels added on every side."),
                 ParamSpec("mode", .choice(["copy", "resample"]), default: .string("copy"),
                           doc: "copy: the neighbour's strips turned to match, as networks pad; resample: each pixel along its own ray."),
                 interpolationParam])

    private let padding: Int
    private let mode: CubePaddingMode

    init(_ context: StageContext) throws {
        padding = try context.int("padding")
        mode = try context.string("mode") == "copy" ? .copy : .resample(try context.interpolation())
    }

    func process(_ inputs: consuming PortValues, frame: FrameInfo) throws -> PortValues {
        let faces: Cubemap = try inputs.get("faces")
        return PortValues(["faces": try faces.padded(by: padding, mode: mode)])
    }
}
