import StrataCore

extension MotionField {
    /// The field made divergence-free inside the fluid, with the fluid's edge and the
    /// anchors as walls (the pressure projection of Stable Fluids, Stam 1999): a pressure p
    /// solves the graph Laplacian over the open faces, L p = −div, on ``GridPoisson``'s
    /// multigrid-preconditioned CG, and each open face loses p's difference across it. Water
    /// then flows around a rock instead of into it, and neither piles up nor drains away.
    ///
    /// Where the fluid meets the image's border (`openBorders`), the border is open, not a
    /// wall: p is 0 beyond it and the flow through it continues the flow next to it, so a
    /// river may run out of the picture. Such cells then balance what crosses the border,
    /// and only the other cells' ``divergence()`` is 0.
    ///
    /// `tolerance`: of the divergence's norm, where the solve stops.
    public func divergenceFree(openBorders: Bool = true, tolerance: Double = 3e-4) -> MotionField {
        let count = width * height
        var right = [Float](repeating: 0, count: count), down = right, anchor = right
        for i in 0..<count {
            right[i] = openRight[i] ? 1 : 0
            down[i] = openDown[i] ? 1 : 0
        }
        // Every cell on an open face gets a faint anchor: p is fixed only up to a constant
        // per connected body of fluid, and the anchor picks the one near zero.
        for y in 0..<height {
            for x in 0..<width {
                let i = y * width + x
                let left = x > 0 ? i - 1 : (wrap ? i + width - 1 : -1)
                if openRight[i] || openDown[i] || (left >= 0 && openRight[left]) || (y > 0 && openDown[i - width]) { anchor[i] = 1e-6 }
            }
        }
        // Open borders: an edge to a cell beyond with p = 0 (weight 1 on the diagonal), and
        // the flow through it taken from the nearest face in the same direction.
        var outflow = [Float](repeating: 0, count: count)
        if openBorders {
            for y in 0..<height {
                for x in 0..<width {
                    let i = y * width + x
                    guard anchor[i] > 0 else { continue }
                    if !wrap && x == width - 1 { anchor[i] += 1; outflow[i] += x > 0 && openRight[i - 1] ? u[i - 1] : 0 }
                    if !wrap && x == 0 { anchor[i] += 1; outflow[i] -= openRight[i] ? u[i] : 0 }
                    if y == height - 1 { anchor[i] += 1; outflow[i] += y > 0 && openDown[i - width] ? v[i - width] : 0 }
                    if y == 0 { anchor[i] += 1; outflow[i] -= openDown[i] ? v[i] : 0 }
                }
            }
        }
        let system = GridPoisson(GridPoisson.Level(width: width, height: height, right: right, down: down, poles: [], anchor: anchor))
        let b = zip(divergence(), outflow).map { -($0 + $1) }
        var p = [Float](repeating: 0, count: count)
        system.solve(b, &p, tolerance: tolerance, maxIterations: 300)
        var out = self
        for y in 0..<height {
            for x in 0..<width {
                let i = y * width + x
                if openRight[i] { out.u[i] -= p[x + 1 < width ? i + 1 : y * width] - p[i] }
                if openDown[i] { out.v[i] -= p[i + width] - p[i] }
            }
        }
        return out
    }
}
