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
/// equations (a graph Laplacian plus ε, ``EquirectPoisson``) are solved for the correction
/// to u0 by multigrid-preconditioned conjugate gradients.
enum GradientBlend {
    static let epsilon: Float = 1e-3
    /// Of the starting residual: the correction is then within about 10⁻⁴ in log depth.
    static let tolerance = 1e-4

    static func blend(_ feathered: Image, gx: [Float], gy: [Float]) -> Image {
        var iterations = 0
        return blend(feathered, gx: gx, gy: gy, iterations: &iterations)
    }

    static func blend(_ feathered: Image, gx: [Float], gy: [Float], iterations: inout Int) -> Image {
        let (width, height) = (feathered.width, feathered.height)
        let count = width * height
        let u0 = feathered.pixels.map { $0 > 0 ? log($0) : Float.nan }
        let active = u0.map(\.isFinite)

        // The system for the correction c = u − u0: its right-hand side is the divergence of
        // the difference between the target gradients and u0's own.
        var right = [Float](repeating: 0, count: count), down = right, anchor = right, b = right
        func edge(_ i: Int, _ j: Int, _ guide: Float, _ weight: inout Float) {
            guard active[i], active[j] else { return }
            weight = 1
            // Where no view sees both pixels the guide is u0's own difference: nothing to correct.
            let g = guide.isFinite ? guide - (u0[j] - u0[i]) : 0
            b[i] -= g
            b[j] += g
        }
        for i in 0..<count {
            let (x, y) = (i % width, i / width)
            anchor[i] = active[i] ? epsilon : 0
            edge(i, i - x + (x + 1) % width, gx[i], &right[i])
            if y + 1 < height { edge(i, i + width, gy[i], &down[i]) }
        }
        // The first and last rows meet across the poles, each pixel the one half a turn away.
        var poles: [(i: Int32, j: Int32, w: Float)] = []
        for row in [0, height - 1] {
            for x in 0..<(width / 2) {
                let (i, j) = (row * width + x, row * width + x + width / 2)
                guard active[i], active[j] else { continue }
                poles.append((Int32(i), Int32(j), 1))
            }
        }
        let system = EquirectPoisson(EquirectPoisson.Level(width: width, height: height, right: right, down: down, poles: poles, anchor: anchor))
        var correction = [Float](repeating: 0, count: count)
        iterations = system.solve(b, &correction, tolerance: tolerance)
        var out = feathered
        for i in 0..<count where active[i] { out.pixels[i] = exp(u0[i] + correction[i]) }
        return out
    }
}
