import Foundation
import StrataCore

/// Measures of visible seams in equirectangular depth: where the image wraps, and along the
/// edges of cube faces or tangent patches that a 360° method stitched together.
public enum SeamMetrics {
    /// Mean |d(x = 0) − d(x = W − 1)| over rows, divided by the median depth: 0 when the
    /// wrap is invisible (up to the one-pixel step of the scene itself).
    public static func wrapSeam(_ depth: DepthMap) -> Double {
        var differences: [Double] = [], values: [Double] = []
        for y in 0..<depth.height {
            let a = Double(depth[y, 0]), b = Double(depth[y, depth.width - 1])
            if a.isFinite && b.isFinite { differences.append(abs(a - b)) }
        }
        for v in depth.values.pixels where v.isFinite { values.append(Double(v)) }
        guard !differences.isEmpty else { return .nan }
        return differences.reduce(0, +) / Double(differences.count) / DepthEvaluation.median(values)
    }

    /// Mean |∇ log d| within `band` pixels of the boundaries (mask > 0.5) over the same mean
    /// away from them: 1.0 means the boundaries are invisible in the depth.
    public static func boundaryGradientRatio(_ depth: DepthMap, boundaries: Image, band: Int = 2) -> Double {
        precondition(boundaries.width == depth.width && boundaries.height == depth.height, "mask size")
        let (w, h) = (depth.width, depth.height)
        // Distance-limited dilation of the boundary mask (Chebyshev distance ≤ band).
        var near = [Bool](repeating: false, count: w * h)
        for y in 0..<h {
            for x in 0..<w where boundaries[0, y, x] > 0.5 {
                for dy in -band...band {
                    for dx in -band...band {
                        let (yy, xx) = (y + dy, ((x + dx) % w + w) % w)  // columns wrap, as longitude
                        if yy >= 0 && yy < h { near[yy * w + xx] = true }
                    }
                }
            }
        }
        var nearSum = 0.0, nearCount = 0.0, farSum = 0.0, farCount = 0.0
        for y in 0..<(h - 1) {
            for x in 0..<w {
                let d = Double(depth[y, x]), right = Double(depth[y, (x + 1) % w]), below = Double(depth[y + 1, x])
                guard d > 0, right > 0, below > 0, d.isFinite, right.isFinite, below.isFinite else { continue }
                let gradient = (pow(log(right) - log(d), 2) + pow(log(below) - log(d), 2)).squareRoot()
                if near[y * w + x] { nearSum += gradient; nearCount += 1 } else { farSum += gradient; farCount += 1 }
            }
        }
        guard nearCount > 0, farCount > 0, farSum > 0 else { return .nan }
        return (nearSum / nearCount) / (farSum / farCount)
    }
}
