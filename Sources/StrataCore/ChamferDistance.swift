/// Distances on a pixel grid by the two-pass chamfer transform (steps 1 and √2): within
/// 8% of the Euclidean distance, in two sweeps. Layers use it for their soft edges and
/// fill bands, fluids for their feathered masks.
public enum ChamferDistance {
    /// Per pixel, the distance in pixels to the nearest pixel of `seed` (0 on it), up to
    /// `limit` (beyond: infinity). Rows wrap when `wrap` (an equirect's 0°/360° seam).
    public static func from(_ seed: [Bool], width w: Int, wrap: Bool, limit: Float) -> [Float] {
        let h = seed.count / w
        var d = seed.map { $0 ? Float(0) : .infinity }
        let diagonal = Float(2).squareRoot()
        /// d at (x, y) lowered through the neighbours at `steps` (dx, dy, length).
        func lower(_ x: Int, _ y: Int, _ steps: [(Int, Int, Float)]) {
            var best = d[y * w + x]
            for (dx, dy, length) in steps {
                let (xx, yy) = (wrap ? (x + dx + w) % w : x + dx, y + dy)
                guard yy >= 0, yy < h, xx >= 0, xx < w else { continue }
                best = min(best, d[yy * w + xx] + length)
            }
            d[y * w + x] = best
        }
        let forward: [(Int, Int, Float)] = [(-1, 0, 1), (0, -1, 1), (-1, -1, diagonal), (1, -1, diagonal)]
        let backward: [(Int, Int, Float)] = [(1, 0, 1), (0, 1, 1), (1, 1, diagonal), (-1, 1, diagonal)]
        // Forward and backward passes; a third when rows wrap, for what crosses the seam.
        for _ in 0..<(wrap ? 3 : 2) {
            for y in 0..<h { for x in 0..<w { lower(x, y, forward) } }
            for y in stride(from: h - 1, through: 0, by: -1) { for x in stride(from: w - 1, through: 0, by: -1) { lower(x, y, backward) } }
        }
        return d.map { $0 <= limit ? $0 : .infinity }
    }
}
