import StrataCore
import StrataPipeline
import StrataSphere

/// `sphere.toPatches`: tangent patches cut from an equirect panorama.
final class SphereToPatchesStage: FrameProcessor {
    static let layouts = ["icosahedron", "icosahedron1", "icosahedron2", "omnifusion"]
    static let descriptor = StageDescriptor(
        name: "sphere.toPatches", kind: .perFrame, doc: "Tangent (gnomonic) patches cut from an equirect panorama.",
        inputs: [PortSpec("image", .image)],
        outputs: [PortSpec("patches", .patches)],
        params: [ParamSpec("layout", .choice(layouts), default: .string("icosahedron"),
                           doc: "icosahedron (20 patches), icosahedron1 (80), icosahedron2 (320), omnifusion (18: rows of 3, 6, 6, 3)."),
                 ParamSpec("size", .integer(min: 1, max: 8192), default: .number(256), unit: "px", doc: "Pixels across a patch."),
                 ParamSpec("fov", .number(min: 1, max: 170), unit: "deg", doc: "Field of view of every patch (default: the layout's covering field widened by padding)."),
                 ParamSpec("padding", .number(min: 1, max: 3), default: .number(1.3), doc: "Widening of the covering field of view, so neighbours overlap."),
                 interpolationParam])

    private let views: [PerspectiveView]
    private let interpolation: Interpolation

    init(_ context: StageContext) throws {
        let layout: TangentLayout
        switch try context.string("layout") {
        case "icosahedron1": layout = .icosahedron(level: 1)
        case "icosahedron2": layout = .icosahedron(level: 2)
        case "omnifusion": layout = .omniFusion
        default: layout = .icosahedron(level: 0)
        }
        views = layout.patches(size: try context.int("size"), fov: try context.optionalDouble("fov"), padding: try context.double("padding"))
        interpolation = try context.interpolation()
    }

    func process(_ inputs: consuming PortValues, frame: FrameInfo) throws -> PortValues {
        let image: Image = try inputs.get("image")
        return PortValues(["patches": TangentPatches(views: views, images: image.equirectToPerspective(views, interpolation: interpolation))])
    }
}
