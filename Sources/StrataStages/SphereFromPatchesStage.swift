import StrataCore
import StrataPipeline
import StrataSphere

/// `sphere.fromPatches`: tangent patches merged back onto an equirect panorama.
final class SphereFromPatchesStage: FrameProcessor {
    static let descriptor = StageDescriptor(
        name: "sphere.fromPatches", kind: .perFrame, doc: "Tangent patches (or any views) merged back onto an equirect panorama.",
        inputs: [PortSpec("patches", .patches)],
        outputs: [PortSpec("image", .image), PortSpec("weight", .image, doc: "The summed weight each pixel received.")],
        params: [ParamSpec("width", .integer(min: 2, max: 65536), default: .number(2048), unit: "px", doc: "Panorama width."),
                 ParamSpec("height", .integer(min: 1, max: 32768), unit: "px", doc: "Panorama height (default: half the width)."),
                 ParamSpec("weighting", .choice(FusionWeighting.allCases.map(\.rawValue)), default: .string("feather"),
                           doc: "feather (weights fall to zero at each patch border), mean, or nearest (the most central patch)."),
                 interpolationParam])

    private let width: Int
    private let height: Int
    private let weighting: FusionWeighting
    private let interpolation: Interpolation

    init(_ context: StageContext) throws {
        width = try context.int("width")
        height = try context.optionalInt("height") ?? max(1, width / 2)
        weighting = FusionWeighting(rawValue: try context.string("weighting"))!
        interpolation = try context.interpolation()
    }

    func process(_ inputs: consuming PortValues, frame: FrameInfo) throws -> PortValues {
        let patches: TangentPatches = try inputs.get("patches")
        let fused = try SphereFusion(views: patches.views, images: patches.images, width: width, height: height,
                                     weighting: weighting, interpolation: interpolation, fill: 0)
        return PortValues(["image": fused.image, "weight": fused.weight])
    }
}
