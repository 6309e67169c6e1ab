import Foundation
import StrataCore
import StrataDepth
import StrataIO
import StrataPipeline
import StrataSphere

/// `depth.estimate`: monocular depth of each frame, from the built-in prior or a network.
final class DepthEstimateStage: FrameProcessor {
    static let descriptor = StageDescriptor(
        name: "depth.estimate", kind: .perFrame,
        doc: "Monocular depth: the built-in prior (no weights), or an ONNX network (MiDaS, DPT, Depth Anything V2) with its preset or sidecar.",
        inputs: [PortSpec("image", .image)],
        outputs: [PortSpec("depth", .depth, doc: "Relative inverse depth (metres for metric models), the frame's size."),
                  PortSpec("confidence", .mask, doc: "0…1 per pixel.")],
        params: [ParamSpec("model", .string, default: .string("builtin"),
                           doc: "\"builtin\", or the path of an ONNX model (its preprocessing from `preset` or a MODEL.json sidecar)."),
                 ParamSpec("preset", .choice(NetworkPreset.allCases.map(\.rawValue)), doc: "The network family's preprocessing and output."),
                 ParamSpec("upsampling", .choice(DepthUpsampling.allCases.map(\.rawValue)), default: .string("bilinear"),
                           doc: "Network output back to the frame: bilinear, or guided (follows the frame's edges)."),
                 ParamSpec("projection", .choice(["auto", "perspective", "equirect"]), default: .string("auto"),
                           doc: "What the frames are: auto takes 2:1 frames as equirect panoramas."),
                 ParamSpec("fov", .number(min: 1, max: 179), default: .number(60), unit: "deg", doc: "Horizontal field of view of perspective frames (recorded in the sidecar)."),
                 ParamSpec("workingSize", .integer(min: 16, max: 4096), default: .number(256), unit: "px",
                           doc: "Built-in prior: long side of the image it reasons on."),
                 ParamSpec("strategy", .choice(["auto"] + PanoramaStrategy.allCases.map(\.rawValue)), default: .string("auto"),
                           doc: "Panoramas: the estimator on the equirect itself (direct), on six padded cube faces (cube), or on tangent patches (tangent), the views aligned on their overlaps and merged; auto: direct for the built-in prior (made for panoramas), tangent for networks."),
                 ParamSpec("layout", .choice(["icosahedron", "icosahedron80", "omnifusion"]), default: .string("icosahedron"),
                           doc: "Tangent strategy: 20 icosahedral patches (360MonoDepth), 80, or OmniFusion's 18."),
                 ParamSpec("viewSize", .integer(min: 0, max: 4096), default: .number(0), unit: "px",
                           doc: "Cube face or patch side; 0: the network's input size (256 for the built-in prior)."),
                 ParamSpec("grid", .string, default: .string("8x7"),
                           doc: "Alignment: scale and shift nodes per view, COLUMNSxROWS (1x1: one affine per view; 8x7 as 360MonoDepth)."),
                 ParamSpec("facePadding", .number(min: 0, max: 0.5), default: .number(0.125),
                           doc: "Cube strategy: each face's padding from the sphere, as a fraction of the face."),
                 ParamSpec("padding", .choice(CubeFacePadding.allCases.map(\.rawValue)), default: .string("image"),
                           doc: "Cube strategy: faces cut wider from the sphere (image), faces run as one batch through a network that pads every convolution from the neighbouring faces (network), or both."),
                 ParamSpec("blending", .choice(PanoramaBlending.allCases.map(\.rawValue)), default: .string("feather"),
                           doc: "How the aligned views merge: feathered weights, or gradient-domain (Poisson in log depth: no step between views shows; slower).")])

    private let estimator: any DepthEstimator
    private let projection: String
    private let fov: Double

    init(_ context: StageContext) throws {
        let model = try context.string("model")
        projection = try context.string("projection")
        fov = try context.double("fov")
        let base: any DepthEstimator
        var networkSize: Int?
        if model == "builtin" {
            if try context.optionalString("preset") != nil { throw context.invalid("preset", "a preset needs a model file; the built-in prior has none") }
            base = PriorDepthEstimator(workingSize: try context.int("workingSize"))
        } else {
            let preset = try context.optionalString("preset").flatMap(NetworkPreset.init(rawValue:))
            // Loading checks the model (and its sidecar) now, before any frame.
            let network = try NetworkDepthEstimator(model: URL(fileURLWithPath: model), preset: preset, threads: context.threads,
                                                    upsampling: DepthUpsampling(rawValue: try context.string("upsampling"))!)
            switch network.network.sizing {
            case .fixed(let width, let height): networkSize = max(width, height)
            case .keepAspect(let target, _, _): networkSize = target
            }
            base = network
        }
        let chosen = try context.string("strategy")
        // The built-in prior reasons about whole panoramas (a room box, a ground plane under
        // the sky): on StrataSynth's room it scores AbsRel 0.047 direct against 0.13–0.15 on
        // views. Networks trained on perspective photos are the ones views help.
        let strategy = chosen == "auto" ? (model == "builtin" ? .direct : .tangent) : PanoramaStrategy(rawValue: chosen)!
        guard strategy != .direct else {
            estimator = base
            return
        }
        let grid = try context.string("grid").lowercased().split(separator: "x").compactMap { Int($0) }
        guard grid.count == 2, (1...64).contains(grid[0]), (1...64).contains(grid[1]) else {
            throw context.invalid("grid", "expected COLUMNSxROWS such as 8x7 or 1x1, each 1…64")
        }
        let layouts: [String: TangentLayout] = ["icosahedron": .icosahedron(level: 0), "icosahedron80": .icosahedron(level: 1), "omnifusion": .omniFusion]
        let facePadding = try context.double("facePadding")
        let cubePadding = CubeFacePadding(rawValue: try context.string("padding"))!
        if strategy == .cube, cubePadding != .image, model == "builtin" {
            throw context.invalid("padding", "cube padding inside the network needs a network model; the built-in prior has none (use image)")
        }
        // By default a view is what the network takes: a cube face with its padding from
        // the sphere fills the network's input.
        var viewSize = try context.int("viewSize")
        if viewSize == 0 {
            let size = networkSize ?? 256
            viewSize = strategy == .cube && cubePadding != .network ? max(8, Int((Double(size) / (1 + 2 * facePadding)).rounded())) : size
        }
        var panorama = PanoramaDepth(strategy: strategy, layout: layouts[try context.string("layout")]!, viewSize: viewSize,
                                     facePadding: facePadding, alignment: ViewAlignment(columns: grid[0], rows: grid[1]))
        panorama.blending = PanoramaBlending(rawValue: try context.string("blending"))!
        panorama.cubePadding = cubePadding
        let estimator = try PanoramaDepthEstimator(base: base, panorama: panorama)
        self.estimator = estimator
        if let network = base as? NetworkDepthEstimator {
            let side = panorama.views[0].width
            let input = network.network.sizing.size(width: side, height: side)
            if (input.width, input.height) != (side, side) {
                context.note("\(strategy.rawValue) views of \(side)x\(side) are resized to the network's \(input.width)x\(input.height) input")
            }
            if strategy == .cube {
                if let session = estimator.cubeSession {
                    if cubePadding != .image, session.rewrites["cube padding"] == nil {
                        context.note("padding \(cubePadding.rawValue): \(model) has no padded convolution or pooling, so cube padding inside it changes nothing")
                    }
                } else {
                    context.note("the graph of \(model) fixes its batch, so the six cube faces run one at a time")
                }
            }
        }
    }

    func process(_ inputs: consuming PortValues, frame: FrameInfo) throws -> PortValues {
        let image: Image = try inputs.get("image")
        let panorama = projection == "equirect" || (projection == "auto" && image.width == 2 * image.height)
        if panorama, image.width != 2 * image.height, let strategy = (estimator as? PanoramaDepthEstimator)?.panorama.strategy {
            throw StageError("the frame is \(image.width)x\(image.height), not a 2:1 equirect panorama, which the \(strategy.rawValue) strategy cuts into views: resize it to 2:1 (image.resize), or set projection to perspective")
        }
        let view: Projection = panorama ? .equirectangular : .pinhole(PinholeIntrinsics(horizontalFOV: fov, width: image.width, height: image.height))
        let estimate = try estimator.estimate(image, projection: view)
        return PortValues(["depth": estimate.depth, "confidence": estimate.confidence])
    }
}

/// `depth.align`: per-frame relative depth on one scale for the whole video (no flicker).
final class DepthAlignStage: FrameProcessor, @unchecked Sendable {
    static let descriptor = StageDescriptor(
        name: "depth.align", kind: .stateful, sharding: .needsFinalize,
        doc: "Fits each frame's scale and shift to the frames before it (confident pixels) and smooths static pixels; the first frame is normalised to 0…1.",
        inputs: [PortSpec("depth", .depth), PortSpec("confidence", .mask, required: false, doc: "Weights of the fit."),
                 PortSpec("image", .image, required: false, doc: "The frames, to report flicker over static pixels at the end.")],
        outputs: [PortSpec("depth", .depth)],
        params: [ParamSpec("smoothing", .number(min: 0, max: 0.95), default: .number(0.5), doc: "Weight of the previous frame on static pixels (0: none)."),
                 ParamSpec("minConfidence", .number(min: 0, max: 1), default: .number(0.3), doc: "Pixels below this confidence stay out of the fit."),
                 ParamSpec("report", .string, doc: "A JSON file under the output folder, rewritten after each frame: frames aligned, last scale and shift, flicker (needs the image input).")])

    // Stateful stages see one frame at a time, in order: the runner guarantees it.
    private var aligner: TemporalAligner
    private var flicker = FlickerMeter()
    private let lock = NSLock()
    private let report: URL?
    private var frames = 0

    init(_ context: StageContext) throws {
        aligner = TemporalAligner(minimumConfidence: Float(try context.double("minConfidence")), smoothing: Float(try context.double("smoothing")))
        report = try context.optionalString("report").map { try context.outputURL($0, param: "report") }
    }

    func process(_ inputs: consuming PortValues, frame: FrameInfo) throws -> PortValues {
        let depth: DepthMap = try inputs.get("depth")
        let confidence: Image? = inputs["confidence"] == nil ? nil : try inputs.get("confidence")
        let image: Image? = inputs["image"] == nil ? nil : try inputs.get("image")
        lock.lock()
        defer { lock.unlock() }
        let aligned = try aligner.align(depth, confidence: confidence)
        if let image { flicker.add(aligned, image: image) }
        frames += 1
        if let report { try writeReport(to: report) }
        return PortValues(["depth": aligned])
    }

    private func writeReport(to url: URL) throws {
        var fields: [String: Any] = ["frames": frames, "scale": aligner.lastFit.scale, "shift": aligner.lastFit.shift]
        if let value = flicker.flicker { fields["flicker"] = value; fields["flickerFramePairs"] = flicker.framePairs }
        let data = try JSONSerialization.data(withJSONObject: fields, options: [.prettyPrinted, .sortedKeys])
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try AtomicFile.write(data, to: url)
    }
}
