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
/// equations (a graph Laplacian plus ε) are solved by conjugate gradients with a Jacobi
/// preconditioner, started from u0.
enum GradientBlend {
    static let epsilon = 1e-3
    static let iterations = 500
    static let tolerance = 1e-6

    static func blend(_ feathered: Image, gx: [Float], gy: [Float]) -> Image {
        let (width, height) = (feathered.width, feathered.height)
        let count = width * height
        let u0 = feathered.pixels.map { $0 > 0 ? Double(log($0)) : .nan }
        let active = u0.map(\.isFinite)

        var edges: [(Int, Int, Double)] = []
        edges.reserveCapacity(2 * count + width)
        func add(_ i: Int, _ j: Int, _ guide: Float) {
            guard active[i], active[j] else { return }
            edges.append((i, j, guide.isFinite ? Double(guide) : u0[j] - u0[i]))
        }
        for y in 0..<height {
            for x in 0..<width {
                let i = y * width + x
                add(i, y * width + (x + 1) % width, gx[i])
                if y + 1 < height { add(i, i + width, gy[i]) }
            }
        }
        for x in 0..<(width / 2) {
            add(x, x + width / 2, .nan)
            add((height - 1) * width + x, (height - 1) * width + x + width / 2, .nan)
        }

        var diagonal = [Double](repeating: epsilon, count: count)
        var b = [Double](repeating: 0, count: count)
        for (i, j, g) in edges {
            diagonal[i] += 1; diagonal[j] += 1
            b[i] -= g; b[j] += g
        }
        for i in 0..<count where active[i] { b[i] += epsilon * u0[i] }

        func apply(_ v: [Double]) -> [Double] {
            var out = [Double](repeating: 0, count: count)
            for i in 0..<count where active[i] { out[i] = diagonal[i] * v[i] }
            for (i, j, _) in edges {
                out[i] -= v[j]
                out[j] -= v[i]
            }
            return out
        }
        func dot(_ a: [Double], _ c: [Double]) -> Double {
            var s = 0.0
            for i in 0..<count where active[i] { s += a[i] * c[i] }
            return s
        }
        var u = u0.map { $0.isFinite ? $0 : 0 }
        var r = apply(u)
        for i in 0..<count { r[i] = active[i] ? b[i] - r[i] : 0 }
        var z = (0..<count).map { active[$0] ? r[$0] / diagonal[$0] : 0 }
        var p = z
        var rz = dot(r, z)
        let start = rz
        for _ in 0..<iterations where rz > tolerance * tolerance * max(start, 1e-300) {
            let ap = apply(p)
            let alpha = rz / dot(p, ap)
            for i in 0..<count where active[i] {
                u[i] += alpha * p[i]
                r[i] -= alpha * ap[i]
                z[i] = r[i] / diagonal[i]
            }
            let next = dot(r, z)
            let beta = next / rz
            rz = next
            for i in 0..<count where active[i] { p[i] = z[i] + beta * p[i] }
        }
        var out = feathered
        for i in 0..<count where active[i] { out.pixels[i] = Float(exp(u[i])) }
        return out
    }
}
