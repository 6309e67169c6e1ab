import Foundation
import StrataCore
import StrataSphere

/// How depth is estimated for a 360° equirect panorama.
public enum PanoramaStrategy: String, Sendable, CaseIterable, Codable {
    /// The estimator on the equirect itself, distortion and all.
    case direct
    /// Six cube faces, padded from the sphere so that neighbouring faces overlap.
    case cube
    /// Low-distortion tangent patches (360MonoDepth's icosahedral 20, or others).
    case tangent
}

/// Depth of a panorama from perspective views of it: the views are cut from the sphere,
/// each is estimated by a perspective depth estimator, their disparities are brought to one
/// quantity (inverse distance along the ray) and one scale (``ViewAlignment``: a grid of
/// scale and shift per view, fitted jointly on the overlaps), and merged back onto the
/// equirect with weights that fall to zero at each view's border.
public struct PanoramaDepth: Sendable {
    public var strategy: PanoramaStrategy
    /// The tangent strategy's patch centres.
    public var layout: TangentLayout
    /// Side of each view in pixels (a cube face without its padding).
    public var viewSize: Int
    /// Field of view of tangent patches in degrees; nil: the layout's covering field widened by 1.3.
    public var patchFOV: Double?
    /// Cube strategy: the padding of each face, as a fraction of the face (1/8 by default).
    public var facePadding: Double
    /// The grid and weights of the alignment between views.
    public var alignment: ViewAlignment

    public init(strategy: PanoramaStrategy, layout: TangentLayout = .icosahedron(level: 0), viewSize: Int = 256,
                patchFOV: Double? = nil, facePadding: Double = 0.125, alignment: ViewAlignment = ViewAlignment()) {
        (self.strategy, self.layout, self.viewSize, self.patchFOV, self.facePadding, self.alignment) =
            (strategy, layout, viewSize, patchFOV, facePadding, alignment)
    }

    /// The views the strategy estimates on (none for `direct`).
    public var views: [PerspectiveView] {
        switch strategy {
        case .direct: return []
        case .cube:
            let padding = Int((Double(viewSize) * facePadding).rounded())
            return CubeFace.allCases.map { PerspectiveView(face: $0, faceSize: viewSize, padding: padding) }
        case .tangent: return layout.patches(size: viewSize, fov: patchFOV)
        }
    }

    /// What one view's estimate says as disparity of its z-depth (inverse z up to scale and
    /// shift), and whether a shift is meaningful (false for metric depth).
    static func disparity(of estimate: DepthEstimate, view: PerspectiveView) -> (Image, Bool) {
        var values = estimate.depth.values
        let metric = estimate.depth.kind == .metric
        for y in 0..<values.height {
            for x in 0..<values.width {
                var v = Double(values[0, y, x])
                // Inverse relative depth is already disparity (0, or below with its unknown
                // shift, is far: the sky); depth becomes its inverse.
                if estimate.depth.kind != .inverseRelative { v = v > 0 ? 1 / v : .nan }
                // A ray-distance map: inverse ray distance × ray factor = inverse z.
                if estimate.depth.quantity == .rayDistance { v *= view.rayFactor(x: x, y: y) }
                values[0, y, x] = v.isFinite ? Float(v) : .nan
            }
        }
        return (values, !metric)
    }

    /// The depth of `panorama` (an equirect), each view estimated by `estimate` (given the
    /// view's image and its geometry). The result is inverse distance along the ray (metric
    /// estimators: metres along the ray), with the views' merged confidence.
    public func estimate(panorama: Image, _ estimate: (Image, PerspectiveView) throws -> DepthEstimate) throws -> DepthEstimate {
        let views = self.views
        guard !views.isEmpty else { throw DepthError("the direct strategy runs the estimator on the panorama itself", exitCode: 70) }
        let images = panorama.equirectToPerspective(views)
        var inputs: [ViewAlignment.Input] = []
        var metric = false
        for (view, image) in zip(views, images) {
            let result = try estimate(image, view)
            guard result.depth.width == view.width, result.depth.height == view.height else {
                throw DepthError("a view of \(view.width)x\(view.height) came back as depth of \(result.depth.width)x\(result.depth.height)", exitCode: 70)
            }
            let (disparity, shifts) = Self.disparity(of: result, view: view)
            metric = metric || !shifts
            inputs.append(ViewAlignment.Input(view: view, disparity: disparity, confidence: result.confidence))
        }
        var alignment = self.alignment
        alignment.shift = !metric
        let solution = try alignment.solve(inputs)
        let aligned = alignment.apply(solution, to: inputs)
        let (width, height) = (panorama.width, panorama.height)
        let fused = try SphereFusion(views: views, images: aligned, width: width, height: height, weighting: .feather)
        let confidence = try SphereFusion(views: views, images: inputs.map { $0.confidence ?? Image(width: $0.view.width, height: $0.view.height, channels: 1, fill: 1) },
                                          width: width, height: height, weighting: .feather, fill: 0)
        var values = fused.image
        if metric {
            for i in values.pixels.indices { values.pixels[i] = values.pixels[i] > 0 ? 1 / values.pixels[i] : .nan }
        }
        return DepthEstimate(depth: DepthMap(values: values, kind: metric ? .metric : .inverseRelative, quantity: .rayDistance,
                                             projection: .equirectangular),
                             confidence: confidence.image)
    }
}

/// A perspective estimator made to see panoramas through a ``PanoramaDepth`` strategy:
/// equirect frames are cut into views, each estimated and merged; other frames go to the
/// estimator as they are.
public struct PanoramaDepthEstimator: DepthEstimator {
    public let base: any DepthEstimator
    public let panorama: PanoramaDepth

    public init(base: any DepthEstimator, panorama: PanoramaDepth) { (self.base, self.panorama) = (base, panorama) }

    public var name: String { "\(base.name) (\(panorama.strategy.rawValue))" }

    public func estimateTimed(_ image: Image, projection: Projection) throws -> (estimate: DepthEstimate, timing: DepthTiming) {
        guard projection == .equirectangular, panorama.strategy != .direct else { return try base.estimateTimed(image, projection: projection) }
        var timing = DepthTiming()
        let estimate = try panorama.estimate(panorama: image) { view, geometry in
            let (result, t) = try base.estimateTimed(view, projection: geometry.projection)
            timing.preprocessing += t.preprocessing
            timing.inference += t.inference
            timing.postprocessing += t.postprocessing
            return result
        }
        return (estimate, timing)
    }
}
