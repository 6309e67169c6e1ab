import Foundation
import StrataCore
import StrataIO
import StrataLayers
import StrataPipeline

/// `layers.write`: a frame split into depth layers with soft edges and the hidden
/// background filled, written as RGBA PNGs, 16-bit depth PNGs and an OpenRaster file.
final class LayersWriteStage: FrameSink {
    static let descriptor = StageDescriptor(
        name: "layers.write", kind: .sink,
        doc: "Depth layers near to far (soft edges, what nearer layers hide filled): per frame a folder of RGBA and 16-bit depth PNGs with depth.json, the layer id map and layers.json, an OpenRaster .ora for Krita and GIMP, meshes, a glTF scene, points and splats; per layer PNG sequences for video (atomic).",
        inputs: [PortSpec("image", .image, doc: "The colours."),
                 PortSpec("depth", .depth, doc: "Any depth (estimated or read from files); resampled to the image's size if it differs.")],
        params: [ParamSpec("pattern", .string, default: .string("layers/%05d"), doc: "printf pattern of each frame's folder under the output folder; the .ora goes beside it."),
                 ParamSpec("ora", .boolean, default: .bool(true), doc: "Also write FOLDER.ora, the layers in one OpenRaster file."),
                 ParamSpec("points", .boolean, default: .bool(true), doc: "Also write points.ply: every layer as a coloured point cloud (binary PLY)."),
                 ParamSpec("splats", .boolean, default: .bool(true), doc: "Also write splats.ply: 3D Gaussian splats in the 3DGS attribute layout, sized from each pixel's footprint."),
                 ParamSpec("step", .integer(min: 1, max: 64), default: .number(2), unit: "px", doc: "Points and splats: every step-th pixel in each direction."),
                 ParamSpec("meshes", .boolean, default: .bool(true), doc: "Also write mesh-K.ply per layer: triangles with vertex colours, cut at depth discontinuities."),
                 ParamSpec("triangles", .integer(min: 1000, max: nil), default: .number(500_000), doc: "Meshes: at most this many triangles for the whole scene; flat, evenly coloured parts take large triangles, edges and detail small ones."),
                 ParamSpec("glb", .boolean, default: .bool(true), doc: "Also write scene.glb: the layer meshes textured with the layers, glTF binary (Blender, three.js)."),
                 ParamSpec("sequence", .string, default: .string(""),
                           doc: "Also write each layer as a PNG sequence: a printf pattern under the output folder in which {layer} is the layer's index, such as \"layers/{layer}/%05d.png\"; empty: none.")]
                + LayerInputs.params)

    private let folders: FramePattern
    private let decomposition: LayerDecomposition
    private let ora: Bool
    private let points: Bool
    private let splats: Bool
    private let step: Int
    private let meshes: Bool
    private let triangleBudget: Int
    private let glb: Bool
    /// Per layer PNG sequences; nil: none.
    private let sequence: FramePattern?
    private let context: StageContext

    init(_ context: StageContext) throws {
        let text = try context.string("pattern")
        do { folders = try FramePattern(try context.outputURL(text, param: "pattern").path) } catch let error as StageSetupError { throw error } catch {
            throw context.invalid("pattern", "\"\(text)\" is not a printf pattern: \(error)")
        }
        guard folders.path(1) != folders.path(2) else {
            throw context.invalid("pattern", "\"\(text)\" has no frame number (such as %05d), so every frame would overwrite one folder")
        }
        decomposition = try LayerInputs.decomposition(context)
        if try context.string("sequence").isEmpty {
            sequence = nil
        } else {
            sequence = try numberedPattern(context, param: "sequence", extensions: ["png"])
            guard try context.string("sequence").contains("{layer}") else {
                throw context.invalid("sequence", "\"\(try context.string("sequence"))\" has no {layer}, so every layer would overwrite one file")
            }
        }
        self.context = context
        ora = try context.bool("ora")
        points = try context.bool("points")
        splats = try context.bool("splats")
        step = try context.int("step")
        meshes = try context.bool("meshes")
        triangleBudget = try context.int("triangles")
        glb = try context.bool("glb")
    }

    private func folder(_ frame: FrameInfo) -> URL { URL(fileURLWithPath: folders.path(frame.number)) }

    /// `layers.json` is written last: a frame with it is complete.
    func outputs(for frame: FrameInfo) -> [URL]? {
        [folder(frame).appendingPathComponent("layers.json")] + (ora ? [folder(frame).appendingPathExtension("ora")] : [])
    }

    func prepare() throws { try prepareFolder(containing: URL(fileURLWithPath: folders.path(1))) }

    /// Layer `k` of frame `frame` in the PNG sequences.
    private func sequenceFile(_ frame: FrameInfo, layer k: Int) -> URL? {
        sequence.map { URL(fileURLWithPath: $0.path(frame.number).replacingOccurrences(of: "{layer}", with: String(k))) }
    }

    func write(_ inputs: consuming PortValues, frame: FrameInfo) throws {
        let image: Image = try inputs.get("image")
        let depth = try LayerInputs.depth(try inputs.get("depth"), matching: image)
        var settings = decomposition
        settings.wrap = depth.projection == .equirectangular
        let scene = try settings.decompose(color: image, depth: depth)
        for note in scene.notes { context.note(note, frame: frame) }
        let out = folder(frame)
        try AtomicFile.createFolder(out)
        // The id map: each pixel's layer, 0 nearest (8-bit values, not scaled).
        let ids = Image(width: scene.width, height: scene.height, channels: 1, pixels: scene.labels.map { Float($0) / 255 })
        try AtomicFile.write(try PNG.encode(ids, path: out.path), to: out.appendingPathComponent("labels.png"))
        // One depth range for every layer of the frame, so the layers' depths compare.
        let all = scene.layers.flatMap { $0.depth.pixels.filter(\.isFinite) }
        let range = (all.min() ?? 0)...(all.max() ?? 1)
        var entries: [[String: Any]] = []
        for (k, layer) in scene.layers.enumerated() {
            let encoded = try PNG.encode(layer.color, path: out.path)
            try AtomicFile.write(encoded, to: out.appendingPathComponent("layer-\(k).png"))
            if let file = sequenceFile(frame, layer: k) {
                // Created, not cleared: other frames may be writing into it now.
                try AtomicFile.createFolder(file.deletingLastPathComponent())
                try AtomicFile.write(encoded, to: file)
            }
            let map = DepthMap(values: layer.depth, kind: depth.kind, quantity: depth.quantity, projection: depth.projection)
            try DepthFile.writeNormalizedPNG16(map, to: out.appendingPathComponent("depth-\(k).png"), range: range)
            entries.append(["index": k, "color": "layer-\(k).png", "depth": "depth-\(k).png",
                            "disparity": [Double(layer.disparity.lowerBound), Double(layer.disparity.upperBound)],
                            "visiblePixels": layer.visible.filter { $0 }.count, "filledPixels": layer.filled.filter { $0 }.count])
        }
        try DepthSidecar(kind: depth.kind, quantity: depth.quantity, encoding: .png16Normalized,
                         range: [Double(range.lowerBound), Double(range.upperBound)], projection: depth.projection).write(toFolder: out)
        if ora {
            try OpenRaster.write(layers: scene.layers.enumerated().map { ("layer \($0.offset) (near to far)", $0.element.color) },
                                 merged: scene.composite(), to: out.appendingPathExtension("ora"))
        }
        let rays = LayerExports.Rays(depth.projection, quantity: depth.quantity, width: scene.width, height: scene.height)
        var meshStep: Int?, meshTolerance: Float?
        if meshes || glb {
            // The PLY meshes carry vertex colours, so they follow the colours as well as the
            // geometry; the glTF meshes are textured and follow the geometry only.
            let (step, sets) = LayerExports.meshes(scene, kind: depth.kind, rays: rays, budget: triangleBudget, wrap: settings.wrap,
                                                   colour: (meshes ? [true] : []) + (glb ? [false] : []))
            meshStep = step
            if meshes {
                meshTolerance = sets[0].tolerance
                for (k, mesh) in sets[0].meshes.enumerated() {
                    try PLY.write(vertices: mesh.vertices, colors: mesh.colors, triangles: mesh.triangles, to: out.appendingPathComponent("mesh-\(k).ply"))
                    entries[k]["mesh"] = "mesh-\(k).ply"
                    entries[k]["triangles"] = mesh.triangles.count
                }
            }
            if glb {
                try GLB.write(sets.last!.meshes.enumerated().map { k, mesh in
                    GLB.Mesh(name: "layer \(k)", positions: mesh.vertices, uvs: mesh.uvs, triangles: mesh.triangles, texture: scene.layers[k].color)
                }, to: out.appendingPathComponent("scene.glb"))
            }
        }
        if points || splats {
            let samples = LayerExports.samples(scene, kind: depth.kind, rays: rays, step: step)
            if points { try PLY.write(points: samples.map(\.position), colors: samples.map(\.color), to: out.appendingPathComponent("points.ply")) }
            if splats { try SplatPLY.write(LayerExports.splats(samples), to: out.appendingPathComponent("splats.ply")) }
        }
        let summary: [String: Any] = ["frame": frame.number, "width": scene.width, "height": scene.height,
                                      "layers": entries, "labels": "labels.png", "notes": scene.notes, "softness": settings.softness, "fillBand": settings.fillBand,
                                      "seed": Int(settings.seed), "wrap": settings.wrap, "meshStep": meshStep.map { $0 as Any } ?? NSNull(),
                                      "meshTolerance": meshTolerance.map { Double($0) as Any } ?? NSNull()]
        try AtomicFile.write(try JSONSerialization.data(withJSONObject: summary, options: [.prettyPrinted, .sortedKeys]),
                             to: out.appendingPathComponent("layers.json"))
    }
}
