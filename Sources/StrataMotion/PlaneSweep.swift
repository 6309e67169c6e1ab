import CStrataKernels
import Foundation
import StrataCore

/// Depth for one frame of a recovered camera motion by plane-sweep stereo: planes parallel
/// to the frame's image at depths spread evenly in inverse depth over what its sparse
/// points span, each neighbour warped onto the frame through each plane, matched by ZNCC
/// over a window, and the cost volume regularised by semi-global matching (Hirschmüller's
/// four-path SGM). Where the frame is flat, seen by no neighbour, or matched badly, the
/// confidence says so, and ``StereoDepth/filled(withDisparity:reliable:)`` fills from a
/// monocular estimate aligned to the reliable pixels.
public enum PlaneSweep {
    /// How finely and how strictly to sweep.
    public struct Options: Sendable, Equatable {
        /// Planes in the sweep.
        public var planes = 64
        /// Half the ZNCC window's side, in pixels (3: 7 × 7).
        public var radius = 3
        /// The sweep runs on frames at most this wide (larger ones are reduced first).
        public var maximumWidth = 640
        /// SGM's penalty for a step of one plane, and for a larger jump (ZNCC costs lie in 0…2).
        public var smallPenalty: Float = 0.05, largePenalty: Float = 0.4
        /// Windows whose grey variance is below this say nothing (grey in 0…1).
        public var minimumVariance: Float = 2e-4
        /// A pixel is fully trusted when its chosen plane's cost (1 − ZNCC) is this much
        /// lower than that of every plane a pixel and a half of disparity away; less, in
        /// proportion.
        public var distinctMargin: Float = 0.1
        /// The depths to sweep and the scene's typical depth (for the neighbours'
        /// baselines); nil: from the sparse points in front of the frame.
        public var bounds: DepthBounds?

        public init() {}
    }

    /// The nearest and farthest z-depth a sweep covers, and the scene's median depth.
    public struct DepthBounds: Sendable, Equatable {
        public var near: Double, median: Double, far: Double

        public init(near: Double, median: Double, far: Double) { (self.near, self.median, self.far) = (near, median, far) }
    }

    /// Depth for `frame`, from `images` (the video's frames by index: the reference and
    /// any of its neighbours; colour or grey, full size).
    /// - Throws: ``MotionError`` when the frame has no pose, no neighbour with a pose and a
    ///   baseline, or no sparse point to bound the sweep.
    public static func depth(frame f: Int, images: [Int: Image], motion: CameraMotion, options: Options = Options()) throws -> StereoDepth {
        try depth(frame: f, image: { images[$0] }, motion: motion, options: options)
    }

    /// Depth for `frame`, with the frames' images made on demand by `image` (nil for a
    /// frame it does not have): only the frame and its chosen neighbours are asked for.
    public static func depth(frame f: Int, image fetch: (Int) -> Image?, motion: CameraMotion, options: Options = Options()) throws -> StereoDepth {
        var fetched: [Int: Image?] = [:]
        func images(_ n: Int) -> Image? {
            if let known = fetched[n] { return known }
            let made = fetch(n)
            fetched[n] = made
            return made
        }
        guard f >= 0, f < motion.poses.count, let reference = motion.poses[f], let image = images(f) else {
            throw MotionError("frame \(f) has no pose or no image: no depth from motion there")
        }
        // The depths the frame's sparse points span.
        let bounds: DepthBounds
        if let given = options.bounds {
            bounds = given
        } else {
            var depths = motion.points.map { reference.transform($0).z }.filter { $0 > 0 }
            guard depths.count >= 10 else { throw MotionError("frame \(f) sees \(depths.count) sparse points: too few to bound a sweep") }
            depths.sort()
            bounds = DepthBounds(near: depths[depths.count / 50] * 0.7, median: depths[depths.count / 2], far: depths[depths.count * 49 / 50] * 1.5)
        }
        let (near, far) = (bounds.near, bounds.far)
        let neighbours = neighbours(of: f, motion: motion, medianDepth: bounds.median).filter { images($0) != nil }
        guard !neighbours.isEmpty else { throw MotionError("frame \(f) has no neighbour with a pose and a baseline: no depth from motion there") }

        // The sweep's size, and the intrinsics scaled to it.
        let k = motion.intrinsics
        let scale = min(1, Double(options.maximumWidth) / Double(k.width))
        let (w, h) = (max(8, Int((Double(k.width) * scale).rounded())), max(8, Int((Double(k.height) * scale).rounded())))
        let (sx, sy) = (Double(w) / Double(k.width), Double(h) / Double(k.height))
        let small = PinholeIntrinsics(fx: k.fx * sx, fy: k.fy * sy, cx: k.cx * sx, cy: k.cy * sy, width: w, height: h)
        func gray(_ image: Image) -> [Float] {
            let g = image.channels == 1 ? image : image.grayscale()
            return (g.width == w && g.height == h ? g : g.resized(width: w, height: h)).pixels
        }
        let referenceGray = gray(image)
        let inverse = (0..<options.planes).map { d in
            1 / far + (1 / near - 1 / far) * Double(d) / Double(max(1, options.planes - 1))
        }
        var sums = [Float](repeating: 0, count: w * h * options.planes)
        var counts = [UInt16](repeating: 0, count: w * h * options.planes)
        for n in neighbours {
            let relative = motion.poses[n]!.relative(to: reference)
            let homographies = inverse.flatMap { homography(relative, inverseDepth: $0, k: small) }
            let neighbourGray = gray(images(n)!)
            // Planes split across threads: each writes only its own planes' costs.
            sums.withUnsafeMutableBufferPointer { sums in
                counts.withUnsafeMutableBufferPointer { counts in
                    let (s, c) = (UncheckedSendable(sums.baseAddress!), UncheckedSendable(counts.baseAddress!))
                    Parallel.forEachBand(options.planes, minimumBand: 1, bandsPerThread: 2) { planes in
                        strata_sweep_cost(referenceGray, neighbourGray, Int32(w), Int32(h), homographies, Int32(options.planes),
                                          Int32(planes.lowerBound), Int32(planes.count), Int32(options.radius), options.minimumVariance,
                                          s.value, c.value)
                    }
                }
            }
        }
        // The mean over the neighbours, a neighbour that did not see the window counting as
        // neutral (1): a plane matched by one lucky neighbour must not beat one that all agree on.
        var cost = [Float](repeating: 1, count: sums.count)
        var matched = [Float](repeating: 0, count: w * h)
        let everyone = Float(neighbours.count)
        // The sums come plane by plane; SGM wants each pixel's planes together.
        let n = w * h
        for d in 0..<options.planes {
            for i in 0..<n where counts[d * n + i] > 0 {
                cost[i * options.planes + d] = (sums[d * n + i] + everyone - Float(counts[d * n + i])) / everyone
                matched[i] = 1
            }
        }
        var aggregated = [Float](repeating: 0, count: cost.count)
        strata_sgm(cost, Int32(w), Int32(h), Int32(options.planes), options.smallPenalty, options.largePenalty, &aggregated)

        var depth = [Float](repeating: .nan, count: w * h), confidence = [Float](repeating: 0, count: w * h)
        let step = inverse.count > 1 ? inverse[1] - inverse[0] : 0
        // Rivals lie at least a pixel and a half of disparity away from the chosen plane (in the
        // neighbour with the longest baseline): nearer planes match nearly as well by nature.
        let baseline = neighbours.map { (motion.poses[$0]!.centre - reference.centre).norm }.max()!
        let pixelsPerPlane = small.fx * baseline * step
        let apart = max(2, Int((1.5 / max(1e-9, pixelsPerPlane)).rounded(.up)))
        for i in 0..<(w * h) {
            let a = aggregated[(i * options.planes)..<((i + 1) * options.planes)]
            var best = 0
            for d in 1..<options.planes where a[a.startIndex + d] < a[a.startIndex + best] { best = d }
            // The parabola through the best plane and its neighbours, for depth between planes.
            var offset = 0.0
            if best > 0, best < options.planes - 1 {
                let (l, c, r) = (Double(a[a.startIndex + best - 1]), Double(a[a.startIndex + best]), Double(a[a.startIndex + best + 1]))
                let curvature = l - 2 * c + r
                if curvature > 0 { offset = min(0.5, max(-0.5, 0.5 * (l - r) / curvature)) }
            }
            depth[i] = Float(1 / (inverse[best] + offset * step))
            // How well the chosen plane matched (its ZNCC), times how much better than every
            // plane away from it (a smooth gradient or a repeated pattern matches many planes
            // alike), where a neighbour saw the window and the sweep did not run to its ends
            // (a surface beyond the range pins there).
            let raw = cost[(i * options.planes)..<((i + 1) * options.planes)]
            let chosen = raw[raw.startIndex + best]
            var rival = Float.infinity
            for d in 0..<options.planes where abs(d - best) > apart { rival = min(rival, raw[raw.startIndex + d]) }
            let zncc = 1 - chosen, margin = rival - chosen
            let inside = best > 0 && best < options.planes - 1
            confidence[i] = matched[i] > 0 && inside ? max(0, min(1, zncc)) * max(0, min(1, margin / options.distinctMargin)) : 0
        }
        return StereoDepth(width: w, height: h, intrinsics: small, depth: depth, confidence: confidence, neighbours: neighbours, frame: f)
    }

    /// The placed frames to match `f` against: on each side, the one whose baseline is
    /// nearest a twentieth of the scene's median depth (rays about 3° apart there) and the
    /// one nearest twice that, each between a quarter and eight times it. Two baselines a
    /// side make a repeated pattern's false matches disagree where the true one agrees
    /// (multiple-baseline stereo, Okutomi and Kanade).
    static func neighbours(of f: Int, motion: CameraMotion, medianDepth: Double) -> [Int] {
        let centre = motion.poses[f]!.centre, target = medianDepth / 20
        var chosen: [Int] = []
        for side in [-1, 1] {
            let candidates = motion.poses.indices.filter { ($0 - f) * side > 0 && motion.poses[$0] != nil }
            let baselines = candidates.map { ($0, (motion.poses[$0]!.centre - centre).norm) }.filter { $0.1 > target / 4 && $0.1 < target * 8 }
            for goal in [target, 2 * target] {
                if let best = baselines.filter({ !chosen.contains($0.0) }).min(by: { abs(log($0.1 / goal)) < abs(log($1.1 / goal)) }) {
                    chosen.append(best.0)
                }
            }
        }
        return chosen
    }

    /// The homography from the reference's pixel indices to the neighbour's through the
    /// plane z = 1 / `inverseDepth` of the reference camera: K · (R + t · (0, 0, w)) · K⁻¹.
    static func homography(_ relative: CameraPose, inverseDepth w: Double, k: PinholeIntrinsics) -> [Double] {
        // Pixel indices: Strata's centres sit at half-integers.
        let (fx, fy, cx, cy) = (k.fx, k.fy, k.cx - 0.5, k.cy - 0.5)
        var m = relative.rotation
        for row in 0..<3 { m[3 * row + 2] += relative.translation[row] * w }
        let kInverse = [1 / fx, 0, -cx / fx, 0, 1 / fy, -cy / fy, 0, 0, 1]
        let kMatrix = [fx, 0, cx, 0, fy, cy, 0, 0, 1]
        func multiply(_ a: [Double], _ b: [Double]) -> [Double] {
            var product = [Double](repeating: 0, count: 9)
            for i in 0..<3 {
                for j in 0..<3 {
                    for m in 0..<3 { product[3 * i + j] += a[3 * i + m] * b[3 * m + j] }
                }
            }
            return product
        }
        return multiply(kMatrix, multiply(m, kInverse))
    }
}

/// A frame's depth from motion: z-depth in the motion's unit of length, with a confidence
/// for each pixel (0: none, 1: a perfect match), at the sweep's size.
public struct StereoDepth: Sendable {
    public let width: Int, height: Int
    /// The intrinsics at this size.
    public let intrinsics: PinholeIntrinsics
    /// z-depth, row-major.
    public var depth: [Float]
    /// How much to trust each pixel.
    public var confidence: [Float]
    /// The frames it was matched against (for a reprojected frame: the keyframes it came from).
    public let neighbours: [Int]
    /// The frame it is the depth of.
    public let frame: Int

    /// Pixels whose confidence reaches `reliable`, as a share of all.
    public func coverage(reliable: Float = 0.5) -> Double {
        Double(confidence.filter { $0 >= reliable }.count) / Double(max(1, confidence.count))
    }

    /// The depth with every pixel under the `reliable` confidence taken from a monocular
    /// estimate instead: `disparity` (larger is nearer, same size, any scale and shift) is
    /// fitted to the reliable pixels' inverse depth by least squares, then corrected by
    /// what the fit leaves at the reliable pixels, spread smoothly (a normalised convolution
    /// over an eighth of the width), since a monocular estimate is wrong by a smooth warp
    /// more than by a constant. Returns the depth unchanged when too few pixels are
    /// reliable (under 1%) or the fit is not a rising line.
    public func filled(withDisparity disparity: [Float], reliable: Float = 0.5) -> [Float] {
        Self.filled(depth, confidence: confidence, width: width, height: height, disparity: disparity, reliable: reliable)
    }

    /// ``filled(withDisparity:reliable:)`` for any map of a depth along rays (z-depth,
    /// or distance for a panorama) with its confidence, `width` × `height`.
    public static func filled(_ depth: [Float], confidence: [Float], width: Int, height: Int, disparity: [Float], reliable: Float = 0.5) -> [Float] {
        precondition(disparity.count == depth.count && confidence.count == depth.count && depth.count == width * height,
                     "the monocular estimate is not the sweep's size")
        let trusted = depth.indices.filter { confidence[$0] >= reliable && depth[$0] > 0 && disparity[$0].isFinite }
        var (n, sx, sy, sxx, sxy) = (0.0, 0.0, 0.0, 0.0, 0.0)
        for i in trusted {
            let (x, y) = (Double(disparity[i]), 1 / Double(depth[i]))
            n += 1
            sx += x
            sy += y
            sxx += x * x
            sxy += x * y
        }
        let determinant = n * sxx - sx * sx
        guard n >= Double(depth.count) / 100, determinant > 0 else { return depth }
        let a = (n * sxy - sx * sy) / determinant, b = (sy - a * sx) / n
        guard a > 0 else { return depth }
        // The fit's residual where the sweep is trusted, weighted by the confidence, spread.
        var weighted = [Float](repeating: 0, count: depth.count), weights = weighted
        for i in trusted {
            let residual = 1 / depth[i] - Float(a * Double(disparity[i]) + b)
            weighted[i] = confidence[i] * residual
            weights[i] = confidence[i]
        }
        let radius = max(2, width / 16)
        for _ in 0..<3 {
            weighted = BoxFilter.mean(weighted, width, height, radius, normalise: true)
            weights = BoxFilter.mean(weights, width, height, radius, normalise: true)
        }
        // The nearest and farthest the trusted pixels reach bound the filled ones.
        let inverses = trusted.map { 1 / Double(depth[$0]) }
        let (lo, hi) = (inverses.min()! * 0.5, inverses.max()! * 2)
        return depth.indices.map { i in
            guard confidence[i] < reliable || !(depth[i] > 0) else { return depth[i] }
            let correction = weights[i] > 1e-4 ? Double(weighted[i] / weights[i]) : 0
            return Float(1 / min(hi, max(lo, a * Double(disparity[i]) + b + correction)))
        }
    }
}
