import COpenBLAS
import Foundation
import StrataCore
import StrataSphere

/// Brings overlapping views' relative depth to one scale on the sphere (360MonoDepth's
/// global alignment, solved in closed form).
///
/// Each view's disparity d (inverse z-depth up to scale and shift, as MiDaS and Depth
/// Anything give it) gets a coarse grid of scale and shift coefficients, bilinear over the
/// image. Aligned, a pixel's inverse distance along its ray is
///
///     q = (s(x, y) · d + t(x, y)) / f(x, y)
///
/// where f is the view's ray factor (ray length over z), so every view speaks of the same
/// quantity before anything is compared. Where two views see one direction of the sphere,
/// their q must agree. That is linear in the coefficients, so the whole problem is one
/// linear least squares problem, solved through its normal equations (Cholesky, LAPACK's
/// dsposv): every correspondence; a smoothness term between neighbouring grid nodes; and
/// the gauge. Agreement alone is satisfied by q = 0 everywhere, so the mean of q over the
/// overlaps is held to what the views said (their disparities as given), and every node is
/// weakly pulled towards scale 1 and shift 0 so that nodes no overlap sees stay put.
public struct ViewAlignment: Sendable {
    /// Grid nodes across and down each view (1 × 1: one scale and shift per view).
    public var columns: Int
    public var rows: Int
    /// Weight of the smoothness between neighbouring nodes, relative to the data.
    public var smoothness: Double
    /// Whether shifts are solved (disparity up to scale and shift); false for metric depth,
    /// which is aligned in scale only.
    public var shift: Bool
    /// Directions sampled for correspondences: an equirect grid this many rows high.
    public var sampleRows: Int
    /// How far past its outer pixel centres a view is read (its border value held), in
    /// pixels. 0 for views that overlap; views that only touch (cube faces cut exactly, for
    /// cube padding inside the network) need a band across their common edges to be held
    /// together on, which 1.5 gives.
    public var reach = 0.0

    public init(columns: Int = 1, rows: Int = 1, smoothness: Double = 0.1, shift: Bool = true, sampleRows: Int = 180) {
        precondition(columns >= 1 && rows >= 1 && smoothness >= 0 && sampleRows >= 2, "invalid alignment grid")
        (self.columns, self.rows, self.smoothness, self.shift, self.sampleRows) = (columns, rows, smoothness, shift, sampleRows)
    }

    /// One view to align: its geometry, its disparity (NaN where invalid) and how far each
    /// pixel can be trusted.
    public struct Input: Sendable {
        public var view: PerspectiveView
        public var disparity: Image
        public var confidence: Image?

        public init(view: PerspectiveView, disparity: Image, confidence: Image? = nil) {
            (self.view, self.disparity, self.confidence) = (view, disparity, confidence)
        }
    }

    /// The fitted grids: scale and shift per node, view after view, row-major.
    public struct Solution: Sendable {
        public var scales: [[Double]]
        public var shifts: [[Double]]
        /// Correspondences (pairs of views seeing one direction) that entered the fit.
        public var correspondences: Int
    }

    /// Each view's disparity is divided by its median first, so that scale 1 and shift 0
    /// mean "as the network said" for every view alike. Metric views (no shift) already
    /// share one unit, which must survive: they stay as they are.
    func normalized(_ inputs: [Input]) -> [Image] {
        guard shift else { return inputs.map(\.disparity) }
        var out = inputs.map(\.disparity)
        out.withUnsafeMutableBufferPointer { images in
            let views = UncheckedSendable(images.baseAddress!)
            Parallel.forEachBand(inputs.count, minimumBand: 1) { range in
                for k in range {
                    var valid = views.value[k].pixels.filter { $0.isFinite && $0 > 0 }
                    let median = valid.isEmpty ? 1 : max(Self.select(&valid, valid.count / 2), 1e-12)
                    for i in views.value[k].pixels.indices { views.value[k].pixels[i] /= median }
                }
            }
        }
        return out
    }

    /// The k-th smallest of `values` (which it reorders): Hoare's selection, a tenth of a sort's time.
    static func select(_ values: inout [Float], _ k: Int) -> Float {
        var (low, high) = (0, values.count - 1)
        while low < high {
            let pivot = values[(low + high) / 2]
            var (i, j) = (low, high)
            while i <= j {
                while values[i] < pivot { i += 1 }
                while values[j] > pivot { j -= 1 }
                if i <= j { values.swapAt(i, j); i += 1; j -= 1 }
            }
            if k <= j { high = j } else if k >= i { low = i } else { return values[k] }
        }
        return values[k]
    }

    /// The grid nodes bilinear at sample position (x, y) of a `width × height` view, and their weights.
    func nodes(x: Double, y: Double, width: Int, height: Int) -> [(node: Int, weight: Double)] {
        let gx = columns == 1 ? 0 : min(max((x + 0.5) / Double(width) * Double(columns - 1), 0), Double(columns - 1))
        let gy = rows == 1 ? 0 : min(max((y + 0.5) / Double(height) * Double(rows - 1), 0), Double(rows - 1))
        let (x0, y0) = (min(Int(gx), max(columns - 2, 0)), min(Int(gy), max(rows - 2, 0)))
        let (fx, fy) = (gx - Double(x0), gy - Double(y0))
        var list: [(Int, Double)] = []
        for (dy, wy) in (rows == 1 ? [(0, 1.0)] : [(0, 1 - fy), (1, fy)]) {
            for (dx, wx) in (columns == 1 ? [(0, 1.0)] : [(0, 1 - fx), (1, fx)]) where wx * wy > 0 {
                list.append(((y0 + dy) * columns + x0 + dx, wx * wy))
            }
        }
        return list
    }

    /// Fits every view's grid to the others on their overlaps.
    public func solve(_ inputs: [Input]) throws -> Solution {
        let disparities = normalized(inputs)
        let nodesPerView = columns * rows
        let perView = nodesPerView * (shift ? 2 : 1)
        let n = inputs.count * perView
        var a = [Double](repeating: 0, count: n * n)
        var b = [Double](repeating: 0, count: n)

        let geometry = inputs.map { ViewGeometry($0.view) }
        let planes = disparities.map(\.pixels), trusts = inputs.map { $0.confidence?.pixels }
        // Correspondences: directions on an equirect grid, each seen by two or more views.
        // Per view that sees one: up to 8 coefficients of q (4 nodes, scale and shift), its
        // weight and what it said. Gathered in parallel bands of directions, in order.
        let (sw, sh) = (2 * sampleRows, sampleRows)
        struct Seen { var count: Int32; var weight: Double; var given: Double }
        struct Band { var starts: [Int32] = [0]; var seen: [Seen] = []; var index: [Int32] = []; var value: [Double] = [] }
        let directions = EquirectDirections(width: sw, height: sh)
        let bandRows = 8
        let bandCount = (sh + bandRows - 1) / bandRows
        var bands = [Band](repeating: Band(), count: bandCount)
        bands.withUnsafeMutableBufferPointer { bp in
            let out = UncheckedSendable(bp.baseAddress!)
            Parallel.forEachBand(bandCount, minimumBand: 1) { range in
                for band in range {
                    var gathered = Band()
                    for sy in (band * bandRows)..<min((band + 1) * bandRows, sh) {
                        for sx in 0..<sw {
                            let direction = directions(x: sx, y: sy)
                            let first = gathered.seen.count
                            for k in geometry.indices where geometry[k].mayContain(direction) {
                                let v = geometry[k]
                                guard let (px, py, rx, ry) = v.project(direction), px >= -reach, py >= -reach,
                                      px <= Double(v.width - 1) + reach, py <= Double(v.height - 1) + reach else { continue }
                                let d = v.bilinear(planes[k], px, py)
                                guard d.isFinite else { continue }
                                let w = trusts[k].map { v.bilinear($0, px, py) } ?? 1
                                guard w > 0, w.isFinite else { continue }
                                let f = (rx * rx + ry * ry + 1).squareRoot()
                                var c: Int32 = 0
                                for (node, weight) in nodes(x: px, y: py, width: v.width, height: v.height) {
                                    gathered.index.append(Int32(k * perView + node)); gathered.value.append(weight * d / f)
                                    c += 1
                                    if shift {
                                        gathered.index.append(Int32(k * perView + nodesPerView + node)); gathered.value.append(weight / f)
                                        c += 1
                                    }
                                }
                                gathered.seen.append(Seen(count: c, weight: w, given: d / f))
                            }
                            if gathered.seen.count - first < 2 {
                                // Seen once or not at all: nothing to compare.
                                let dropped = gathered.seen[first...].reduce(0) { $0 + Int($1.count) }
                                gathered.seen.removeLast(gathered.seen.count - first)
                                gathered.index.removeLast(dropped); gathered.value.removeLast(dropped)
                            } else {
                                gathered.starts.append(Int32(gathered.seen.count))
                            }
                        }
                    }
                    out.value[band] = gathered
                }
            }
        }

        // The pairs into the normal equations: one residual q_i − q_j per pair of views
        // seeing a direction. Each of a fixed number of parts owns a range of the matrix's
        // rows and goes through every pair, so the sums come out the same on any number of
        // threads.
        var pairs = 0
        var dataWeight = 0.0
        var level = [Double](repeating: 0, count: n), levelTarget = 0.0, levelCount = 0
        for band in bands {
            var offset = 0
            for g in 0..<(band.starts.count - 1) {
                let (lo, hi) = (Int(band.starts[g]), Int(band.starts[g + 1]))
                var offsets: [Int] = []
                for i in lo..<hi { offsets.append(offset); offset += Int(band.seen[i].count) }
                for (i, o) in zip(lo..<hi, offsets) {
                    for c in 0..<Int(band.seen[i].count) { level[Int(band.index[o + c])] += band.value[o + c] }
                    levelTarget += band.seen[i].given
                    levelCount += 1
                }
                for i in lo..<hi { for j in (i + 1)..<hi { pairs += 1; dataWeight += min(band.seen[i].weight, band.seen[j].weight) } }
            }
        }
        let parts = 4
        a.withUnsafeMutableBufferPointer { matrix in
            let m = UncheckedSendable(matrix.baseAddress!)
            Parallel.forEachBand(parts, minimumBand: 1) { range in
                for part in range {
                    let owned = (part * n / parts)..<((part + 1) * n / parts)
                    for band in bands {
                        var offset = 0
                        var offsets = [Int](repeating: 0, count: 64)
                        for g in 0..<(band.starts.count - 1) {
                            let (lo, hi) = (Int(band.starts[g]), Int(band.starts[g + 1]))
                            if hi - lo > offsets.count { offsets = [Int](repeating: 0, count: hi - lo) }
                            for i in lo..<hi { offsets[i - lo] = offset; offset += Int(band.seen[i].count) }
                            for i in lo..<hi {
                                for j in (i + 1)..<hi {
                                    let w = min(band.seen[i].weight, band.seen[j].weight)
                                    for (p, sp) in [(i, 1.0), (j, -1.0)] {
                                        let po = offsets[p - lo]
                                        for c in 0..<Int(band.seen[p].count) {
                                            let r = Int(band.index[po + c])
                                            guard owned.contains(r) else { continue }
                                            let cr = sp * band.value[po + c] * w
                                            for (q, sq) in [(i, 1.0), (j, -1.0)] {
                                                let qo = offsets[q - lo]
                                                // One triangle only (column ≥ row here, LAPACK's "L" in
                                                // column-major): the solver reads no other.
                                                for e in 0..<Int(band.seen[q].count) where Int(band.index[qo + e]) >= r {
                                                    m.value[r * n + Int(band.index[qo + e])] += cr * sq * band.value[qo + e]
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        guard pairs > 0 else {
            throw DepthError("the views do not overlap: nothing to align them on (widen their field of view)", exitCode: 65)
        }

        // Smoothness between neighbouring nodes, and the gauge: every node weakly pulled to
        // scale 1, shift 0. Both scaled with the data so that the weights mean the same at
        // any sampling density.
        let perNode = dataWeight / Double(inputs.count * nodesPerView)
        let lambda = smoothness * perNode, gauge = 1e-3 * perNode
        for k in inputs.indices {
            for block in 0..<(shift ? 2 : 1) {
                let base = k * perView + block * nodesPerView
                for gy in 0..<rows {
                    for gx in 0..<columns {
                        let i = base + gy * columns + gx
                        for j in [gx + 1 < columns ? i + 1 : nil, gy + 1 < rows ? i + columns : nil].compactMap({ $0 }) {
                            a[i * n + i] += lambda; a[j * n + j] += lambda
                            a[i * n + j] -= lambda  // j > i: the triangle solved
                        }
                        a[i * n + i] += gauge
                        if block == 0 { b[i] += gauge }
                    }
                }
            }
        }

        // The level row, weighted like all the data together.
        let mu = dataWeight / Double(levelCount * levelCount)
        for r in 0..<n where level[r] != 0 {
            for c in r..<n where level[c] != 0 { a[r * n + c] += mu * level[r] * level[c] }
            b[r] += mu * level[r] * levelTarget
        }

        // Factored in single precision and refined to double (LAPACK's dsposv, which falls
        // back to a double factorisation by itself when refining does not converge): half
        // the time of dposv, which is most of the alignment's when the BLAS runs its generic
        // kernels (0.21 s of dposv at 2240 unknowns on an AVX-512 Xeon that Debian's
        // OpenBLAS 0.3.21 does not know).
        var (order, one, info, iterations) = (Int32(n), Int32(1), Int32(0), Int32(0))
        var x = [Double](repeating: 0, count: n), work = [Double](repeating: 0, count: n)
        var single = [Float](repeating: 0, count: n * (n + 1))
        dsposv_("L", &order, &one, &a, &order, &b, &order, &x, &order, &work, &single, &iterations, &info)
        guard info == 0 else { throw DepthError("the alignment's normal equations are singular (LAPACK dsposv info \(info))", exitCode: 70) }
        b = x
        var scales: [[Double]] = [], shifts: [[Double]] = []
        for k in inputs.indices {
            scales.append(Array(b[(k * perView)..<(k * perView + nodesPerView)]))
            shifts.append(shift ? Array(b[(k * perView + nodesPerView)..<((k + 1) * perView)]) : [Double](repeating: 0, count: nodesPerView))
        }
        return Solution(scales: scales, shifts: shifts, correspondences: pairs)
    }

    /// Each view's aligned inverse ray distance q, per pixel (NaN where its disparity is invalid).
    public func apply(_ solution: Solution, to inputs: [Input]) -> [Image] {
        let disparities = normalized(inputs)
        return inputs.indices.map { k in
            let view = inputs[k].view
            let (w, h) = (view.width, view.height)
            // The grids bilinear over the image: the same weights as `nodes`, row by row.
            func axis(_ i: Int, _ size: Int, _ count: Int) -> (Int, Double) {
                guard count > 1 else { return (0, 0) }
                let g = min(max((Double(i) + 0.5) / Double(size) * Double(count - 1), 0), Double(count - 1))
                let lower = min(Int(g), count - 2)
                return (lower, g - Double(lower))
            }
            let (scales, shifts) = (solution.scales[k], solution.shifts[k])
            var out = Image(width: w, height: h, channels: 1)
            let source = disparities[k].pixels
            for y in 0..<h {
                let (y0, fy) = axis(y, h, rows)
                let y1 = rows > 1 ? y0 + 1 : y0
                for x in 0..<w {
                    let d = Double(source[y * w + x])
                    guard d.isFinite else { out.pixels[y * w + x] = .nan; continue }
                    let (x0, fx) = axis(x, w, columns)
                    let x1 = columns > 1 ? x0 + 1 : x0
                    func blend(_ g: [Double]) -> Double {
                        let top = g[y0 * columns + x0] * (1 - fx) + g[y0 * columns + x1] * fx
                        let bottom = g[y1 * columns + x0] * (1 - fx) + g[y1 * columns + x1] * fx
                        return top * (1 - fy) + bottom * fy
                    }
                    let ray = view.localRay(x: Double(x), y: Double(y))
                    out.pixels[y * w + x] = Float((blend(scales) * d + blend(shifts)) / (ray * ray).sum().squareRoot())
                }
            }
            return out
        }
    }
}
