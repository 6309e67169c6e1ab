import Foundation
import StrataCore

/// The perspective prior: ground plane, pop-up verticals, ceiling and sky.
struct PopUpPrior {
    enum Surface: UInt8 { case ground, vertical, ceiling, sky }

    let image: Image
    let cues: ImageCues

    init(_ image: Image) {
        self.image = image
        cues = ImageCues(image)
    }

    /// The horizon row (may lie outside the image) and how sure the vote was (0…1): the
    /// vanishing point most edges point at, leaving out near-vertical edges (their
    /// vanishing point is at infinity for an upright camera) and near-horizontal ones.
    /// The row of the vanishing point most straight edges point at, and how clearly it won
    /// (0…1). Near-vertical edges are left out (an upright camera sees their vanishing point
    /// at infinity), and so are near-horizontal ones and edge pixels without a straight run
    /// of the same direction on both sides (texture: asphalt, foliage, noise).
    func horizon() -> (row: Float, confidence: Float) {
        let (w, h) = (cues.width, cues.height)
        var magnitude = [Float](repeating: 0, count: w * h)
        for k in 0..<(w * h) { magnitude[k] = (cues.gx[k] * cues.gx[k] + cues.gy[k] * cues.gy[k]).squareRoot() }
        let threshold = max(0.15, magnitude.sorted()[Int(Double(magnitude.count) * 0.85)])
        // The straight edge pixels: position, direction along the edge, weight.
        var edges: [(x: Float, y: Float, tx: Float, ty: Float, m: Float)] = []
        for y in Swift.stride(from: 1, to: h - 1, by: 2) {
            for x in Swift.stride(from: 1, to: w - 1, by: 2) {
                let k = y * w + x, m = magnitude[k]
                guard m > threshold else { continue }
                let (nx, ny) = (cues.gx[k] / m, cues.gy[k] / m)
                let tx = -ny, ty = nx
                guard abs(tx) > 0.2, abs(ty) > 0.1 else { continue }
                var straight = true
                for step: Float in [-2, 2] {
                    let sx = Int((Float(x) + tx * step).rounded()), sy = Int((Float(y) + ty * step).rounded())
                    guard sx >= 0, sx < w, sy >= 0, sy < h else { straight = false; break }
                    let q = sy * w + sx, mq = magnitude[q]
                    guard mq > 0.5 * threshold, (cues.gx[q] * nx + cues.gy[q] * ny) / mq > 0.9 else { straight = false; break }
                }
                if straight { edges.append((Float(x), Float(y), tx, ty, m)) }
            }
        }
        let total = edges.reduce(0) { $0 + $1.m }
        guard total > 0 else { return (Float(h) / 2, 0) }
        /// The best of `cells × cells` candidates spread over `area`, each collecting the
        /// edges whose line passes within the angular `tolerance` (a sine).
        func vote(_ area: (x: ClosedRange<Float>, y: ClosedRange<Float>), cells: Int, tolerance: Float) -> (x: Float, y: Float, votes: Float) {
            var best = (x: Float(w) / 2, y: Float(h) / 2, votes: Float(0))
            for j in 0..<cells {
                let cy = area.y.lowerBound + (area.y.upperBound - area.y.lowerBound) * (Float(j) + 0.5) / Float(cells)
                for i in 0..<cells {
                    let cx = area.x.lowerBound + (area.x.upperBound - area.x.lowerBound) * (Float(i) + 0.5) / Float(cells)
                    var sum: Float = 0
                    for e in edges {
                        let dx = cx - e.x, dy = cy - e.y
                        let length = (dx * dx + dy * dy).squareRoot()
                        guard length > 4 else { continue }
                        let sine = abs(e.tx * dy - e.ty * dx) / length
                        if sine < tolerance { sum += e.m * (1 - sine / tolerance) }
                    }
                    if sum > best.votes { best = (cx, cy, sum) }
                }
            }
            return best
        }
        // Coarse over the image and a margin around it, then fine around the winner.
        let (fw, fh) = (Float(w), Float(h))
        let coarse = vote((-0.25 * fw...1.25 * fw, -0.25 * fh...1.25 * fh), cells: 32, tolerance: 0.07)
        let span = 0.05 * max(fw, fh)
        let fine = vote((coarse.x - span...coarse.x + span, coarse.y - span...coarse.y + span), cells: 16, tolerance: 0.03)
        // A clear vanishing point gathers a good share of all the edges' weight.
        return (fine.y, min(1, fine.votes / total * 3))
    }

    func layout() -> PriorLayout {
        let (w, h) = (cues.width, cues.height)
        // Unsure: lean towards the image centre (an upright camera's horizon).
        let found = horizon()
        let horizon = (row: found.confidence * found.row + (1 - found.confidence) * Float(h) / 2, confidence: found.confidence)
        let regions = Superpixels(image, size: max(4, max(w, h) / 24))
        let count = regions.count
        // Per-region statistics.
        var colour = [SIMD3<Float>](repeating: .zero, count: count)
        var texture = [Float](repeating: 0, count: count)
        var rowSum = [Float](repeating: 0, count: count), size = [Float](repeating: 0, count: count)
        var top = [Bool](repeating: false, count: count), bottom = top
        var lowest = [Int](repeating: 0, count: count)
        for y in 0..<h {
            for x in 0..<w {
                let k = y * w + x, r = Int(regions.labels[k])
                colour[r] += cues.colour(k)
                texture[r] += (cues.gx[k] * cues.gx[k] + cues.gy[k] * cues.gy[k]).squareRoot()
                rowSum[r] += Float(y); size[r] += 1
                if y == 0 { top[r] = true }
                if y == h - 1 { bottom[r] = true }
                lowest[r] = max(lowest[r], y)
            }
        }
        for r in 0..<count where size[r] > 0 {
            colour[r] /= size[r]; texture[r] /= size[r]; rowSum[r] /= size[r]
        }
        let neighbours = regions.adjacency()
        var surface = [Surface](repeating: .vertical, count: count)
        // Sky: grown from the top border through sky-coloured, smooth regions above the horizon.
        var queue = (0..<count).filter { top[$0] && ImageCues.skyLike(colour: colour[$0], texture: texture[$0]) }
        for r in queue { surface[r] = .sky }
        while let r = queue.popLast() {
            for s in neighbours[r] where surface[s] != .sky && rowSum[s] < horizon.row
                && ImageCues.skyLike(colour: colour[s], texture: texture[s]) {
                surface[s] = .sky
                queue.append(s)
            }
        }
        // Ground: grown from the bottom border, below the horizon, through regions of a
        // colour close to the ground seen so far.
        let seeds = (0..<count).filter { bottom[$0] && rowSum[$0] > horizon.row }
        if !seeds.isEmpty {
            var mean = seeds.reduce(SIMD3<Float>.zero) { $0 + colour[$1] } / Float(seeds.count)
            // The seeds far from their mean colour (an object cut by the border) are not ground.
            let spread = seeds.map { distance(colour[$0], mean) }.sorted()[seeds.count / 2]
            var ground = seeds.filter { distance(colour[$0], mean) <= max(0.08, 2 * spread) }
            if !ground.isEmpty { mean = ground.reduce(SIMD3<Float>.zero) { $0 + colour[$1] } / Float(ground.count) }
            for r in ground { surface[r] = .ground }
            while let r = ground.popLast() {
                for s in neighbours[r] where surface[s] == .vertical && rowSum[s] > horizon.row + 1
                    && distance(colour[s], mean) < 0.12 && texture[s] < 3 * texture[r] + 0.05 {
                    surface[s] = .ground
                    ground.append(s)
                }
            }
        }
        // Ceiling: smooth, not sky, grown from the top border above the horizon; only where
        // no sky is seen, and only from seeds along a good part of the top border (a pole or
        // a plain wall reaching the border is not a ceiling).
        var ceiling = (0..<count).filter { top[$0] && surface[$0] == .vertical && texture[$0] < 0.06 && lowest[$0] < Int(horizon.row) }
        var topCoverage = 0
        for x in 0..<w where ceiling.contains(Int(regions.labels[x])) { topCoverage += 1 }
        if surface.contains(.sky) || topCoverage * 4 < w { ceiling = [] }
        for r in ceiling { surface[r] = .ceiling }
        while let r = ceiling.popLast() {
            for s in neighbours[r] where surface[s] == .vertical && lowest[s] < Int(horizon.row) && texture[s] < 0.06
                && distance(colour[s], colour[r]) < 0.06 {
                surface[s] = .ceiling
                ceiling.append(s)
            }
        }

        // Depth: disparity ∝ distance below (ground) or above (ceiling) the horizon.
        let unit = 1 / Float(h)
        let least = unit * 0.25
        func groundDisparity(_ y: Int) -> Float { max(least, (Float(y) + 0.5 - horizon.row) * unit) }
        func depths(_ surface: [Surface]) -> (disparity: Image, confidence: Image) {
            var disparity = Image(width: w, height: h, channels: 1)
            var confidence = Image(width: w, height: h, channels: 1)
            for x in 0..<w {
                // Where each column's verticals stand: the ground just below them (the image's
                // bottom row when they reach it).
                var contact = groundDisparity(h - 1)
                for y in Swift.stride(from: h - 1, through: 0, by: -1) {
                    let k = y * w + x
                    switch surface[Int(regions.labels[k])] {
                    case .ground:
                        contact = groundDisparity(y)
                        disparity.pixels[k] = contact
                        confidence.pixels[k] = 0.9
                    case .vertical:
                        disparity.pixels[k] = contact
                        confidence.pixels[k] = 0.6
                    case .ceiling:
                        disparity.pixels[k] = max(least, (horizon.row - Float(y) - 0.5) * unit)
                        confidence.pixels[k] = 0.5
                    case .sky:
                        disparity.pixels[k] = least
                        confidence.pixels[k] = 0.9
                    }
                }
            }
            return (disparity, confidence)
        }
        var (disparity, confidence) = depths(surface)
        // How far the layout can be trusted: real photographs often defeat the colour
        // growth (it stops at a kerb, a rail, a shadow, a rug) and the vote for the horizon.
        // Then the verticals would all stand on the image's bottom row, a wall at the
        // camera's feet. So the layout is blended, as far as either is unsure, with the
        // ramp-like ground prior: every region below the horizon taken as ground.
        var below = 0, grounded = 0
        for y in 0..<h where Float(y) > horizon.row {
            for x in 0..<w {
                below += 1
                if surface[Int(regions.labels[y * w + x])] == .ground { grounded += 1 }
            }
        }
        let groundShare = below > 0 ? Float(grounded) / Float(below) : 1
        let trust = min(1, max(0, (groundShare - 0.25) / 0.25)) * min(1, max(0, (horizon.confidence - 0.3) / 0.3))
        if trust < 1 {
            var fallback = surface
            for r in 0..<count where rowSum[r] > horizon.row && fallback[r] == .vertical { fallback[r] = .ground }
            let plain = depths(fallback)
            for k in disparity.pixels.indices {
                disparity.pixels[k] = trust * disparity.pixels[k] + (1 - trust) * plain.disparity.pixels[k]
                // The confidence says so: lower as far as the layout is not trusted.
                confidence.pixels[k] *= 0.5 + 0.5 * trust
            }
        }
        // Confidence also follows how sure the horizon was.
        let certainty = 0.5 + 0.5 * horizon.confidence
        for k in confidence.pixels.indices { confidence.pixels[k] *= certainty }
        return PriorLayout(disparity: disparity, confidence: confidence)
    }
}

@inline(__always)
func distance(_ a: SIMD3<Float>, _ b: SIMD3<Float>) -> Float {
    let d = a - b
    return (d * d).sum().squareRoot()
}
