import StrataCore
import StrataLayers
import StrataPipeline

/// What the layer stages share: the depth brought to the colour's grid, and the
/// decomposition settings their params name.
enum LayerInputs {
    /// `depth` on `image`'s pixel grid: resampled when only the resolution differs (pinhole
    /// intrinsics scaled with it), refused when the shapes say another projection or crop,
    /// naming both.
    static func depth(_ depth: DepthMap, matching image: Image) throws -> DepthMap {
        let (w, h) = (image.width, image.height)
        if depth.projection == .equirectangular, abs(w - 2 * h) > 1 {
            throw StageError("the depth is an equirect panorama (\(depth.width)x\(depth.height)) but the colour is \(w)x\(h), not 2:1: they are not the same projection; give depth made for this image")
        }
        guard depth.width != w || depth.height != h else { return depth }
        let colourAspect = Double(w) / Double(h), depthAspect = Double(depth.width) / Double(depth.height)
        guard abs(depthAspect - colourAspect) <= 0.01 * colourAspect else {
            throw StageError("the depth is \(depth.width)x\(depth.height) (\(depth.projection.name)) and the colour \(w)x\(h): their shapes differ, so they are not the same view at two resolutions (another projection or a crop); give depth made for this image")
        }
        var out = depth
        out.values = depth.values.resized(width: w, height: h, filter: .bilinear)
        if case .pinhole(let k) = depth.projection {
            let (sx, sy) = (Double(w) / Double(k.width), Double(h) / Double(k.height))
            out.projection = .pinhole(PinholeIntrinsics(fx: k.fx * sx, fy: k.fy * sy, cx: k.cx * sx, cy: k.cy * sy, width: w, height: h))
        }
        return out
    }

    /// The decomposition a layer stage's params describe (`layers`, `softness`, `fillBand`,
    /// `reach`, `seed`).
    static func decomposition(_ context: StageContext) throws -> LayerDecomposition {
        let count = try context.int("layers")
        let reach = try context.double("reach")
        return LayerDecomposition(layerCount: count == 0 ? nil : count, softness: try context.double("softness"),
                                  fillBand: try context.int("fillBand"), viewingOffset: reach > 0 ? reach : nil,
                                  seed: UInt64(try context.int("seed")))
    }

    /// The params of ``decomposition(_:)``, for both stages' descriptors.
    static let params: [ParamSpec] = [
        ParamSpec("layers", .integer(min: 0, max: 8), default: .number(0),
                  doc: "Layers wanted, 1…8; 0: cut where the depth is discontinuous (objects, not receding floors)."),
        ParamSpec("softness", .number(min: 0, max: 64), default: .number(2), unit: "px", doc: "Soft alpha band inside each layer's edge against farther layers."),
        ParamSpec("fillBand", .integer(min: 0, max: 4096), default: .number(32), unit: "px",
                  doc: "How far behind nearer layers each layer is filled, from what it shows (with reach: the most)."),
        ParamSpec("reach", .number(min: 0, max: 100), default: .number(0), unit: "m",
                  doc: "The largest camera offset the layers will be seen from (metric depth): fill only what such an offset reveals; 0: the whole fill band."),
        ParamSpec("seed", .integer(min: 0, max: nil), default: .number(1), doc: "Seed of the exemplar fill (the same seed, the same layers)."),
    ]
}

extension Projection {
    /// A word for messages.
    var name: String {
        switch self {
        case .pinhole: return "perspective"
        case .equirectangular: return "equirect"
        case .cubeFace(let face): return "cube face \(face)"
        case .unknown: return "projection unknown"
        }
    }
}
