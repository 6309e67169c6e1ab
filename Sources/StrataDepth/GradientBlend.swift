import Foundation
import StrataCore

/// Gradient-domain merging on an equirect (Poisson blending in log depth).
///
/// The target gradient between a pixel and its neighbour on the right (wrapping at the
/// seam) or below is the feathered mean of each view's own difference of log q there. Each
/// view's differences are free of the small steps between views that remain after
/// alignment, which a feathered mean of values turns into bumps along the views' borders.
/// Where no view sees both pixels, the feathered merge's own difference is taken. The
/// first and last rows are joined across the poles to the pixel half a turn away. The
/// merged log q solves
///
///     min Σ over neighbour pairs (u_j − u_i − g_ij)² + ε Σ (u_i − u0_i)²
///
/// with u0 the log of the feathered merge, which also fixes the constant. The normal
/// equations (a graph Laplacian plus ε, ``GridPoisson``) are solved for the correction
/// to u0 by multigrid-preconditioned conjugate gradients.
enum GradientBlend {
    static let epsilon: Float = 1e-3
    /// Of the starting residual: the correction is then within about 10⁻⁴ in log depth.
    static let tolerance = 1e-4

    static func blend(_ feathered: Image, gx: [Float], gy: [Float]) -> Image {
        let (width, height) = (feathered.width, feathered.height)
        let count = width * height
        let u0 = feathered.pixels.map { $0 > 0 ? log($0) : Float.nan }
        let active = u0.map(\.isFinite)

        // The system for the correction c = u − u0: unit weights between pixels that both
        // have depth, and a right-hand side that is the divergence of the difference between
        // the target gradients and u0's own (nothing to correct where no view sees both
        // pixels of an edge: the guide is then u0's own difference).
        var right = [Float](repeating: 0, count: count), down = right, anchor = right, b = right
        var hx = right, hy = right
        u0.withUnsafeBufferPointer { up in gx.withUnsafeBufferPointer { gxp in gy.withUnsafeBufferPointer { gyp in
        right.withUnsafeMutableBufferPointer { rp in down.withUnsafeMutableBufferPointer { dp in anchor.withUnsafeMutableBufferPointer { ap in
        hx.withUnsafeMutableBufferPointer { hxp in hy.withUnsafeMutableBufferPointer { hyp in
            let (u, gxs, gys) = (UncheckedSendable(up.baseAddress!), UncheckedSendable(gxp.baseAddress!), UncheckedSendable(gyp.baseAddress!))
            let (r, d, a, h, v) = (UncheckedSendable(rp.baseAddress!), UncheckedSendable(dp.baseAddress!), UncheckedSendable(ap.baseAddress!),
                                   UncheckedSendable(hxp.baseAddress!), UncheckedSendable(hyp.baseAddress!))
            Parallel.forEachBand(height, minimumBand: 8) { rows in
                for y in rows {
                    for x in 0..<width {
                        let i = y * width + x
                        guard u.value[i].isFinite else { continue }
                        a.value[i] = epsilon
                        let j = y * width + (x + 1) % width
                        if u.value[j].isFinite {
                            r.value[i] = 1
                            if gxs.value[i].isFinite { h.value[i] = gxs.value[i] - (u.value[j] - u.value[i]) }
                        }
                        if y + 1 < height, u.value[i + width].isFinite {
                            d.value[i] = 1
                            if gys.value[i].isFinite { v.value[i] = gys.value[i] - (u.value[i + width] - u.value[i]) }
                        }
                    }
                }
            }
        } } } } } } } }
        hx.withUnsafeBufferPointer { hxp in hy.withUnsafeBufferPointer { hyp in b.withUnsafeMutableBufferPointer { bp in
            let (h, v, out) = (UncheckedSendable(hxp.baseAddress!), UncheckedSendable(hyp.baseAddress!), UncheckedSendable(bp.baseAddress!))
            Parallel.forEachBand(height, minimumBand: 8) { rows in
                for y in rows {
                    for x in 0..<width {
                        let i = y * width + x
                        var sum = h.value[y * width + (x + width - 1) % width] - h.value[i] - v.value[i]
                        if y > 0 { sum += v.value[i - width] }
                        out.value[i] = sum
                    }
                }
            }
        } } }
        // The first and last rows meet across the poles, each pixel the one half a turn away.
        var poles: [(i: Int32, j: Int32, w: Float)] = []
        for row in [0, height - 1] {
            for x in 0..<(width / 2) {
                let (i, j) = (row * width + x, row * width + x + width / 2)
                guard active[i], active[j] else { continue }
                poles.append((Int32(i), Int32(j), 1))
            }
        }
        let system = GridPoisson(GridPoisson.Level(width: width, height: height, right: right, down: down, poles: poles, anchor: anchor))
        var correction = [Float](repeating: 0, count: count)
        system.solve(b, &correction, tolerance: tolerance)
        var out = feathered
        for i in 0..<count where active[i] { out.pixels[i] = exp(u0[i] + correction[i]) }
        return out
    }
}
