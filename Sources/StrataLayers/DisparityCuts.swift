/// Where a scene's disparity splits into depth layers.
///
/// Automatic (``discontinuityCuts(_:width:wrap:maximum:)``): at the disparities where the
/// boundary between nearer and farther pixels is mostly depth discontinuities, so that a
/// cut goes round objects and never slices a floor or a wall that recedes smoothly; a gap
/// in the histogram is such a place. With a layer count given: one-dimensional k-means in
/// disparity, each cut then placed at the histogram's lowest point between two neighbouring
/// centres, so that a cut runs through a gap when there is one. Either way each layer holds
/// a real share of the pixels.
enum DisparityCuts {
    static let bins = 256
    /// Each side of a cut holds at least this share of the pixels.
    static let minimumShare = 0.02
    /// Automatic cuts: neighbours this many pixels apart are compared (depth from a network
    /// blurs an edge over a few pixels).
    static let pairSpan = 2
    /// …and differ by more than this fraction of the scene's disparity range at a discontinuity.
    static let jumpFraction: Float = 0.02
    /// A cut is taken where at least this fraction of the pixel pairs it separates are
    /// discontinuities (a floor under an object is cut wherever the object is: it keeps the
    /// share well below 1)…
    static let discontinuityRatio = 0.2
    /// …at a peak of that share that stands this much above the share around it.
    static let prominence = 0.05

    /// Automatic cuts in ascending disparity for per-pixel `disparity` (finite, rows of
    /// `width`, wrapping when `wrap`): every candidate cut (a histogram bin boundary) is
    /// scored by the share of the neighbour pairs it separates that are depth
    /// discontinuities; the prominent peaks of that score are the cuts, best first.
    ///
    /// With `count` given, the best `count − 1` prominent peaks whatever their share, and
    /// where the depth has fewer, k-means cuts (``cuts(_:count:)``) add the rest.
    static func discontinuityCuts(_ disparity: [Float], width w: Int, wrap: Bool, count: Int? = nil, maximum: Int = 8) -> [Float] {
        guard let lo = disparity.min(), let hi = disparity.max(), hi > lo else { return [] }
        let h = disparity.count / w
        let scale = Float(bins) / (hi - lo)
        func bin(_ v: Float) -> Int { min(bins - 1, Int((v - lo) * scale)) }
        let jump = jumpFraction * (hi - lo)
        // A pair in bins p < q is separated by the cuts after bins p…q−1: difference arrays.
        var separated = [Double](repeating: 0, count: bins + 1), broken = separated
        var histogram = [Double](repeating: 0, count: bins)
        func pair(_ a: Float, _ b: Float) {
            let (p, q) = a < b ? (bin(a), bin(b)) : (bin(b), bin(a))
            guard q > p else { return }
            separated[p] += 1; separated[q] -= 1
            if abs(a - b) > jump { broken[p] += 1; broken[q] -= 1 }
        }
        let span = pairSpan
        for y in 0..<h {
            for x in 0..<w {
                let v = disparity[y * w + x]
                histogram[bin(v)] += 1
                if x + span < w { pair(v, disparity[y * w + x + span]) } else if wrap { pair(v, disparity[y * w + x + span - w]) }
                if y + span < h { pair(v, disparity[(y + span) * w + x]) }
            }
        }
        var score = [Double](repeating: 0, count: bins - 1)
        var (s, j) = (0.0, 0.0)
        let fewest = max(16, Double(disparity.count) * 1e-4)
        for c in 0..<(bins - 1) {
            s += separated[c]; j += broken[c]
            score[c] = s >= fewest ? j / s : 0
        }
        // The peaks of the score that stand out from the score around them: a peak is where
        // the cut goes round the most objects for the surfaces it slices.
        var smooth = score
        for c in 0..<(bins - 1) {
            let (before, after) = (score[max(c - 1, 0)], score[min(c + 1, bins - 2)])
            smooth[c] = (before + score[c] + after) / 3
        }
        var peaks: [Int] = []
        let floor = count == nil ? discontinuityRatio : 0
        for c in 0..<(bins - 1) where smooth[c] > floor {
            let rises = c == 0 || smooth[c] > smooth[c - 1], falls = c == bins - 2 || smooth[c] >= smooth[c + 1]
            guard rises && falls else { continue }
            // Prominence: the peak above the higher of the lowest points that separate it from
            // a higher peak on either side.
            var left = smooth[c], right = smooth[c]
            var i = c - 1
            while i >= 0, smooth[i] <= smooth[c] { left = min(left, smooth[i]); i -= 1 }
            if i < 0 { left = min(left, 0) }
            i = c + 1
            while i < bins - 1, smooth[i] <= smooth[c] { right = min(right, smooth[i]); i += 1 }
            if i == bins - 1 { right = min(right, 0) }
            if smooth[c] - max(left, right) >= prominence { peaks.append(c) }
        }
        // A peak may be a plateau (a gap with no pixels in it): the emptiest bin on it.
        let wanted = (count ?? maximum) - 1
        var chosen = peaks.sorted { smooth[$0] > smooth[$1] }.prefix(wanted).map { c -> Int in
            var (best, i) = (c, c)
            while i < bins - 1, smooth[i] >= smooth[c] - 0.01 {
                if histogram[i] < histogram[best] { best = i }
                i += 1
            }
            return best
        }
        var cumulative = [Double](repeating: 0, count: bins + 1)
        for b in 0..<bins { cumulative[b + 1] = cumulative[b] + histogram[b] }
        chosen = dropThinSlices(chosen, cumulative: cumulative)
        func value(_ bin: Int) -> Float { lo + (Float(bin) + 1) / scale }
        var cuts = chosen.map(value)
        if let count, cuts.count < count - 1 {
            // Fewer discontinuities than layers wanted: k-means slices the rest.
            let step = 4 / scale
            for extra in Self.cuts(disparity, count: count) where cuts.count < count - 1 && cuts.allSatisfy({ abs($0 - extra) > step }) {
                cuts.append(extra)
            }
            cuts.sort()
        }
        return cuts
    }

    /// Drops the cut that makes the thinnest slice until every slice holds ``minimumShare``
    /// of the pixels. `cumulative`: the histogram's running sum, one longer than it.
    static func dropThinSlices(_ cuts: [Int], cumulative: [Double]) -> [Int] {
        var chosen = Array(Set(cuts)).sorted()
        let n = cumulative.count - 1
        func share(_ a: Int, _ b: Int) -> Double { (cumulative[b] - cumulative[a]) / cumulative[n] }
        while !chosen.isEmpty {
            let edges = [0] + chosen.map { $0 + 1 } + [n]
            let shares = (0..<(edges.count - 1)).map { share(edges[$0], edges[$0 + 1]) }
            guard let thinnest = shares.indices.min(by: { shares[$0] < shares[$1] }), shares[thinnest] < minimumShare else { break }
            // The slice is bounded by cut thinnest − 1 below and cut thinnest above.
            chosen.remove(at: thinnest == chosen.count ? thinnest - 1 : thinnest)
        }
        return chosen
    }

    /// Cuts in ascending disparity for `values` (finite disparities, any order) into `count`
    /// layers or fewer: a pixel of disparity d belongs to layer `cuts.filter { d < $0 }.count`
    /// of the layers counted far to near… reversed, so that layer 0 is the nearest.
    static func cuts(_ values: [Float], count: Int) -> [Float] {
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

        guard count > 1 else { return [] }
        let chosen = kMeansCuts(raw, smoothed: histogram, count: count)
        // Each layer a real share of the pixels.
        return dropThinSlices(chosen, cumulative: cumulative).map(value)
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
