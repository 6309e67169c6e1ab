import StrataCore

/// Exemplar-based colour fill (PatchMatch search, Barnes et al. 2009, in onion-peel order):
/// each pixel of the hole, from its border inwards, takes the centre of the source patch
/// whose colours best match what is already known around it. Sources are patches lying
/// wholly in the allowed region (the same layer's visible pixels), at the same or greater
/// depth, so a background is filled from background and never from what hid it.
/// Deterministic for a given seed.
struct ExemplarFill {
    /// Patch half-width: 7 × 7 patches.
    var radius = 3
    /// Random candidates per pixel besides propagation and the local search.
    var randomTries = 6
    /// Refinement passes after the onion peel: the matches improved over whole patches,
    /// then each pixel the mean of what the patches over it say (Wexler et al. 2007).
    var passes = 3
    var seed: UInt64 = 1

    /// `color` (planar, `channels` planes) with the `hole` pixels filled from patches
    /// centred in `source`. `disparity` (per pixel, filled) keeps sources at or behind the
    /// target: a source's disparity may exceed the target's by 10% at most. Rows wrap when
    /// `wrap`. Returns nil when no patch fits wholly in the source region.
    func fill(_ color: Image, hole: [Bool], source: [Bool], disparity: [Float], wrap: Bool) -> Image? {
        let (w, h, channels) = (color.width, color.height, color.channels)
        let count = w * h
        let r = radius
        func wrapped(_ x: Int) -> Int? { wrap ? (x % w + w) % w : (x >= 0 && x < w ? x : nil) }
        // Patch centres wholly inside the source region (rows clamp at top and bottom).
        var centre = [Bool](repeating: false, count: count)
        var centres: [Int32] = []
        for y in r..<max(r, h - r) {
            for x in 0..<w {
                var inside = true
                scan: for dy in -r...r {
                    for dx in -r...r {
                        guard let xx = wrapped(x + dx), source[(y + dy) * w + xx] else { inside = false; break scan }
                    }
                }
                if inside { centre[y * w + x] = true; centres.append(Int32(y * w + x)) }
            }
        }
        guard !centres.isEmpty else { return nil }

        // The colours as one vector a pixel (a patch difference is then one subtraction a
        // pixel), and what is known, in buffers of their own: the search reads them tens of
        // millions of times, so without the arrays' bounds and uniqueness checks.
        precondition(channels <= 4, "at most four channels")
        let px = UnsafeMutablePointer<SIMD4<Float>>.allocate(capacity: count)
        let known = UnsafeMutablePointer<Bool>.allocate(capacity: count)
        defer { px.deallocate(); known.deallocate() }
        for i in 0..<count {
            var v = SIMD4<Float>.zero
            for c in 0..<channels { v[c] = color.pixels[c * count + i] }
            px[i] = v
            known[i] = !hole[i]
        }
        let match = UnsafeMutablePointer<Int32>.allocate(capacity: count)
        let queued = UnsafeMutablePointer<Bool>.allocate(capacity: count)
        match.initialize(repeating: -1, count: count)
        queued.initialize(repeating: false, count: count)
        defer { match.deallocate(); queued.deallocate() }

        /// The onion peel and the refinement passes over one cluster's pixels.
        func fillCluster(_ cluster: [Int]) {
            var state = (seed ^ UInt64(cluster[0]) &* 0xD1B5_4A32_D192_ED03) &* 0x9E37_79B9_7F4A_7C15 | 1
            func random(_ n: Int) -> Int {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                return Int((state >> 33) % UInt64(n))
            }
            /// A random pixel within `span` of pixel `centre` (row first, then column), or nil off the image.
            func around(_ centre: Int, _ span: Int) -> Int? {
                let y = centre / w + random(2 * span + 1) - span
                guard y >= 0, y < h, let x = wrapped(centre % w + random(2 * span + 1) - span) else { return nil }
                return y * w + x
            }
            /// Sum of squared differences over the known pixels of target t's patch against
            /// source s's patch, per known pixel; infinity when nothing around t is known. Stops
            /// early once it cannot beat `limit`.
            func cost(_ t: Int, _ s: Int, _ limit: Float) -> Float {
                let (tx, ty, sx, sy) = (t % w, t / w, s % w, s / w)
                // Most patches lie clear of the left and right edges: no wrapping to work out.
                let clear = tx >= r && tx + r < w && sx >= r && sx + r < w
                var sum: Float = 0, n = 0
                for dy in -r...r {
                    let (ya, yb) = (ty + dy, sy + dy)
                    guard ya >= 0, ya < h, yb >= 0, yb < h else { continue }
                    if clear {
                        let (ra, rb) = (ya * w + tx, yb * w + sx)
                        for dx in -r...r where known[ra + dx] {
                            let d = px[ra + dx] - px[rb + dx]
                            sum += (d * d).sum()
                            n += 1
                        }
                    } else {
                        for dx in -r...r {
                            guard let xa = wrapped(tx + dx), let xb = wrapped(sx + dx) else { continue }
                            let a = ya * w + xa
                            guard known[a] else { continue }
                            let d = px[a] - px[yb * w + xb]
                            sum += (d * d).sum()
                            n += 1
                        }
                    }
                    if n > 0, sum > limit * Float(n + 2 * r + 1) { return .infinity }
                }
                return n > 0 ? sum / Float(n) : .infinity
            }
            func allowed(_ s: Int, for t: Int) -> Bool { centre[s] && disparity[s] <= disparity[t] * 1.1 + 1e-6 }

            // Onion peel: the cluster's pixels in order of distance from its border.
            var front: [Int] = []
            for i in cluster {
                let (x, y) = (i % w, i / w)
                let around = [wrapped(x + 1).map { y * w + $0 }, wrapped(x - 1).map { y * w + $0 }, y > 0 ? i - w : nil, y + 1 < h ? i + w : nil]
                if around.contains(where: { $0.map { !hole[$0] } ?? false }) { front.append(i); queued[i] = true }
            }
            var head = 0
            while head < front.count {
                let t = front[head]
                head += 1
                let (tx, ty) = (t % w, t / w)
                var best = -1, bestCost = Float.infinity
                func consider(_ s: Int) {
                    guard s >= 0, s < count, allowed(s, for: t) else { return }
                    let c = cost(t, s, bestCost)
                    if c < bestCost { (best, bestCost) = (s, c) }
                }
                // Propagation: where a filled or known neighbour's match points, shifted.
                for (dx, dy) in [(-1, 0), (1, 0), (0, -1), (0, 1), (-1, -1), (1, 1), (-1, 1), (1, -1)] {
                    guard let nx = wrapped(tx + dx), ty + dy >= 0, ty + dy < h else { continue }
                    let n = (ty + dy) * w + nx
                    let m = Int(match[n])
                    guard m >= 0, let sx = wrapped(m % w - dx), m / w - dy >= 0, m / w - dy < h else { continue }
                    consider((m / w - dy) * w + sx)
                }
                for _ in 0..<randomTries { consider(Int(centres[random(centres.count)])) }
                // Textures continue: as many tries near the pixel itself.
                let near = 10 * r
                for _ in 0..<randomTries { if let s = around(t, near) { consider(s) } }
                // Local search around the best, the window halving.
                if best >= 0 {
                    var span = max(w, h) / 2
                    while span >= 1 {
                        if let s = around(best, span) { consider(s) }
                        span /= 2
                    }
                }
                if best < 0 { best = Int(centres[random(centres.count)]) }
                px[t] = px[best]
                known[t] = true
                match[t] = Int32(best)
                let around = [wrapped(tx + 1).map { ty * w + $0 }, wrapped(tx - 1).map { ty * w + $0 }, ty > 0 ? t - w : nil, ty + 1 < h ? t + w : nil]
                for n in around.compactMap({ $0 }) where hole[n] && !queued[n] { front.append(n); queued[n] = true }
            }

            // Refinement: every pixel is known now. Each pass improves the matches (propagation in
            // alternating scan order, then a random search around the best), then votes.
            let holes = front
            for pass in 0..<passes {
                let order = pass % 2 == 0 ? holes : holes.reversed()
                let step = pass % 2 == 0 ? 1 : -1
                for t in order {
                    let (tx, ty) = (t % w, t / w)
                    var best = Int(match[t]), bestCost = cost(t, best, .infinity)
                    func consider(_ s: Int) {
                        guard s >= 0, s < count, s != best, allowed(s, for: t) else { return }
                        let c = cost(t, s, bestCost)
                        if c < bestCost { (best, bestCost) = (s, c) }
                    }
                    for (dx, dy) in [(-step, 0), (0, -step)] {
                        guard let nx = wrapped(tx + dx), ty + dy >= 0, ty + dy < h else { continue }
                        let n = (ty + dy) * w + nx
                        let m = hole[n] ? Int(match[n]) : n
                        guard m >= 0, let sx = wrapped(m % w - dx), m / w - dy >= 0, m / w - dy < h else { continue }
                        consider((m / w - dy) * w + sx)
                    }
                    var span = max(w, h) / 4
                    while span >= 1 {
                        if let s = around(best, span) { consider(s) }
                        span /= 2
                    }
                    match[t] = Int32(best)
                }
                // Voting: pixel t is the mean of source pixel m(q) + (t − q) over the patch centres q
                // around it (a known centre matches itself).
                var voted = [SIMD4<Float>](repeating: .zero, count: holes.count)
                for (k, t) in holes.enumerated() {
                    let (tx, ty) = (t % w, t / w)
                    var sum = SIMD4<Float>.zero, n: Float = 0
                    for dy in -r...r {
                        let qy = ty - dy
                        guard qy >= 0, qy < h else { continue }
                        for dx in -r...r {
                            guard let qx = wrapped(tx - dx) else { continue }
                            let q = qy * w + qx
                            let m = hole[q] ? Int(match[q]) : q
                            guard m >= 0, let sx = wrapped(m % w + dx), m / w + dy >= 0, m / w + dy < h else { continue }
                            sum += px[(m / w + dy) * w + sx]
                            n += 1
                        }
                    }
                    voted[k] = n > 0 ? sum / n : px[t]
                }
                for (k, t) in holes.enumerated() { px[t] = voted[k] }
            }
        }

        // Hole pixels more than a patch radius apart never read what the other fills, so
        // such clusters are filled concurrently, each with a seed of its own: the result
        // does not depend on the threads.
        let clusters = Self.clusters(hole, width: w, height: h, reach: r, wrap: wrap)
        Parallel.forEachBand(clusters.count, minimumBand: 1, bandsPerThread: 8) { range in
            for k in range { fillCluster(clusters[k]) }
        }
        var out = color
        for cluster in clusters {
            for t in cluster {
                for c in 0..<channels { out.pixels[c * count + t] = px[t][c] }
            }
        }
        return out
    }

    /// The hole's pixels grouped so that pixels of different groups are more than `reach`
    /// apart (Chebyshev, rows wrapping when `wrap`), each group in the order it was found.
    static func clusters(_ hole: [Bool], width w: Int, height h: Int, reach r: Int, wrap: Bool) -> [[Int]] {
        var seen = [Bool](repeating: false, count: hole.count)
        var out: [[Int]] = []
        for start in hole.indices where hole[start] && !seen[start] {
            var cluster = [start]
            seen[start] = true
            var head = 0
            while head < cluster.count {
                let (x, y) = (cluster[head] % w, cluster[head] / w)
                head += 1
                for yy in max(0, y - r)...min(h - 1, y + r) {
                    for dx in -r...r {
                        var xx = x + dx
                        if wrap { xx = (xx % w + w) % w } else if xx < 0 || xx >= w { continue }
                        let n = yy * w + xx
                        if hole[n] && !seen[n] { seen[n] = true; cluster.append(n) }
                    }
                }
            }
            out.append(cluster)
        }
        return out
    }
}
