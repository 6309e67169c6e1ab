/// Where a scene's disparity histogram splits into depth layers.
///
/// Automatic: at the valleys of the smoothed histogram that lie well below the peaks on
/// both sides (a gap in depth, not a dip in one surface), each side holding a real share
/// of the pixels. With a layer count given: one-dimensional k-means in disparity, each cut
/// then placed at the histogram's lowest point between two neighbouring centres, so that a
/// cut runs through a gap when there is one.
enum DisparityCuts {
    static let bins = 256
    /// A valley deeper than this fraction of the lower neighbouring peak is a gap.
    static let valleyRatio = 0.35
    /// Each side of a cut holds at least this share of the pixels.
    static let minimumShare = 0.02

    /// Cuts in ascending disparity for `values` (finite disparities, any order): a pixel
    /// of disparity d belongs to layer `cuts.filter { d < $0 }.count` … counted near to
    /// far, so that layer 0 is the nearest. `count`: the layers wanted (nil: automatic).
    static func cuts(_ values: [Float], count: Int?, maximum: Int = 8) -> [Float] {
        guard let lo = values.min(), let hi = values.max(), hi > lo else { return [] }
        let scale = Float(bins) / (hi - lo)
        var histogram = [Double](repeating: 0, count: bins)
        for v in values { histogram[min(bins - 1, Int((v - lo) * scale))] += 1 }
        let raw = histogram
        // Smoothed a little: a binomial kernel, twice.
        for _ in 0..<2 {
            let h = histogram
            for b in 0..<bins {
                let l2 = h[max(b - 2, 0)], l1 = h[max(b - 1, 0)], r1 = h[min(b + 1, bins - 1)], r2 = h[min(b + 2, bins - 1)]
                histogram[b] = (l2 + 4 * l1 + 6 * h[b] + 4 * r1 + r2) / 16
            }
        }
        var cumulative = [Double](repeating: 0, count: bins + 1)
        for b in 0..<bins { cumulative[b + 1] = cumulative[b] + histogram[b] }
        func value(_ bin: Int) -> Float { lo + (Float(bin) + 1) / scale }
        func share(_ a: Int, _ b: Int) -> Double { (cumulative[b] - cumulative[a]) / cumulative[bins] }

        var chosen: [Int]
        if let count {
            guard count > 1 else { return [] }
            chosen = kMeansCuts(raw, smoothed: histogram, count: count)
        } else {
            // Valleys: local minima, scored by depth against the highest peak on each side.
            var candidates: [(bin: Int, score: Double)] = []
            for b in 1..<(bins - 1) where histogram[b] <= histogram[b - 1] && histogram[b] < histogram[b + 1] {
                let left = histogram[..<b].max()!, right = histogram[(b + 1)...].max()!
                let score = histogram[b] / max(min(left, right), 1e-12)
                if score < valleyRatio { candidates.append((b, score)) }
            }
            chosen = []
            for c in candidates.sorted(by: { $0.score < $1.score }) where chosen.count < maximum - 1 {
                chosen.append(c.bin)
            }
            chosen.sort()
        }
        // Each layer a real share of the pixels: drop the cut that makes the thinnest slice,
        // until none is too thin.
        chosen = Array(Set(chosen)).sorted()
        while !chosen.isEmpty {
            let edges = [0] + chosen.map { $0 + 1 } + [bins]
            let shares = (0..<(edges.count - 1)).map { share(edges[$0], edges[$0 + 1]) }
            guard let thinnest = shares.indices.min(by: { shares[$0] < shares[$1] }), shares[thinnest] < minimumShare else { break }
            // The slice is bounded by cut thinnest − 1 below and cut thinnest above.
            chosen.remove(at: thinnest == chosen.count ? thinnest - 1 : thinnest)
        }
        return chosen.map(value)
    }

    /// K-means on the raw histogram (centres started at the quantiles; centres that meet
    /// are one: fewer distinct depths than layers), then each cut at the lowest bin of the
    /// smoothed histogram between neighbouring centres.
    static func kMeansCuts(_ histogram: [Double], smoothed: [Double], count: Int) -> [Int] {
        let n = histogram.count
        let total = histogram.reduce(0, +)
        var centres: [Double] = []
        var running = 0.0, next = 0
        for b in 0..<n {
            running += histogram[b]
            while next < count, running >= (Double(next) + 0.5) / Double(count) * total { centres.append(Double(b)); next += 1 }
        }
        while centres.count < count { centres.append(Double(n - 1)) }
        for _ in 0..<50 {
            var sums = [Double](repeating: 0, count: count), weights = sums
            for b in 0..<n where histogram[b] > 0 {
                let k = centres.indices.min { abs(centres[$0] - Double(b)) < abs(centres[$1] - Double(b)) }!
                sums[k] += histogram[b] * Double(b)
                weights[k] += histogram[b]
            }
            let moved = centres.indices.map { weights[$0] > 0 ? sums[$0] / weights[$0] : centres[$0] }
            if moved == centres { break }
            centres = moved
        }
        centres.sort()
        var cuts: [Int] = []
        for k in 0..<(count - 1) {
            let (a, b) = (Int(centres[k].rounded()), Int(centres[k + 1].rounded()))
            // Centres that met (fewer distinct depths than layers) make no cut.
            guard b > a else { continue }
            cuts.append((a..<b).min { smoothed[$0] < smoothed[$1] }!)
        }
        return cuts
    }
}
