import Foundation
import StrataCore
import StrataFluid
import StrataIO
import StrataLayers
import StrataPipeline

/// `fluid.loop`: a still whose fluid flows in a seamless loop, steered by a hints file
/// (Strata's or labelme's): the loop's frames, the moving fluid as its own RGBA layer,
/// and the motion field.
final class FluidLoopStage: FrameSource, @unchecked Sendable {
    static let descriptor = StageDescriptor(
        name: "fluid.loop", kind: .source,
        doc: "A still whose water, sky or smoke flows in a seamless loop along arrows drawn on it (a hints file, or labelme's JSON); only the fluid moves.",
        inputs: [PortSpec("image", .file, doc: "The still (PNG, JPEG)."),
                 PortSpec("hints", .file, doc: "The fluid's region, arrows, anchors: Strata's hints JSON or a labelme annotation."),
                 PortSpec("depth", .file, required: false,
                          doc: "Optional depth of the still (any depth file): arrows keep their speed at their start's distance, and far fluid moves fewer pixels.")],
        outputs: [PortSpec("image", .image, doc: "The loop's frame."),
                  PortSpec("fluid", .image, doc: "The moving fluid alone: RGBA, its alpha the feathered mask."),
                  PortSpec("background", .image,
                           doc: "What stays still: the still, or with cleanPlate the still inpainted where the fluid is opaque; the fluid layer over it is the frame."),
                  PortSpec("field", .image, doc: "The motion field at the pixel centres, pixels per frame (right, down): two channels, for .npy.")],
        params: [ParamSpec("frames", .integer(min: 0, max: 10_000), default: .number(0), doc: "Frames in the loop; 0: the hints file's, else 60."),
                 ParamSpec("speed", .number(min: 0, max: 100), default: .number(1), doc: "Every arrow's speed times this."),
                 ParamSpec("feather", .number(min: -1, max: 256), default: .number(-1), unit: "px",
                           doc: "Width of the fluid's soft edge; -1: the hints file's, else 4."),
                 ParamSpec("sigma", .number(min: 0, max: 100_000), default: .number(0), unit: "px",
                           doc: "Reach of each arrow (the RBF's σ) where the arrow gives none; 0: the image height over the number of arrows."),
                 ParamSpec("project", .boolean, default: .bool(false),
                           doc: "Make the motion divergence-free, with the fluid's edges and the anchors as walls (water flows around rocks and along banks) and the image's border open (a river runs out of the picture). A lake closed on every side then has no net flow left: keep it off for surface motion."),
                 ParamSpec("projection", .choice(["auto", "flat", "equirect"]), default: .string("auto"),
                           doc: "equirect: the loop wraps across the 0°/360° seam; auto: equirect for a 2:1 image."),
                 ParamSpec("fade", .integer(min: -1, max: 10_000), default: .number(-1),
                           doc: "Frames over which each of the loop's two copies fades in where the fluid enters or leaves (an edge it flows out of or into, the image border), so they meet without a seam; -1: a quarter of the loop, 0: none."),
                 ParamSpec("evolve", .number(min: 0, max: 1), default: .number(0),
                           doc: "How much the motion field carries itself along from frame to frame (semi-Lagrangian advection, each step keeping this much of the carried field and taking the rest from the arrows'), so eddies and ripples drift downstream; the field still loops. 0: a static field. Holds one field a frame in memory (8 bytes a pixel each)."),
                 ParamSpec("key", .choice(["none", "luminance", "color"]), default: .string("none"),
                           doc: "Show the moving fluid only where the still is bright (luminance) or near keyColor (color), so that what lies under clear water, such as a riverbed, stays still; the fluid layer's alpha is the mask's times the key's."),
                 ParamSpec("keyColor", .string, default: .string(""),
                           doc: "The colour that moves for key color, as #RRGGBB; empty: the fluid's median colour."),
                 ParamSpec("keyThreshold", .number(min: -1, max: 2), default: .number(-1),
                           doc: "Where half of the fluid shows: luma 0-1 for luminance, RGB distance 0-1.73 from keyColor for color; -1: the fluid's median luma, or 0.25."),
                 ParamSpec("keySoftness", .number(min: 0, max: 2), default: .number(0.2), doc: "Width of the key's ramp around the threshold; 0: a hard cut."),
                 ParamSpec("keyInvert", .boolean, default: .bool(false), doc: "Key the other way: the dark moves, or what is far from keyColor."),
                 ParamSpec("cleanPlate", .boolean, default: .bool(false),
                           doc: "The background output inpainted where the fluid is opaque (exemplar patches from around it), for editing the layers apart; off: the still (free)."),
                 ParamSpec("fieldFile", .string, default: .string(""),
                           doc: "Also write the motion field once under the output folder: a .npy of (height, width, 2), pixels per frame right and down, and beside it a .png on the optical-flow colour wheel; empty: none.")])

    let frameCount: Int
    var isRandomAccess: Bool { true }
    let bitDepth: Int?
    let summary: String?
    private let still: Image
    private let field: MotionField
    /// The field at the pixel centres (the `field` port, and the .npy).
    private let flow: Image
    private let alpha: [Float]
    /// How much of the fluid shows per pixel (the key), or nil for all of it.
    private let shown: [Float]?
    private let loop: FluidLoop
    /// The frames, rendered together on the first read (each frame needs the others' steps),
    /// and the clean plate.
    private let rendered = Mutex<(frames: FluidFrames, background: Image)?>(nil)
    /// Where the field goes, written with the first frames (not while the run is only built).
    private let fieldURL: URL?
    private let cleanPlate: Bool

    init(_ context: StageContext) throws {
        cleanPlate = try context.bool("cleanPlate")
        let fieldFile = try context.string("fieldFile")
        if fieldFile.isEmpty {
            fieldURL = nil
        } else {
            guard fieldFile.lowercased().hasSuffix(".npy") else { throw context.invalid("fieldFile", "\"\(fieldFile)\" must end in .npy") }
            fieldURL = try context.outputURL(fieldFile, param: "fieldFile")
        }
        let imageURL = URL(fileURLWithPath: try context.inputPath("image"))
        let hintsURL = URL(fileURLWithPath: try context.inputPath("hints"))
        let info = try ImageFile.info(imageURL)
        bitDepth = info.bitDepth
        still = try ImageFile.read(imageURL)
        let (w, h) = (still.width, still.height)
        let data: Data
        do { data = try Data(contentsOf: hintsURL) } catch {
            throw FluidError("\(hintsURL.path): cannot be read: \((error as NSError).localizedDescription)", exitCode: 66)
        }
        let controls = try FluidControls(json: data, name: hintsURL.path)
        for note in controls.notes { context.note(note) }

        // The fluid: the mask file (relative to the hints file) and the polygons, less the freeze.
        var fluid = FluidMask.rasterize(controls.polygons, width: w, height: h)
        if let maskPath = controls.maskPath {
            let maskURL = URL(fileURLWithPath: maskPath, relativeTo: hintsURL.deletingLastPathComponent())
            let mask = try ImageFile.read(maskURL)
            guard mask.width == w, mask.height == h else {
                throw FluidError("\(maskURL.path): a mask of \(mask.width)x\(mask.height) for an image of \(w)x\(h)")
            }
            for i in 0..<(w * h) where mask.pixels[i] > 0.5 { fluid[i] = true }
        }
        for (i, frozen) in FluidMask.rasterize(controls.freeze, width: w, height: h).enumerated() where frozen { fluid[i] = false }
        guard fluid.contains(true) else { throw FluidError("\(hintsURL.path): the fluid region is empty (after the freeze region)") }

        // Arrows: outside the image refused, outside the fluid dropped (said).
        let speed = try context.double("speed")
        var hints: [MotionHint] = []
        for (k, hint) in controls.hints.enumerated() {
            let (x, y) = (Int(hint.start.x.rounded()), Int(hint.start.y.rounded()))
            guard x >= 0, x < w, y >= 0, y < h else {
                throw FluidError("\(hintsURL.path): hint \(k + 1) starts at (\(hint.start.x), \(hint.start.y)), outside the \(w)x\(h) image")
            }
            guard fluid[y * w + x] else {
                context.note("hint \(k + 1) at (\(hint.start.x), \(hint.start.y)) is outside the fluid: left out")
                continue
            }
            var scaled = hint
            scaled.speed *= speed
            hints.append(scaled)
        }
        guard !hints.isEmpty else { throw FluidError("\(hintsURL.path): no hint starts inside the fluid") }

        let wrap = switch try context.string("projection") {
        case "equirect": true
        case "flat": false
        default: w == 2 * h
        }
        let sigma = try context.double("sigma")
        var distance: [Float]?
        if context.boundInputs["depth"] != nil {
            let depthURL = URL(fileURLWithPath: try context.inputPath("depth"))
            let depth = try DepthFile.read(depthURL)
            guard depth.width == w, depth.height == h else {
                throw FluidError("\(depthURL.path): a depth of \(depth.width)x\(depth.height) for an image of \(w)x\(h)")
            }
            // Distance from any kind: inverse depth inverted, invalid values left at 0.
            distance = depth.values.pixels.map { v in
                depth.kind == .inverseRelative ? (v > 0 ? 1 / v : 0) : (v > 0 && v.isFinite ? v : 0)
            }
        }
        var field = try MotionField.densify(hints, anchors: controls.anchors, fluid: fluid, width: w, height: h,
                                            sigma: sigma > 0 ? sigma : nil, wrap: wrap, distance: distance)
        if try context.bool("project") { field = field.divergenceFree() }
        self.field = field
        flow = field.atPixels()
        let feather = try context.double("feather")
        alpha = FluidMask.feathered(fluid, width: w, feather: feather >= 0 ? feather : controls.feather ?? 4, wrap: wrap)
        shown = try Self.key(context, still: still, fluid: fluid)
        let frames = try context.int("frames")
        let fade = try context.int("fade")
        loop = try FluidLoop(frames: frames > 0 ? frames : controls.frames ?? 60, fade: fade >= 0 ? fade : nil,
                             evolve: Float(try context.double("evolve")))
        frameCount = loop.frames
        summary = "\(imageURL.path): \(w)x\(h); \(hints.count) hint\(hints.count == 1 ? "" : "s"), \(fluid.filter { $0 }.count) fluid pixels, \(frameCount) frames\(wrap ? ", wrapping" : "")"
    }

    func read(_ index: Int) throws -> PortValues {
        let (frames, background) = try rendered.withLock { done in
            if done == nil {
                if let fieldURL {
                    try AtomicFile.createFolder(fieldURL.deletingLastPathComponent())
                    try NPY.write(flow, to: fieldURL)
                    try PNG.write(field.preview(), to: fieldURL.deletingPathExtension().appendingPathExtension("png"))
                }
                // The clean plate where the fluid is opaque; in its feathered edge the still,
                // so that the fluid layer over the background is the frame exactly.
                let rgb = still.channels > 3 ? still.channels([0, 1, 2]) : still
                // An 8-bit still's loop kept in 8 bits: half the memory, nothing lost.
                var frames = loop.render(still, field: field, alpha: alpha, bits: (bitDepth ?? 16) <= 8 ? 8 : 16)
                if let shown { frames = frames.showing(shown) }
                let opaque = frames.alpha.map { $0 >= 1 }
                let plate = cleanPlate ? Inpainting.fill(rgb, hole: opaque, source: opaque.map { !$0 }, wrap: field.wrap) : rgb
                done = (frames, plate)
            }
            return done!
        }
        let frame = frames.frame(index)
        return PortValues(["image": frame.channels > 3 ? frame.channels([0, 1, 2]) : frame, "fluid": frames.layer(index), "background": background, "field": flow])
    }

    /// The key's weights from the params, or nil without one; its automatic threshold and
    /// colour are the fluid's medians.
    static func key(_ context: StageContext, still: Image, fluid: [Bool]) throws -> [Float]? {
        let kind = try context.string("key")
        guard kind != "none" else { return nil }
        let pixels = fluid.indices.filter { fluid[$0] }
        func median(_ values: [Float]) -> Float { values.sorted()[values.count / 2] }
        let threshold = try context.double("keyThreshold")
        let softness = Float(try context.double("keySoftness"))
        let invert = try context.bool("keyInvert")
        if kind == "luminance" {
            let auto = median(pixels.map { FluidKey.luma(FluidKey.rgb(still, $0)) })
            return FluidKey(.luminance, threshold: threshold >= 0 ? Float(threshold) : auto, softness: softness, invert: invert).weights(still)
        }
        let text = try context.string("keyColor")
        var colour: SIMD3<Float>
        if text.isEmpty {
            let rgb = pixels.map { FluidKey.rgb(still, $0) }
            colour = SIMD3(median(rgb.map { $0.x }), median(rgb.map { $0.y }), median(rgb.map { $0.z }))
        } else {
            let hex = text.hasPrefix("#") ? String(text.dropFirst()) : text
            guard hex.count == 6, let value = UInt32(hex, radix: 16) else {
                throw context.invalid("keyColor", "\"\(text)\" is not a colour: give #RRGGBB")
            }
            colour = SIMD3(Float(value >> 16 & 0xFF), Float(value >> 8 & 0xFF), Float(value & 0xFF)) / 255
        }
        return FluidKey(.color(colour), threshold: threshold >= 0 ? Float(threshold) : 0.25, softness: softness, invert: invert).weights(still)
    }
}
