import StrataCore

/// SLIC superpixels (Achanta et al., 2012) on an RGB image: compact regions of similar
/// colour, the units the built-in prior labels as ground, vertical or sky.
public struct Superpixels: Sendable {
    /// The region of each pixel, row-major.
    public let labels: [Int32]
    /// How many regions there are (labels run over `0..<count`).
    public let count: Int
    public let width: Int, height: Int

    /// Regions about `size` pixels across; `compactness` weighs position against colour
    /// (colour in 0…1).
    public init(_ image: Image, size: Int, compactness: Float = 0.08, iterations: Int = 6) {
        precondition(image.channels >= 3, "superpixels need RGB")
        let (w, h) = (image.width, image.height)
        (width, height) = (w, h)
        let n = w * h
        let s = max(2, size)
        let px = image.pixels
        // Centres on a regular grid: colour, then position.
        var centres: [(r: Float, g: Float, b: Float, x: Float, y: Float)] = []
        var cy = s / 2
        while cy < h {
            var cx = s / 2
            while cx < w {
                let k = cy * w + cx
                centres.append((px[k], px[n + k], px[2 * n + k], Float(cx), Float(cy)))
                cx += s
            }
            cy += s
        }
        if centres.isEmpty { centres.append((px[0], px[n], px[2 * n], Float(w / 2), Float(h / 2))) }
        var labels = [Int32](repeating: 0, count: n)
        var distance = [Float](repeating: .infinity, count: n)
        let spatial = compactness * compactness / Float(s * s)
        for _ in 0..<iterations {
            for k in 0..<n { distance[k] = .infinity }
            for (c, centre) in centres.enumerated() {
                let x0 = max(0, Int(centre.x) - s), x1 = min(w - 1, Int(centre.x) + s)
                let y0 = max(0, Int(centre.y) - s), y1 = min(h - 1, Int(centre.y) + s)
                guard x0 <= x1, y0 <= y1 else { continue }
                for y in y0...y1 {
                    let dy = Float(y) - centre.y
                    for x in x0...x1 {
                        let k = y * w + x
                        let dr = px[k] - centre.r, dg = px[n + k] - centre.g, db = px[2 * n + k] - centre.b
                        let dx = Float(x) - centre.x
                        let d = dr * dr + dg * dg + db * db + spatial * (dx * dx + dy * dy)
                        if d < distance[k] { distance[k] = d; labels[k] = Int32(c) }
                    }
                }
            }
            var sums = [(r: Float, g: Float, b: Float, x: Float, y: Float, n: Float)](repeating: (0, 0, 0, 0, 0, 0), count: centres.count)
            for y in 0..<h {
                for x in 0..<w {
                    let k = y * w + x, c = Int(labels[k])
                    sums[c].r += px[k]; sums[c].g += px[n + k]; sums[c].b += px[2 * n + k]
                    sums[c].x += Float(x); sums[c].y += Float(y); sums[c].n += 1
                }
            }
            for c in centres.indices where sums[c].n > 0 {
                let m = 1 / sums[c].n
                centres[c] = (sums[c].r * m, sums[c].g * m, sums[c].b * m, sums[c].x * m, sums[c].y * m)
            }
        }
        // Relabel densely (a centre may have lost every pixel).
        var dense = [Int32](repeating: -1, count: centres.count)
        var next: Int32 = 0
        for k in 0..<n {
            let c = Int(labels[k])
            if dense[c] < 0 { dense[c] = next; next += 1 }
            labels[k] = dense[c]
        }
        self.labels = labels
        self.count = Int(next)
    }

    /// Pairs of regions that touch (4-neighbourhood), each pair once, smaller label first.
    public func adjacency() -> [[Int]] {
        var neighbours = [Set<Int>](repeating: [], count: count)
        for y in 0..<height {
            for x in 0..<width {
                let a = Int(labels[y * width + x])
                if x + 1 < width { let b = Int(labels[y * width + x + 1]); if a != b { neighbours[a].insert(b); neighbours[b].insert(a) } }
                if y + 1 < height { let b = Int(labels[(y + 1) * width + x]); if a != b { neighbours[a].insert(b); neighbours[b].insert(a) } }
            }
        }
        return neighbours.map { $0.sorted() }
    }
}
