import Foundation
import StrataCore

/// The built-in estimator that needs no weights, so every pipeline runs on a fresh machine.
///
/// It is a plausibility prior, far below the networks: it assumes the scene's layout rather
/// than seeing it. Perspective frames get a ground plane and "pop-up" verticals (Hoiem,
/// Efros and Hebert, 2005): the horizon from the vanishing point of the receding lines,
/// superpixels labelled ground, vertical, ceiling or sky from colour, texture and position,
/// ground depth from its height below the horizon, verticals the depth of the ground where
/// they stand, sky far. Equirect panoramas get a room box (floor and ceiling planes at the
/// camera's height ratio, four walls fitted to the floor's boundary), or the ground plane
/// outdoors. Both are refined on the image with a guided filter. Output: relative inverse
/// depth and a confidence map, like the networks.
public struct PriorDepthEstimator: DepthEstimator {
    public var name: String { "builtin" }
    /// Long side of the working image (the prior is smooth; the refinement follows edges).
    public var workingSize: Int

    public init(workingSize: Int = 256) {
        precondition(workingSize >= 16, "working size \(workingSize)")
        self.workingSize = workingSize
    }

    public func estimateTimed(_ image: Image, projection: Projection) throws -> (estimate: DepthEstimate, timing: DepthTiming) {
        guard image.width >= 2, image.height >= 2 else { throw DepthError("a \(image.width)x\(image.height) frame is too small for depth") }
        guard image.channels <= 4 else { throw DepthError("a frame of \(image.channels) channels is not gray, RGB or RGBA") }
        var timing = DepthTiming()
        let panorama = projection == .equirectangular
        let small = timing.time(\.preprocessing) { () -> Image in
            let rgb = image.rgb()
            let scale = min(1, Double(panorama ? 2 * workingSize : workingSize) / Double(max(rgb.width, rgb.height)))
            let (w, h) = (max(8, Int((Double(rgb.width) * scale).rounded())), max(4, Int((Double(rgb.height) * scale).rounded())))
            return rgb.resized(width: w, height: h, filter: .area)
        }
        let layout = timing.time(\.inference) { panorama ? RoomBoxPrior(small).layout() : PopUpPrior(small).layout() }
        let estimate = timing.time(\.postprocessing) { () -> DepthEstimate in
            // Edge-aware refinement at the working size, then back to the frame's size.
            let refined = GuidedFilter(radius: max(2, small.width / 64), eps: 1e-3).apply(layout.disparity, guide: small.grayscale())
            var disparity = refined.resized(width: image.width, height: image.height, filter: .bilinear)
            let floor = max(1e-4, layout.disparity.pixels.filter(\.isFinite).min() ?? 1e-3)
            for k in disparity.pixels.indices { disparity.pixels[k] = max(floor, disparity.pixels[k]) }
            let quantity: DepthQuantity = panorama ? .rayDistance : .zDepth
            let depth = DepthMap(values: disparity, kind: .inverseRelative, quantity: quantity, projection: projection)
            // The layout's confidence, lowered across depth edges (at the working size: the
            // refined map is smooth, so full resolution adds nothing but time).
            var confidence = layout.confidence
            let edges = DepthConfidence.fromEdges(DepthMap(values: refined, kind: .inverseRelative))
            for k in confidence.pixels.indices { confidence.pixels[k] *= edges.pixels[k] }
            return DepthEstimate(depth: depth, confidence: confidence.resized(width: image.width, height: image.height, filter: .bilinear))
        }
        return (estimate, timing)
    }
}

/// A prior's result at the working size.
struct PriorLayout {
    /// Relative inverse depth.
    var disparity: Image
    /// 0…1.
    var confidence: Image
}

/// Per-pixel measurements the priors share.
struct ImageCues {
    let width: Int, height: Int
    let rgb: [Float]
    let luma: [Float]
    /// Sobel gradients of luma.
    let gx: [Float], gy: [Float]

    init(_ image: Image) {
        (width, height) = (image.width, image.height)
        rgb = image.pixels
        luma = image.grayscale().pixels
        var gx = [Float](repeating: 0, count: width * height), gy = gx
        let (w, h) = (width, height)
        for y in 0..<h {
            let ym = max(0, y - 1), yp = min(h - 1, y + 1)
            for x in 0..<w {
                let xm = max(0, x - 1), xp = min(w - 1, x + 1)
                let l = luma
                gx[y * w + x] = (l[ym * w + xp] + 2 * l[y * w + xp] + l[yp * w + xp]) - (l[ym * w + xm] + 2 * l[y * w + xm] + l[yp * w + xm])
                gy[y * w + x] = (l[yp * w + xm] + 2 * l[yp * w + x] + l[yp * w + xp]) - (l[ym * w + xm] + 2 * l[ym * w + x] + l[ym * w + xp])
            }
        }
        (self.gx, self.gy) = (gx, gy)
    }

    func colour(_ k: Int) -> SIMD3<Float> { SIMD3(rgb[k], rgb[width * height + k], rgb[2 * width * height + k]) }

    /// Sky-like colour: bright, blue above red, and little texture.
    static func skyLike(colour c: SIMD3<Float>, texture: Float) -> Bool {
        c.z > 0.45 && c.z > c.x + 0.06 && c.z >= c.y - 0.02 && texture < 0.08
    }
}
