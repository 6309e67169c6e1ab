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
        FreedMemory.keep()
        let count = width * height
        // The system and its right-hand side, row by row in parallel: each pass writes its
        // own row's cells only.
        var right = [Float](repeating: 0, count: count), down = right, anchor = right, b = right
        right.withUnsafeMutableBufferPointer { r in down.withUnsafeMutableBufferPointer { d in
        anchor.withUnsafeMutableBufferPointer { a in b.withUnsafeMutableBufferPointer { rhs in
            let out = UncheckedSendable((r.baseAddress!, d.baseAddress!, a.baseAddress!, rhs.baseAddress!))
            Parallel.forEachBand(height, minimumBand: 8) { rows in
                let (right, down, anchor, rhs) = out.value
                for y in rows {
                    for x in 0..<width {
                        let i = y * width + x
                        right[i] = openRight[i] ? 1 : 0
                        down[i] = openDown[i] ? 1 : 0
                        let left = x > 0 ? i - 1 : (wrap ? i + width - 1 : -1)
                        let up = y > 0 ? i - width : -1
                        // Every cell on an open face gets a faint anchor: p is fixed only up
                        // to a constant per connected body of fluid, and the anchor picks the
                        // one near zero.
                        guard openRight[i] || openDown[i] || (left >= 0 && openRight[left]) || (up >= 0 && openDown[up]) else { continue }
                        var a: Float = 1e-6
                        // Open borders: an edge to a cell beyond with p = 0 (weight 1 on the
                        // diagonal), and the flow through it taken from the nearest face in
                        // the same direction.
                        var outflow: Float = 0
                        if openBorders {
                            if !wrap && x == width - 1 { a += 1; outflow += x > 0 && openRight[i - 1] ? u[i - 1] : 0 }
                            if !wrap && x == 0 { a += 1; outflow -= openRight[i] ? u[i] : 0 }
                            if y == height - 1 { a += 1; outflow += y > 0 && openDown[i - width] ? v[i - width] : 0 }
                            if y == 0 { a += 1; outflow -= openDown[i] ? v[i] : 0 }
                        }
                        anchor[i] = a
                        rhs[i] = -(divergence(at: i, x: x, y: y) + outflow)
                    }
                }
            }
        } } } }
        let system = GridPoisson(GridPoisson.Level(width: width, height: height, right: right, down: down, poles: [], anchor: anchor))
        var p = [Float](repeating: 0, count: count)
        system.solve(b, &p, tolerance: tolerance, maxIterations: 300)
        var out = self
        out.u.withUnsafeMutableBufferPointer { u in out.v.withUnsafeMutableBufferPointer { v in
            let faces = UncheckedSendable((u.baseAddress!, v.baseAddress!))
            Parallel.forEachBand(height, minimumBand: 8) { rows in
                let (u, v) = faces.value
                for y in rows {
                    for x in 0..<width {
                        let i = y * width + x
                        if openRight[i] { u[i] -= p[x + 1 < width ? i + 1 : y * width] - p[i] }
                        if openDown[i] { v[i] -= p[i + width] - p[i] }
                    }
                }
            }
        } }
        return out
    }
}
