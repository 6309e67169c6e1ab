/// A screened Poisson system on a grid of pixels: a weighted graph Laplacian over each
/// pixel's right neighbour (the last column's edge wraps to the first, as an equirect's
/// 0°/360° seam does; give it weight 0 for a flat image), the pixel below, and pairs of
/// pixels of the first or last row (an equirect's rows meeting across a pole), plus a
/// diagonal anchor:
///
///     (A u)_i = (anchor_i + Σ_j w_ij) u_i − Σ_j w_ij u_j
///
/// Solved by conjugate gradients preconditioned with one multigrid V-cycle: 2 × 2
/// aggregation with Galerkin coarse systems (which keep the same grid structure, so every
/// level runs the same stencil loops), red-black Gauss–Seidel smoothing, W-cycles below
/// the finest level and the coarse correction over-weighted, which piecewise-constant
/// aggregation needs on a Laplacian (Braess 1995). About seven iterations reach 10⁻⁴ of
/// the starting residual at any size, where Jacobi-preconditioned CG took hundreds.
///
/// A pixel with no anchor and no edge (no depth there) is left out: it stays 0. Gradient-
/// domain blending (StrataDepth) and membrane fills (StrataLayers) build their systems here.
public struct GridPoisson: Sendable {
    /// One level: the weights and the anchor on a `width × height` grid.
    public struct Level: Sendable {
        let width: Int, height: Int
        /// Weight of the edge to the pixel on the right (x + 1 mod width).
        var right: [Float]
        /// Weight of the edge to the pixel below (0 on the last row).
        var down: [Float]
        /// Edges between two pixels of the same row (the first or last), across a pole.
        var poles: [(i: Int32, j: Int32, w: Float)]
        var anchor: [Float]
        /// 1 / diagonal, 0 for pixels left out.
        var inverseDiagonal: [Float]
        /// Per pixel of the first row (x) and the last (width + x), the range of `poleOrder`
        /// holding its pole edges.
        var poleStart: [Int32] = []
        var poleOrder: [(other: Int32, w: Float)] = []
        /// Per row, when every pixel of it has the same weights to its left and right, up
        /// and down, and the same anchor (most rows: away from the poles and the holes):
        /// those weights and 1 / diagonal, so sweeps over it read no weights.
        var uniformRows: [(side: Float, up: Float, down: Float, inverse: Float)?] = []

        /// The finest level: per pixel the weight to its right neighbour (wrapping), to the
        /// pixel below (0 on the last row), and its anchor; edges joining pixels of the
        /// first or last row.
        public init(width: Int, height: Int, right: [Float], down: [Float], poles: [(i: Int32, j: Int32, w: Float)], anchor: [Float]) {
            (self.width, self.height, self.right, self.down, self.poles, self.anchor) = (width, height, right, down, poles, anchor)
            let count = width * height
            // The diagonal gathered per pixel (rows in parallel), pole edges after.
            var inverse = [Float](repeating: 0, count: count)
            var poleSums = [Int: Float]()
            for p in poles { poleSums[Int(p.i), default: 0] += p.w; poleSums[Int(p.j), default: 0] += p.w }
            right.withUnsafeBufferPointer { rp in down.withUnsafeBufferPointer { dp in anchor.withUnsafeBufferPointer { ap in
            inverse.withUnsafeMutableBufferPointer { ip in
                let (r, d, a, out) = (UncheckedSendable(rp.baseAddress!), UncheckedSendable(dp.baseAddress!),
                                      UncheckedSendable(ap.baseAddress!), UncheckedSendable(ip.baseAddress!))
                GridPoisson.forEachBlock(rows: height, cells: count) { rows in
                    for y in rows {
                        let row = y * width
                        for x in 0..<width {
                            let i = row + x
                            var diagonal = a.value[i] + r.value[i] + r.value[x == 0 ? row + width - 1 : i - 1]
                            if y > 0 { diagonal += d.value[i - width] }
                            if y + 1 < height { diagonal += d.value[i] }
                            if y == 0 || y == height - 1 { diagonal += poleSums[i] ?? 0 }
                            out.value[i] = diagonal > 0 ? 1 / diagonal : 0
                        }
                    }
                }
            } } } }
            inverseDiagonal = inverse
            // Pole edges by pixel of the first and last rows (k = x, or width + x), so a sweep
            // reads a pixel's own.
            func poleIndex(_ i: Int) -> Int { i < width ? i : width + i % width }
            var counts = [Int32](repeating: 0, count: 2 * width + 1)
            for p in poles { counts[poleIndex(Int(p.i)) + 1] += 1; counts[poleIndex(Int(p.j)) + 1] += 1 }
            for k in 0..<(2 * width) { counts[k + 1] += counts[k] }
            poleStart = counts
            var fill = counts
            poleOrder = Array(repeating: (0, 0), count: 2 * poles.count)
            for p in poles {
                let (a, b) = (poleIndex(Int(p.i)), poleIndex(Int(p.j)))
                poleOrder[Int(fill[a])] = (p.j, p.w); fill[a] += 1
                poleOrder[Int(fill[b])] = (p.i, p.w); fill[b] += 1
            }
            var uniform = [(side: Float, up: Float, down: Float, inverse: Float)?](repeating: nil, count: height)
            uniform.withUnsafeMutableBufferPointer { up in
                let out = UncheckedSendable(up.baseAddress!)
                GridPoisson.forEachBlock(rows: height, cells: count) { rows in
                    for y in rows where y > 0 && y + 1 < height {
                        let row = y * width
                        let (side, above, below, inverse) = (right[row], down[row - width], down[row], inverseDiagonal[row])
                        guard inverse > 0 else { continue }
                        var same = true
                        for i in row..<(row + width) where right[i] != side || down[i - width] != above || down[i] != below
                            || inverseDiagonal[i] != inverse || anchor[i] != anchor[row] { same = false; break }
                        if same { out.value[y] = (side, above, below, inverse) }
                    }
                }
            }
            uniformRows = uniform
        }

        /// Σ_j w_ij v_j for pixel i = y × width + x.
        @inline(__always)
        func neighbourSum(_ v: UnsafePointer<Float>, _ i: Int, _ x: Int, _ y: Int,
                          _ right: UnsafePointer<Float>, _ down: UnsafePointer<Float>) -> Float {
            let row = i - x
            let l = x == 0 ? row + width - 1 : i - 1, r = x == width - 1 ? row : i + 1
            var s = right[i] * v[r] + right[l] * v[l]
            if y > 0 { s += down[i - width] * v[i - width] }
            if y + 1 < height { s += down[i] * v[i + width] }
            if y == 0 || y == height - 1 {
                let k = y == 0 ? x : width + x
                for e in Int(poleStart[k])..<Int(poleStart[k + 1]) { s += poleOrder[e].w * v[Int(poleOrder[e].other)] }
            }
            return s
        }

        func forEachRowBand(_ body: (Range<Int>) -> Void) { GridPoisson.forEachBlock(rows: height, cells: width * height, body) }

        /// Calls `body(i, (A v)_i)` for every pixel i of row y that is not left out; rows of
        /// one weight throughout take a loop with no branch and no weight read.
        @inline(__always)
        func forEachProduct(_ v: UnsafePointer<Float>, row y: Int, _ r: UnsafePointer<Float>, _ d: UnsafePointer<Float>,
                            _ body: (Int, Float) -> Void) {
            let row = y * width
            if let u = uniformRows[y], width > 2 {
                let (w, last, diagonal) = (width, width - 1, 1 / u.inverse)
                body(row, diagonal * v[row] - (u.side * (v[row + last] + v[row + 1]) + u.up * v[row - w] + u.down * v[row + w]))
                for i in (row + 1)..<(row + last) {
                    body(i, diagonal * v[i] - (u.side * (v[i - 1] + v[i + 1]) + u.up * v[i - w] + u.down * v[i + w]))
                }
                let i = row + last
                body(i, diagonal * v[i] - (u.side * (v[i - 1] + v[row]) + u.up * v[i - w] + u.down * v[i + w]))
                return
            }
            for x in 0..<width {
                let i = row + x
                let id = inverseDiagonal[i]
                if id > 0 { body(i, v[i] / id - neighbourSum(v, i, x, y, r, d)) }
            }
        }

        /// `body(rows, right, down, a, b)` over bands of rows on the worker pool, with the
        /// weights, `a` and `b` as raw pointers.
        func forEachRowBand(reading a: [Float], writing b: inout [Float],
                            _ body: (Range<Int>, UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>) -> Void) {
            right.withUnsafeBufferPointer { rp in down.withUnsafeBufferPointer { dp in
            a.withUnsafeBufferPointer { ap in b.withUnsafeMutableBufferPointer { bp in
                let (r, d, aa, bb) = (UncheckedSendable(rp.baseAddress!), UncheckedSendable(dp.baseAddress!),
                                      UncheckedSendable(ap.baseAddress!), UncheckedSendable(bp.baseAddress!))
                forEachRowBand { rows in body(rows, r.value, d.value, aa.value, bb.value) }
            } } } }
        }

        /// y = A v.
        func apply(_ v: [Float], into y: inout [Float]) {
            forEachRowBand(reading: v, writing: &y) { rows, r, d, v, out in
                for y in rows {
                    // Left-out pixels are 0.
                    if uniformRows[y] == nil { for i in (y * width)..<((y + 1) * width) { out[i] = 0 } }
                    forEachProduct(v, row: y, r, d) { i, product in out[i] = product }
                }
            }
        }

        /// One Gauss–Seidel half-sweep over the pixels of one colour ((x + y) mod 2): the two
        /// colours touch only through the stencil, so rows run in parallel.
        func relax(_ v: inout [Float], _ b: [Float], colour: Int) {
            forEachRowBand(reading: b, writing: &v) { rows, r, d, bv, v in
                for y in rows {
                    var x = (colour + y) & 1
                    if let u = uniformRows[y] {
                        let row = y * width
                        let (w, last) = (width, width - 1)
                        // The wrapping ends, then the inside without a branch or a weight read.
                        if x == 0 { v[row] = (bv[row] + u.side * (v[row + last] + v[row + 1]) + u.up * v[row - w] + u.down * v[row + w]) * u.inverse }
                        if (last - x) % 2 == 0 {
                            let i = row + last
                            v[i] = (bv[i] + u.side * (v[i - 1] + v[row]) + u.up * v[i - w] + u.down * v[i + w]) * u.inverse
                        }
                        if x == 0 { x = 2 }
                        while x < last {
                            let i = row + x
                            v[i] = (bv[i] + u.side * (v[i - 1] + v[i + 1]) + u.up * v[i - w] + u.down * v[i + w]) * u.inverse
                            x += 2
                        }
                        continue
                    }
                    while x < width {
                        let i = y * width + x
                        let id = inverseDiagonal[i]
                        if id > 0 { v[i] = (bv[i] + neighbourSum(UnsafePointer(v), i, x, y, r, d)) * id }
                        x += 2
                    }
                }
            }
        }

        /// The next level: 2 × 2 blocks of pixels become one, the Galerkin product with
        /// piecewise-constant interpolation (weights between blocks summed, edges inside a
        /// block dropped, anchors summed).
        func coarsened() -> Level {
            let (cw, ch) = ((width + 1) / 2, (height + 1) / 2)
            var right = [Float](repeating: 0, count: cw * ch), down = right, anchor = right
            right.withUnsafeMutableBufferPointer { rp in down.withUnsafeMutableBufferPointer { dp in anchor.withUnsafeMutableBufferPointer { ap in
                let (r, d, a) = (UncheckedSendable(rp.baseAddress!), UncheckedSendable(dp.baseAddress!), UncheckedSendable(ap.baseAddress!))
                GridPoisson.forEachBlock(rows: ch, cells: width * height) { coarseRows in
                    for cy in coarseRows {
                        for y in (2 * cy)..<min(2 * cy + 2, height) {
                            for x in 0..<width {
                                let i = y * width + x, c = cy * cw + x / 2
                                a.value[c] += self.anchor[i]
                                if ((x + 1) % width) / 2 != x / 2 { r.value[c] += self.right[i] }
                                if y % 2 == 1 && y + 1 < height { d.value[c] += self.down[i] }
                            }
                        }
                    }
                }
            } } }
            var merged: [Int64: Float] = [:]
            for p in poles {
                let (a, b) = (Int(p.i), Int(p.j))
                let ca = Int64((a / width / 2) * cw + (a % width) / 2), cb = Int64((b / width / 2) * cw + (b % width) / 2)
                guard ca != cb else { continue }
                merged[min(ca, cb) << 32 | max(ca, cb), default: 0] += p.w
            }
            let poles = merged.sorted { $0.key < $1.key }.map { (i: Int32($0.key >> 32), j: Int32($0.key & 0xffff_ffff), w: $0.value) }
            return Level(width: cw, height: ch, right: right, down: down, poles: poles, anchor: anchor)
        }

        /// The residual b − A v summed over 2 × 2 blocks: the next level's right-hand side,
        /// one coarse row per pair of rows.
        func restrictedResidual(_ v: [Float], _ b: [Float], coarseWidth cw: Int, into coarse: inout [Float]) {
            let ch = (height + 1) / 2
            right.withUnsafeBufferPointer { rp in down.withUnsafeBufferPointer { dp in
            v.withUnsafeBufferPointer { vp in b.withUnsafeBufferPointer { bp in coarse.withUnsafeMutableBufferPointer { cp in
                let (r, d, vv, bb, out) = (UncheckedSendable(rp.baseAddress!), UncheckedSendable(dp.baseAddress!), UncheckedSendable(vp.baseAddress!),
                                           UncheckedSendable(bp.baseAddress!), UncheckedSendable(cp.baseAddress!))
                GridPoisson.forEachBlock(rows: ch, cells: width * height) { coarseRows in
                    for cy in coarseRows {
                        let c = out.value + cy * cw
                        for cx in 0..<cw { c[cx] = 0 }
                        for y in (2 * cy)..<min(2 * cy + 2, height) {
                            let row = y * width
                            forEachProduct(vv.value, row: y, r.value, d.value) { i, product in c[(i - row) >> 1] += bb.value[i] - product }
                        }
                    }
                }
            } } } } }
        }

        /// v += weight × the coarse correction, each pixel taking its block's value.
        func addInterpolated(_ coarse: [Float], coarseWidth cw: Int, weight: Float, to v: inout [Float]) {
            coarse.withUnsafeBufferPointer { cp in v.withUnsafeMutableBufferPointer { vp in inverseDiagonal.withUnsafeBufferPointer { ip in
                let (c, vv, id) = (UncheckedSendable(cp.baseAddress!), UncheckedSendable(vp.baseAddress!), UncheckedSendable(ip.baseAddress!))
                GridPoisson.forEachBlock(rows: height, cells: width * height) { rows in
                    for y in rows {
                        let row = (y / 2) * cw
                        for x in 0..<width where id.value[y * width + x] > 0 { vv.value[y * width + x] += weight * c.value[row + x / 2] }
                    }
                }
            } } }
        }
    }

    /// `body` over bands of rows, on the worker pool when the grid is large enough to gain.
    static func forEachBlock(rows: Int, cells: Int, _ body: (Range<Int>) -> Void) {
        if cells < 1 << 15 { body(0..<rows) } else { Parallel.forEachBand(rows, minimumBand: 4, body) }
    }

    /// Σ body(range) over fixed blocks of `0..<count`, added in block order: the same bits
    /// on any number of threads.
    static func sum(_ count: Int, _ body: (Range<Int>) -> Double) -> Double {
        let block = 1 << 15
        let blocks = (count + block - 1) / block
        var partial = [Double](repeating: 0, count: blocks)
        partial.withUnsafeMutableBufferPointer { p in
            let out = UncheckedSendable(p.baseAddress!)
            Parallel.forEachBand(blocks, minimumBand: 1) { range in
                for k in range { out.value[k] = body((k * block)..<min(count, (k + 1) * block)) }
            }
        }
        return partial.reduce(0, +)
    }

    let levels: [Level]
    /// Weight of the coarse-grid correction. Piecewise-constant aggregation underestimates
    /// a smooth error by about half (Braess 1995); 1.8 rather than 2, because with W-cycles
    /// the coarse solves are accurate enough that 2 sits at the edge (three coarse
    /// corrections per level with weight 2 diverged).
    static let coarseWeight: Float = 1.8
    /// Sweeps before and after the coarse correction, and on the coarsest level.
    static let (preSweeps, postSweeps, coarsestSweeps) = (1, 1, 40)
    /// Coarse corrections per level below the finest (2: a W-cycle). With one (a V-cycle)
    /// the iterations grew with the grid, 5, 8 and 22 from 64 × 32 to 1024 × 512; with two
    /// they stay at 6–7, for about twice the coarse levels' work, a third of the fine's.
    static let cycleIndex = 2

    /// The multigrid hierarchy over `fine`.
    public init(_ fine: Level) {
        var levels = [fine]
        while let last = levels.last, last.width > 8, last.height > 4 { levels.append(last.coarsened()) }
        self.levels = levels
    }

    /// One cycle from zero for A x = b at `level` (a V at the finest, W below): an
    /// approximate inverse, symmetric (the colours are swept in the reverse order after
    /// the correction).
    func cycle(_ b: [Float], level k: Int = 0) -> [Float] {
        let l = levels[k]
        var x = [Float](repeating: 0, count: b.count)
        guard k + 1 < levels.count else {
            for _ in 0..<Self.coarsestSweeps { l.relax(&x, b, colour: 0); l.relax(&x, b, colour: 1) }
            for _ in 0..<Self.coarsestSweeps { l.relax(&x, b, colour: 1); l.relax(&x, b, colour: 0) }
            return x
        }
        for _ in 0..<Self.preSweeps { l.relax(&x, b, colour: 0); l.relax(&x, b, colour: 1) }
        let next = levels[k + 1]
        var coarse = [Float](repeating: 0, count: next.width * next.height)
        for _ in 0..<(k == 0 ? 1 : Self.cycleIndex) {
            l.restrictedResidual(x, b, coarseWidth: next.width, into: &coarse)
            l.addInterpolated(cycle(coarse, level: k + 1), coarseWidth: next.width, weight: Self.coarseWeight, to: &x)
        }
        for _ in 0..<Self.postSweeps { l.relax(&x, b, colour: 1); l.relax(&x, b, colour: 0) }
        return x
    }

    /// Solves A x = b from `x` (0 for left-out pixels) to `tolerance` of the starting
    /// residual's norm; flexible CG (Polak–Ribière), so the Gauss–Seidel order along a row
    /// cannot upset it. Returns the iterations taken.
    @discardableResult
    public func solve(_ b: [Float], _ x: inout [Float], tolerance: Double = 1e-4, maxIterations: Int = 100) -> Int {
        let fine = levels[0]
        let count = b.count
        var r = [Float](repeating: 0, count: count), ap = r
        fine.apply(x, into: &ap)
        for i in 0..<count { r[i] = fine.inverseDiagonal[i] > 0 ? b[i] - ap[i] : 0 }
        func dot(_ a: [Float], _ c: [Float]) -> Double {
            a.withUnsafeBufferPointer { ap in c.withUnsafeBufferPointer { cp in
                let (u, v) = (UncheckedSendable(ap.baseAddress!), UncheckedSendable(cp.baseAddress!))
                return Self.sum(count) { range in
                    var s: Float = 0
                    for i in range { s += u.value[i] * v.value[i] }
                    return Double(s)
                }
            } }
        }
        /// a[i] += s × c[i] for every i.
        func add(_ s: Float, _ c: [Float], to a: inout [Float]) {
            c.withUnsafeBufferPointer { cp in a.withUnsafeMutableBufferPointer { ap in
                let (u, v) = (UncheckedSendable(ap.baseAddress!), UncheckedSendable(cp.baseAddress!))
                Self.forEachBlock(rows: count, cells: count) { range in for i in range { u.value[i] += s * v.value[i] } }
            } }
        }
        let start = dot(r, r).squareRoot()
        guard start > 0 else { return 0 }
        var z = cycle(r)
        var p = z
        var rz = dot(r, z)
        for iteration in 1...maxIterations {
            fine.apply(p, into: &ap)
            let alpha = Float(rz / dot(p, ap))
            add(alpha, p, to: &x)
            add(-alpha, ap, to: &r)
            if dot(r, r).squareRoot() <= tolerance * start { return iteration }
            let previous = z
            z = cycle(r)
            let next = dot(r, z)
            // Polak–Ribière: r · (z − z_previous).
            let beta = Float(max(0, (next - dot(r, previous)) / rz))
            rz = next
            // p = z + β p.
            z.withUnsafeBufferPointer { zp in p.withUnsafeMutableBufferPointer { pp in
                let (u, v) = (UncheckedSendable(pp.baseAddress!), UncheckedSendable(zp.baseAddress!))
                Self.forEachBlock(rows: count, cells: count) { range in for i in range { u.value[i] = v.value[i] + beta * u.value[i] } }
            } }
        }
        return maxIterations
    }
}
