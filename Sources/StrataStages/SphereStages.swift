import StrataCore
import StrataPipeline
import StrataSphere

/// The interpolation param every sphere stage shares.
let interpolationParam = ParamSpec("interpolation", .choice(Interpolation.allCases.map(\.rawValue)), default: .string("bilinear"),
                                   doc: "Sampling: bilinear, bicubic, or nearest for ids and masks.")

extension StageContext {
    func interpolation() throws -> Interpolation { Interpolation(rawValue: try string("interpolation"))! }
}

/// `sphere.toCube`: an equirect panorama as six cube faces, optionally padded from the sphere.
final class SphereToCubeStage: FrameProcessor {
    static let descriptor = StageDescriptor(
        name: "sphere.toCube", kind: .perFrame, doc: "Equirect panorama → six cube faces F R B L U D, padded from the sphere if asked.",
        inputs: [PortSpec("image", .image, doc: "An equirect panorama (any channel count).")],
        outputs: [PortSpec("faces", .cube)],
        params: [ParamSpec("faceSize", .integer(min: 1, max: 16384), unit: "px", doc: "Pixels across a face (default: a quarter of the panorama's width)."),
                 ParamSpec("padding", .integer(min: 0, max: 4096), default: .number(0), unit: "px", doc: "Pixels of the sphere beyond each face edge (image-level cube padding)."),
                 interpolationParam])

    private let faceSize: Int?
    private let padding: Int
    private let interpolation: Interpolation

    init(_ context: StageContext) throws {
        faceSize = try context.optionalInt("faceSize")
        padding = try context.int("padding")
        interpolation = try context.interpolation()
        if let faceSize, padding > faceSize { throw context.invalid("padding", "\(padding) is more than the face size \(faceSize)") }
    }

    func process(_ inputs: consuming PortValues, frame: FrameInfo) throws -> PortValues {
        let image: Image = try inputs.get("image")
        let n = faceSize ?? max(1, image.width / 4)
        guard padding <= n else { throw StageError("padding \(padding) is more than the face size \(n)", exitCode: 65) }
        return PortValues(["faces": image.equirectToCube(faceSize: n, padding: padding, interpolation: interpolation)])
    }
}

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
