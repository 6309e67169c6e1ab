import StrataCore

/// A triangle mesh over a grid of samples, simplified with a restricted quadtree: square
/// cells merge where what they carry is bilinear within a tolerance (a flat wall becomes a
/// few large cells, an object's edge keeps the finest ones), neighbouring cells differ by
/// at most one level, and a cell fans through the midpoints of its finer neighbours' edges,
/// so the mesh has no T-junction inside. The finest cells are two triangles each, and a
/// triangle whose corners are not all held, or whose corners' distances jump, is dropped:
/// the mesh is cut at depth discontinuities rather than stretched across them.
///
/// Nodes are numbered `j * columns + i` (i across, j down). A triangle's corners run the
/// same way round as nodes (0, 0), (1, 0), (0, 1).
public struct QuadtreeMesh: Sendable {
    public let columns: Int
    public let rows: Int
    /// The largest cell, 2^maxLevel finest cells across.
    public let maxLevel: Int
    /// Per level (0: the finest cells), each cell's merge error: the largest deviation from
    /// the bilinear interpolation of its corners over every node it covers, in it and in any
    /// smaller cell inside it (so it never falls going up). Infinite where the cell cannot
    /// be one piece: a node not held, a jump in distance, or a cell past the grid's edge.
    let error: [[Float]]
    /// Per finest cell, which of its two triangles stand: bit 0 the one at its first
    /// corner, bit 1 the one at its last.
    let finest: [UInt8]
    /// Per level-1 cell, how many triangles its finest cells make when it is split.
    let finestInPairs: [Int32]

    /// Cells per row and rows of cells at `level`.
    func size(_ level: Int) -> (Int, Int) { Self.size(columns: columns, rows: rows, level: level) }

    static func size(columns: Int, rows: Int, level: Int) -> (Int, Int) {
        let s = 1 << level
        return ((columns - 1 + s - 1) / s, (rows - 1 + s - 1) / s)
    }

    /// - Parameters:
    ///   - held: per node, whether it is part of the surface.
    ///   - distance: per node, its distance from the camera (for the jump test).
    ///   - channels: what must stay bilinear within the tolerance, each per node and scaled
    ///     so that one unit of deviation is equally bad in every channel (e.g. disparity over
    ///     the scene's largest, colour times a weight).
    ///   - jump: a finest triangle is dropped when its largest corner distance exceeds its
    ///     smallest times this.
    ///   - maxLevel: the largest cell is 2^maxLevel finest cells across.
    public init(columns: Int, rows: Int, held: [Bool], distance: [Float], channels: [[Float]], jump: Float, maxLevel: Int = 6) {
        precondition(columns >= 1 && rows >= 1 && held.count == columns * rows && distance.count == held.count)
        (self.columns, self.rows) = (columns, rows)
        let top = min(maxLevel, Int.bitWidth - (max(columns, rows) - 1).leadingZeroBitCount)
        self.maxLevel = max(0, top)
        let (w0, h0) = (columns - 1, rows - 1)
        var finest = [UInt8](repeating: 0, count: max(0, w0 * h0))
        var whole = [Float](repeating: .infinity, count: finest.count)
        /// Whether a triangle's corners are held and continuous.
        func stands(_ a: Int, _ b: Int, _ c: Int) -> Bool {
            guard held[a], held[b], held[c] else { return false }
            let (da, db, dc) = (distance[a], distance[b], distance[c])
            return max(da, db, dc) <= min(da, db, dc) * jump
        }
        for j in 0..<max(0, h0) {
            for i in 0..<w0 {
                let (c00, c10, c01, c11) = (j * columns + i, j * columns + i + 1, (j + 1) * columns + i, (j + 1) * columns + i + 1)
                let mask = (stands(c00, c10, c01) ? 1 : 0) | (stands(c10, c11, c01) ? 2 : 0)
                finest[j * w0 + i] = UInt8(mask)
                // Zero where the cell is whole and continuous across both diagonals.
                if mask == 3, stands(c00, c10, c11), stands(c00, c11, c01) { whole[j * w0 + i] = 0 }
            }
        }
        self.finest = finest
        let (w1, h1) = Self.size(columns: columns, rows: rows, level: 1)
        var pairs = [Int32](repeating: 0, count: w1 * h1)
        for j in 0..<max(0, h0) {
            for i in 0..<w0 { pairs[(j / 2) * w1 + i / 2] += Int32(finest[j * w0 + i].nonzeroBitCount) }
        }
        finestInPairs = pairs
        error = Self.pyramid(columns: columns, rows: rows, maxLevel: self.maxLevel, base: [whole], channels: channels)
    }

    /// The same tree with more channels that must stay bilinear (such as colour).
    public func adding(_ channels: [[Float]]) -> QuadtreeMesh {
        QuadtreeMesh(self, error: Self.pyramid(columns: columns, rows: rows, maxLevel: maxLevel, base: error, channels: channels))
    }

    private init(_ tree: QuadtreeMesh, error: [[Float]]) {
        (columns, rows, maxLevel, finest, finestInPairs) = (tree.columns, tree.rows, tree.maxLevel, tree.finest, tree.finestInPairs)
        self.error = error
    }

    /// The merge errors of every level from the finest's, at least `base`'s at each level
    /// it has, with `channels`' deviations from bilinear.
    static func pyramid(columns: Int, rows: Int, maxLevel: Int, base: [[Float]], channels: [[Float]]) -> [[Float]] {
        var error = [base[0]]
        for level in stride(from: 1, through: maxLevel, by: 1) {
            let s = 1 << level
            let (w, h) = size(columns: columns, rows: rows, level: level)
            let (cw, _) = size(columns: columns, rows: rows, level: level - 1)
            let children = error[level - 1]
            var cells = level < base.count ? base[level] : [Float](repeating: 0, count: w * h)
            for b in 0..<h {
                for a in 0..<w {
                    let (i0, j0) = (a * s, b * s)
                    guard i0 + s <= columns - 1, j0 + s <= rows - 1 else { cells[b * w + a] = .infinity; continue }
                    var worst = max(cells[b * w + a], children[2 * b * cw + 2 * a], children[2 * b * cw + 2 * a + 1],
                                    children[(2 * b + 1) * cw + 2 * a], children[(2 * b + 1) * cw + 2 * a + 1])
                    if worst.isFinite {
                        for channel in channels {
                            worst = max(worst, bilinearDeviation(channel, columns: columns, i0: i0, j0: j0, size: s))
                        }
                    }
                    cells[b * w + a] = worst
                }
            }
            error.append(cells)
        }
        return error
    }

    /// The largest deviation of `values` over the nodes of the cell at (i0, j0), `size`
    /// across, from the bilinear interpolation of its four corners.
    static func bilinearDeviation(_ values: [Float], columns: Int, i0: Int, j0: Int, size s: Int) -> Float {
        values.withUnsafeBufferPointer { v in
            let v00 = v[j0 * columns + i0], v10 = v[j0 * columns + i0 + s]
            let v01 = v[(j0 + s) * columns + i0], v11 = v[(j0 + s) * columns + i0 + s]
            let inverse = 1 / Float(s)
            var worst: Float = 0
            for dj in 0...s {
                let t = Float(dj) * inverse
                let left = v00 + (v01 - v00) * t, step = ((v10 + (v11 - v10) * t) - left) * inverse
                let row = (j0 + dj) * columns + i0
                for di in 0...s {
                    worst = max(worst, abs(v[row + di] - (left + step * Float(di))))
                }
            }
            return worst
        }
    }

    /// Which cells are split at `tolerance`, per level: those whose error exceeds it, then
    /// the neighbours that must split too so that adjacent cells differ by one level at most.
    func splits(tolerance: Float) -> [[Bool]] {
        var split = (0...maxLevel).map { level in level == 0 ? [] : error[level].map { $0 > tolerance } }
        // Balance, finest first: a split cell at level m holds cells of level m − 1, so the
        // level m + 1 cell across each of its edges must hold nothing larger than level m.
        guard maxLevel >= 2 else { return split }
        for m in 1..<maxLevel {
            let (w, h) = size(m)
            let (pw, _) = size(m + 1)
            for b in 0..<h {
                for a in 0..<w where split[m][b * w + a] {
                    if a > 0 { split[m + 1][(b / 2) * pw + (a - 1) / 2] = true }
                    if a + 1 < w { split[m + 1][(b / 2) * pw + (a + 1) / 2] = true }
                    if b > 0 { split[m + 1][((b - 1) / 2) * pw + a / 2] = true }
                    if b + 1 < h { split[m + 1][((b + 1) / 2) * pw + a / 2] = true }
                }
            }
        }
        return split
    }

    /// The mesh at `tolerance`: triangles as node indices.
    public func triangles(tolerance: Float) -> [SIMD3<Int32>] {
        var out: [SIMD3<Int32>] = []
        leaves(splits(tolerance: tolerance)) { out.append($0) }
        return out
    }

    /// How many triangles the mesh at `tolerance` has (what ``triangles(tolerance:)``
    /// would emit, counted without visiting the finest cells one by one).
    public func count(tolerance: Float) -> Int {
        guard maxLevel > 0 else { return finest.reduce(0) { $0 + $1.nonzeroBitCount } }
        let split = splits(tolerance: tolerance)
        var n = 0
        for level in 1...maxLevel {
            let (w, h) = size(level)
            let (pw, _) = size(level + 1)
            split[level].withUnsafeBufferPointer { here in
                for b in 0..<h {
                    for a in 0..<w {
                        let c = b * w + a
                        if here[c] {
                            if level == 1 { n += Int(finestInPairs[c]) }
                            continue
                        }
                        guard level == maxLevel || split[level + 1][(b / 2) * pw + a / 2] else { continue }
                        let halves = (b > 0 && here[c - w] ? 1 : 0) + (a + 1 < w && here[c + 1] ? 1 : 0)
                            + (b + 1 < h && here[c + w] ? 1 : 0) + (a > 0 && here[c - 1] ? 1 : 0)
                        n += halves == 0 ? 2 : 4 + halves
                    }
                }
            }
        }
        return n
    }

    /// The meshes of several trees at the smallest shared tolerance found (bisection) whose
    /// triangles together fit `budget`, or nil when even the coarsest meshes, every cell
    /// that can merge merged, do not fit.
    public static func triangles(_ trees: [QuadtreeMesh], budget: Int) -> (triangles: [[SIMD3<Int32>]], tolerance: Float)? {
        let coarsest = trees.flatMap { $0.error.dropFirst().joined() }.reduce(Float(0)) { $1.isFinite ? max($0, $1) : $0 }
        let total = { (t: Float) in Parallel.map(trees) { $0.count(tolerance: t) }.reduce(0, +) }
        guard total(coarsest) <= budget else { return nil }
        var best: Float = 0
        if total(0) > budget {
            // Balancing can add a few triangles as the tolerance rises, so the count is not
            // quite monotone: keep the smallest tolerance seen that fits.
            var low: Float = 0
            var high = coarsest
            best = coarsest
            // Twelve halvings: the tolerance to 1/4096 of its range, finer than it matters.
            for _ in 0..<12 {
                let mid = (low + high) / 2
                if total(mid) <= budget {
                    (best, high) = (min(best, mid), mid)
                } else {
                    low = mid
                }
            }
        }
        return (trees.map { $0.triangles(tolerance: best) }, best)
    }

    /// The triangles of every leaf cell of the tree `split` describes: a cell not split
    /// whose parent is (or that is a root).
    func leaves(_ split: [[Bool]], emit: (SIMD3<Int32>) -> Void) {
        let node = { (i: Int, j: Int) in Int32(j * self.columns + i) }
        for level in 0...maxLevel {
            let s = 1 << level
            let (w, h) = size(level)
            let (pw, _) = size(level + 1)
            for b in 0..<h {
                for a in 0..<w {
                    let isLeaf = (level == 0 || !split[level][b * w + a]) && (level == maxLevel || split[level + 1][(b / 2) * pw + a / 2])
                    guard isLeaf else { continue }
                    let (i0, j0) = (a * s, b * s)
                    let (c00, c10, c01, c11) = (node(i0, j0), node(i0 + s, j0), node(i0, j0 + s), node(i0 + s, j0 + s))
                    if level == 0 {
                        let mask = finest[b * w + a]
                        if mask & 1 != 0 { emit(SIMD3(c00, c10, c01)) }
                        if mask & 2 != 0 { emit(SIMD3(c10, c11, c01)) }
                        continue
                    }
                    // Which edges a finer neighbour splits at their midpoints (top, right,
                    // bottom, left).
                    let top = b > 0 && split[level][(b - 1) * w + a], right = a + 1 < w && split[level][b * w + a + 1]
                    let bottom = b + 1 < h && split[level][(b + 1) * w + a], left = a > 0 && split[level][b * w + a - 1]
                    let halves = (top ? 1 : 0) + (right ? 1 : 0) + (bottom ? 1 : 0) + (left ? 1 : 0)
                    guard halves > 0 else {
                        emit(SIMD3(c00, c10, c01))
                        emit(SIMD3(c10, c11, c01))
                        continue
                    }
                    // A fan from the centre around the corners (clockwise on the grid, i right
                    // and j down, the way (0, 0), (1, 0), (0, 1) runs), through the split
                    // edges' midpoints.
                    let r = s / 2
                    let centre = node(i0 + r, j0 + r)
                    for (from, to, midpoint, half) in [(c00, c10, node(i0 + r, j0), top), (c10, c11, node(i0 + s, j0 + r), right),
                                                       (c11, c01, node(i0 + r, j0 + s), bottom), (c01, c00, node(i0, j0 + r), left)] {
                        if half {
                            emit(SIMD3(centre, from, midpoint))
                            emit(SIMD3(centre, midpoint, to))
                        } else {
                            emit(SIMD3(centre, from, to))
                        }
                    }
                }
            }
        }
    }
}
