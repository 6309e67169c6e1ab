import StrataCore
import StrataPipeline
import StrataSphere

/// `sphere.fromCube`: six cube faces back to an equirect panorama.
final class SphereFromCubeStage: FrameProcessor {
    static let descriptor = StageDescriptor(
        name: "sphere.fromCube", kind: .perFrame, doc: "Six cube faces → an equirect panorama (seams read the neighbouring faces).",
        inputs: [PortSpec("faces", .cube)],
        outputs: [PortSpec("image", .image)],
        params: [ParamSpec("width", .integer(min: 2, max: 65536), unit: "px", doc: "Panorama width (default: 4 × the face size)."),
                 ParamSpec("height", .integer(min: 1, max: 32768), unit: "px", doc: "Panorama height (default: half the width)."),
                 interpolationParam])

    private let width: Int?
    private let height: Int?
    private let interpolation: Interpolation

    init(_ context: StageContext) throws {
        width = try context.optionalInt("width")
        height = try context.optionalInt("height")
        interpolation = try context.interpolation()
    }

    func process(_ inputs: consuming PortValues, frame: FrameInfo) throws -> PortValues {
        let faces: Cubemap = try inputs.get("faces")
        let w = width ?? 4 * faces.faceSize
        return PortValues(["image": faces.toEquirect(width: w, height: height ?? max(1, w / 2), interpolation: interpolation)])
    }
}
