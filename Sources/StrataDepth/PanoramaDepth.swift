import Dispatch
import Foundation
import StrataCore
import StrataNN
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

/// Cube strategy: how a face learns what lies past its borders.
public enum CubeFacePadding: String, Sendable, CaseIterable, Codable {
    /// Each face cut wider from the sphere (``PanoramaDepth/facePadding``), so faces overlap
    /// and the alignment fits them on the overlaps.
    case image
    /// Faces cut exactly, run as one batch of six through a network whose every padded
    /// convolution pads from the neighbouring faces (StrataNN's cube padding): the network
    /// never sees a border. The faces meet along the cube's edges only.
    case network
    /// Both: faces cut wider, and the network pads each from its neighbours' wider images.
    case both
}

/// How aligned views are merged onto the panorama.
public enum PanoramaBlending: String, Sendable, CaseIterable, Codable {
    /// A weighted mean, the weights falling linearly to zero at each view's border.
    case feather
    /// Gradient-domain (Poisson) in log depth: each view's own gradients, feathered, then
    /// integrated over the whole equirect, so the steps between views leave no trace.
    case gradient
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
    /// How the aligned views are merged.
    public var blending: PanoramaBlending = .feather
    /// Cube strategy: padding from the sphere, inside the network, or both.
    public var cubePadding: CubeFacePadding = .image

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
            let padding = cubePadding == .network ? 0 : Int((Double(viewSize) * facePadding).rounded())
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

    /// Where the time of one panorama went, in seconds.
    public struct Timing: Sendable, Equatable {
        /// Cutting the views from the panorama.
        public var split = 0.0
        /// The estimator on the views.
        public var views = 0.0
        /// Fitting the alignment (correspondences and the solve).
        public var alignment = 0.0
        /// Applying it and merging the views onto the equirect.
        public var merge = 0.0
        public init() {}
    }

    /// The depth of `panorama` (an equirect), each view estimated by `estimate` (given the
    /// view's image and its geometry). The result is inverse distance along the ray (metric
    /// estimators: metres along the ray), with the views' merged confidence.
    public func estimate(panorama: Image, _ estimate: (Image, PerspectiveView) throws -> DepthEstimate) throws -> DepthEstimate {
        var timing = Timing()
        return try self.estimate(panorama: panorama, timing: &timing, estimate)
    }

    /// Cube strategy: each face's image as a multiple of the cube face's half-width (1 for
    /// faces cut exactly), for the network's padding table.
    public var faceExtent: Double {
        let view = views.first!
        return Double(view.width) / Double(viewSize)
    }

    /// ``estimate(panorama:_:)``, saying where the time went.
    public func estimate(panorama: Image, timing: inout Timing, _ estimate: (Image, PerspectiveView) throws -> DepthEstimate) throws -> DepthEstimate {
        try self.estimate(panorama: panorama, timing: &timing, batch: { images, views in
            try zip(images, views).enumerated().map { k, pair in
                do { return try estimate(pair.0, pair.1) } catch {
                    // Which view failed: a cube face by its letter, a patch by its number and centre.
                    let view = pair.1
                    let name = strategy == .cube ? "cube face \(CubeFace.allCases[k].letter)"
                                                 : String(format: "patch %d of %d (yaw %.1f°, pitch %.1f°)", k + 1, views.count, view.yaw, view.pitch)
                    throw DepthError("\(name): \(error)", exitCode: (error as? ExitCodeProviding)?.exitCode ?? 70)
                }
            }
        })
    }

    /// ``estimate(panorama:_:)`` with every view estimated in one call (`batch`: the views'
    /// images and geometry in, one estimate per view out): a network runs the six cube
    /// faces as one batch this way.
    public func estimate(panorama: Image, timing: inout Timing, batch: ([Image], [PerspectiveView]) throws -> [DepthEstimate]) throws -> DepthEstimate {
        let views = self.views
        guard !views.isEmpty else { throw DepthError("the direct strategy runs the estimator on the panorama itself", exitCode: 70) }
        var clock = DispatchTime.now().uptimeNanoseconds
        func lap(_ field: WritableKeyPath<Timing, Double>) {
            let now = DispatchTime.now().uptimeNanoseconds
            timing[keyPath: field] += Double(now - clock) / 1e9
            clock = now
        }
        let images = panorama.equirectToPerspective(views)
        lap(\.split)
        var inputs: [ViewAlignment.Input] = []
        var metric = false
        let results = try batch(images, views)
        guard results.count == views.count else { throw DepthError("\(views.count) views gave \(results.count) estimates", exitCode: 70) }
        for (view, result) in zip(views, results) {
            guard result.depth.width == view.width, result.depth.height == view.height else {
                throw DepthError("a view of \(view.width)x\(view.height) came back as depth of \(result.depth.width)x\(result.depth.height)", exitCode: 70)
            }
            let (disparity, shifts) = Self.disparity(of: result, view: view)
            metric = metric || !shifts
            inputs.append(ViewAlignment.Input(view: view, disparity: disparity, confidence: result.confidence))
        }
        lap(\.views)
        var alignment = self.alignment
        alignment.shift = !metric
        if strategy == .cube, cubePadding == .network { alignment.reach = max(alignment.reach, 1.5) }
        let solution = try alignment.solve(inputs)
        lap(\.alignment)
        let aligned = alignment.apply(solution, to: inputs)
        let merged = Self.merge(views: views, values: aligned, confidences: inputs.map(\.confidence),
                                width: panorama.width, height: panorama.height, gradients: blending == .gradient)
        var values = blending == .gradient
            ? GradientBlend.blend(merged.values, gx: merged.gx, gy: merged.gy) : merged.values
        let confidence = merged.confidence
        if metric {
            for i in values.pixels.indices { values.pixels[i] = values.pixels[i] > 0 ? 1 / values.pixels[i] : .nan }
        }
        lap(\.merge)
        return DepthEstimate(depth: DepthMap(values: values, kind: metric ? .metric : .inverseRelative, quantity: .rayDistance,
                                             projection: .equirectangular),
                             confidence: confidence)
    }

    /// The views' values merged onto a `width × height` equirect with feathered weights
    /// (falling linearly to zero at each view's border, as ``SphereFusion``'s `feather`), and
    /// their confidences the same way; NaN where no view has a valid value.
    ///
    /// One pass over the panorama, each pixel asking only the views whose cone can hold its
    /// direction: what SphereFusion does view by view over the whole panorama took 2.8 s for
    /// 20 patches at 2048 × 1024, this 0.1 s.
    ///
    /// With `gradients`, it also gives per pixel the feathered mean over the views of each
    /// view's own difference of log value to the pixel on the right (wrapping) and below
    /// (NaN where no view sees both): gradients free of the steps between views, for
    /// ``GradientBlend``. Each band of rows keeps, per pixel, the views that see it with
    /// their log value and weight (one row more than the band, for the pixels below), and
    /// pairs them up afterwards: projecting each view's neighbours again cost three times
    /// the merge itself.
    static func merge(views: [PerspectiveView], values: [Image], confidences: [Image?], width: Int, height: Int,
                      gradients: Bool = false) -> (values: Image, confidence: Image, gx: [Float], gy: [Float]) {
        let geometry = views.map(ViewGeometry.init)
        let planes = values.map(\.pixels), trusts = confidences.map { $0?.pixels }
        let directions = EquirectDirections(width: width, height: height)
        var out = Image(width: width, height: height, channels: 1, fill: .nan)
        var trust = Image(width: width, height: height, channels: 1)
        var gx = [Float](repeating: .nan, count: gradients ? width * height : 0), gy = gx
        // Each view's log, for the gradients.
        let logs = gradients ? planes.map { $0.map { $0 > 0 ? log($0) : Float.nan } } : []
        /// Views kept per pixel for the gradients (the heaviest, when more see it).
        let slots = 8
        gx.withUnsafeMutableBufferPointer { gxb in
        gy.withUnsafeMutableBufferPointer { gyb in
        let (gxp, gyp) = (UncheckedSendable(gxb.baseAddress), UncheckedSendable(gyb.baseAddress))
        out.pixels.withUnsafeMutableBufferPointer { o in
            trust.pixels.withUnsafeMutableBufferPointer { t in
                let (op, tp) = (UncheckedSendable(o.baseAddress!), UncheckedSendable(t.baseAddress!))
                Parallel.forEachBand(height, minimumBand: 4) { rows in
                    let span = rows.lowerBound..<min(rows.upperBound + (gradients ? 1 : 0), height)
                    // Per pixel of the span: up to `slots` (view, log value, weight).
                    let listed = gradients ? span.count * width * slots : 0
                    var ids = [Int16](repeating: -1, count: listed)
                    var logValues = [Float](repeating: 0, count: listed), weights = logValues
                    for y in span {
                        for x in 0..<width {
                            let d = directions(x: x, y: y)
                            var (sum, total, confidence) = (0.0, 0.0, 0.0)
                            let list = ((y - span.lowerBound) * width + x) * slots
                            for k in geometry.indices where geometry[k].mayContain(d) {
                                let g = geometry[k]
                                guard let (px, py, _, _) = g.project(d), px >= -0.5, py >= -0.5,
                                      px <= Double(g.width) - 0.5, py <= Double(g.height) - 0.5 else { continue }
                                // Feathered: falling linearly to zero at the image's edges (never
                                // quite zero: a pixel on the very edge of faces cut exactly, which
                                // no other view sees, keeps its face's value).
                                let (hw, hh) = (Double(g.width) / 2, Double(g.height) / 2)
                                let w = max(1e-9, max(0, 1 - abs(px + 0.5 - hw) / hw) * max(0, 1 - abs(py + 0.5 - hh) / hh))
                                let value = g.bilinear(planes[k], px, py)
                                guard value.isFinite else { continue }
                                sum += w * value
                                total += w
                                confidence += w * (trusts[k].map { g.bilinear($0, px, py) } ?? 1)
                                if gradients {
                                    let l = Float(g.bilinear(logs[k], px, py))
                                    guard l.isFinite else { continue }
                                    // Into the first free slot, or over the lightest if it is lighter.
                                    var slot = 0
                                    while slot < slots, ids[list + slot] >= 0, weights[list + slot] >= Float(w) { slot += 1 }
                                    guard slot < slots else { continue }
                                    if ids[list + slot] >= 0 {
                                        // Keep the list sorted by weight: shift the lighter ones down.
                                        var j = slots - 1
                                        while j > slot { (ids[list + j], logValues[list + j], weights[list + j]) = (ids[list + j - 1], logValues[list + j - 1], weights[list + j - 1]); j -= 1 }
                                    }
                                    (ids[list + slot], logValues[list + slot], weights[list + slot]) = (Int16(k), l, Float(w))
                                }
                            }
                            guard rows.contains(y), total > 0 else { continue }
                            op.value[y * width + x] = Float(sum / total)
                            tp.value[y * width + x] = Float(confidence / total)
                        }
                    }
                    guard gradients else { return }
                    /// Σ w (L_other − L_here) over the views pixel `a` and pixel `b` share, and Σ w.
                    func difference(_ a: Int, _ b: Int) -> Float {
                        var (s, total): (Float, Float) = (0, 0)
                        for i in a..<(a + slots) where ids[i] >= 0 {
                            for j in b..<(b + slots) where ids[j] == ids[i] {
                                s += weights[i] * (logValues[j] - logValues[i])
                                total += weights[i]
                                break
                            }
                        }
                        return total > 0 ? s / total : .nan
                    }
                    for y in rows {
                        let row = (y - span.lowerBound) * width
                        for x in 0..<width {
                            let here = (row + x) * slots
                            gxp.value![y * width + x] = difference(here, (row + (x + 1) % width) * slots)
                            if y + 1 < height { gyp.value![y * width + x] = difference(here, (row + width + x) * slots) }
                        }
                    }
                }
            }
        }
        }
        }
        return (out, trust, gx, gy)
    }
}

/// A perspective estimator made to see panoramas through a ``PanoramaDepth`` strategy:
/// equirect frames are cut into views, each estimated and merged; other frames go to the
/// estimator as they are. A network runs the cube strategy's six faces as one batch, with
/// cube padding inside it when ``PanoramaDepth/cubePadding`` asks.
public struct PanoramaDepthEstimator: DepthEstimator {
    public let base: any DepthEstimator
    public let panorama: PanoramaDepth
    /// The network session that runs the six faces as one batch; nil: one view at a time.
    public let cubeSession: Session?

    /// Prepares the faces' batch for a network under the cube strategy: one whose graph
    /// fixes its batch runs face by face with image padding, and is refused padding
    /// inside the network; so is the built-in prior, which has no network.
    public init(base: any DepthEstimator, panorama: PanoramaDepth) throws {
        (self.base, self.panorama) = (base, panorama)
        guard panorama.strategy == .cube else {
            cubeSession = nil
            return
        }
        guard let network = base as? NetworkDepthEstimator else {
            guard panorama.cubePadding == .image else {
                throw DepthError("cube padding inside the network (padding: \(panorama.cubePadding.rawValue)) needs a network model; \(base.name) has none", exitCode: 64)
            }
            cubeSession = nil
            return
        }
        let side = panorama.views[0].width
        let size = network.network.sizing.size(width: side, height: side)
        let extent = panorama.faceExtent
        let padding = panorama.cubePadding == .image ? nil : CubePadding { n, p in Cubemap.paddingSources(faceSize: n, padding: p, extent: extent) }
        do {
            cubeSession = try network.batchSession(count: 6, width: size.width, height: size.height, cubePadding: padding,
                                                   key: padding == nil ? "" : "extent \(extent)")
        } catch where panorama.cubePadding == .image {
            cubeSession = nil
        }
    }

    public var name: String { "\(base.name) (\(panorama.strategy.rawValue))" }

    public func estimateTimed(_ image: Image, projection: Projection) throws -> (estimate: DepthEstimate, timing: DepthTiming) {
        guard projection == .equirectangular, panorama.strategy != .direct else { return try base.estimateTimed(image, projection: projection) }
        var timing = DepthTiming()
        func add(_ t: DepthTiming) {
            timing.preprocessing += t.preprocessing
            timing.inference += t.inference
            timing.postprocessing += t.postprocessing
        }
        var split = PanoramaDepth.Timing()
        let estimate: DepthEstimate
        if let cubeSession, let network = base as? NetworkDepthEstimator {
            estimate = try panorama.estimate(panorama: image, timing: &split, batch: { faces, views in
                do {
                    let (estimates, t) = try network.estimateBatch(faces, projections: views.map(\.projection), session: cubeSession)
                    add(t)
                    return estimates
                } catch {
                    throw DepthError("the six cube faces (one batch): \(error)", exitCode: (error as? ExitCodeProviding)?.exitCode ?? 70)
                }
            })
        } else {
            estimate = try panorama.estimate(panorama: image, timing: &split) { view, geometry in
                let (result, t) = try base.estimateTimed(view, projection: geometry.projection)
                add(t)
                return result
            }
        }
        return (estimate, timing)
    }
}
