import Foundation
import StrataCore
import StrataSphere

/// An estimator for evaluating 360° strategies, built from a panorama's exact ray distance:
/// each view gets its true disparity (inverse z-depth) as a network would give it, up to its
/// own scale and shift — s · d + t, s in 0.5…2, t in 0…0.5 of the median disparity, seeded by
/// the view — times 1 + `warp` × a smooth bump across the view, plus uniform `noise`. Run
/// through ``PanoramaDepth`` it takes the same path as a network's views, so what comes out
/// measures the alignment and merging alone.
///
/// With `metric`, views are metric z-depth in metres instead, as ZoeDepth or Depth
/// Anything's metric heads give it, each off by its own scale in 0.8…1.25 and no shift.
public struct DistortedTruthEstimator: Sendable {
    /// Exact distance along each ray of the panorama (an equirect).
    public let truth: Image
    public var warp: Double
    public var noise: Double
    public var seed: UInt64
    /// Metric z-depth with a per-view scale instead of disparity with scale and shift.
    public var metric: Bool

    public init(truth: Image, warp: Double = 0, noise: Double = 0, seed: UInt64 = 1, metric: Bool = false) {
        (self.truth, self.warp, self.noise, self.seed, self.metric) = (truth, warp, noise, seed, metric)
    }

    /// The scale a metric view's depth is off by (its true z times this), 0.8…1.25.
    public func metricScale(_ view: PerspectiveView) -> Double {
        var state = seed &* 0x2545_F491_4F6C_DD1D ^ UInt64(bitPattern: Int64((view.yaw * 1000).rounded())) &* 131
            ^ UInt64(bitPattern: Int64((view.pitch * 1000).rounded())) &* 0x9E37_79B9_7F4A_7C15
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return 0.8 * pow(1.25 / 0.8, Double(state >> 11) / Double(1 << 53))
    }

    /// The distorted disparity of `view`; the view's orientation seeds its distortion.
    public func estimate(_ view: PerspectiveView) -> DepthEstimate {
        var state = seed &* 0x9E37_79B9_7F4A_7C15 ^ UInt64(bitPattern: Int64((view.yaw * 1000).rounded())) &* 31
            ^ UInt64(bitPattern: Int64((view.pitch * 1000).rounded())) &* 0x5851_F42D_4C95_7F2D
        func random() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(state >> 11) / Double(1 << 53)
        }
        for _ in 0..<4 { _ = random() }
        let ray = truth.equirectToPerspective(view, interpolation: .nearest)
        if metric {
            let scale = metricScale(view)
            let depth = Image(width: view.width, height: view.height, channels: 1) { _, y, x in
                Float(Double(ray[0, y, x]) / view.rayFactor(x: x, y: y) * scale)
            }
            return DepthEstimate(depth: DepthMap(values: depth, kind: .metric, quantity: .zDepth, projection: view.projection),
                                 confidence: Image(width: view.width, height: view.height, channels: 1, fill: 1))
        }
        let inverse = (0..<(view.width * view.height)).compactMap { i -> Double? in
            let z = Double(ray.pixels[i]) / view.rayFactor(x: i % view.width, y: i / view.width)
            return z > 0 && z.isFinite ? 1 / z : nil
        }.sorted()
        let level = inverse.isEmpty ? 1 : inverse[inverse.count / 2]
        let (s, t) = (0.5 + 1.5 * random(), 0.5 * random() * level)
        let (phase, tilt) = (random() * 2 * .pi, random() * 2 - 1)
        let disparity = Image(width: view.width, height: view.height, channels: 1) { _, y, x in
            let z = Double(ray[0, y, x]) / view.rayFactor(x: x, y: y)
            let (u, v) = (Double(x) / Double(view.width), Double(y) / Double(view.height))
            let bump = 1 + warp * (sin(2 * .pi * u + phase) * 0.5 + tilt * (v - 0.5))
            return Float((s / z + t) * bump + noise * level * (random() - 0.5))
        }
        return DepthEstimate(depth: DepthMap(values: disparity, kind: .inverseRelative, quantity: .zDepth, projection: view.projection),
                             confidence: Image(width: view.width, height: view.height, channels: 1, fill: 1))
    }
}
