import Foundation
import StrataCore

/// The panorama prior: indoors a box room around the camera — floor and ceiling planes, four
/// walls fitted to where the floor meets them — and outdoors a ground plane under a far sky.
///
/// Distances are in units of the camera's height above the floor: the output is relative.
struct RoomBoxPrior {
    let image: Image
    let cues: ImageCues

    init(_ image: Image) {
        self.image = image
        cues = ImageCues(image)
    }

    func latitude(_ y: Int) -> Double { (0.5 - (Double(y) + 0.5) / Double(cues.height)) * .pi }
    func longitude(_ x: Int) -> Double { ((Double(x) + 0.5) / Double(cues.width) - 0.5) * 2 * .pi }

    /// Sky above: the top band is sky-coloured and smooth.
    func isOutdoors() -> Bool {
        let (w, h) = (cues.width, cues.height)
        let band = max(1, h / 8)
        var sky = 0
        for y in 0..<band {
            for x in 0..<w {
                let k = y * w + x
                let texture = (cues.gx[k] * cues.gx[k] + cues.gy[k] * cues.gy[k]).squareRoot()
                if ImageCues.skyLike(colour: cues.colour(k), texture: texture) { sky += 1 }
            }
        }
        return sky * 2 > band * w
    }

    /// Per column, the row where the mean colour of the rows above differs most from that of
    /// the rows below, within `rows`: a surface boundary, not texture inside one surface.
    func boundaries(in rows: Range<Int>) -> [(row: Int, strength: Float)] {
        let (w, h) = (cues.width, cues.height)
        let span = max(2, h / 48)
        return (0..<w).map { x in
            var best = (row: rows.lowerBound, strength: Float(0))
            for y in rows where y - span >= 0 && y + span < h {
                var above = SIMD3<Float>.zero, below = SIMD3<Float>.zero
                for dx in -1...1 {
                    let xx = (x + dx + w) % w
                    for d in 1...span {
                        above += cues.colour((y - d) * w + xx)
                        below += cues.colour((y + d) * w + xx)
                    }
                }
                let strength = distance(above, below) / Float(3 * span)
                if strength > best.strength { best = (y, strength) }
            }
            return best
        }
    }

    func layout() -> PriorLayout {
        let (w, h) = (cues.width, cues.height)
        var disparity = Image(width: w, height: h, channels: 1)
        var confidence = Image(width: w, height: h, channels: 1)
        if isOutdoors() {
            // Ground plane at height 1; above the horizon, far.
            for y in 0..<h {
                let phi = latitude(y)
                let d = Float(max(0.02, -sin(phi)))
                for x in 0..<w {
                    disparity.pixels[y * w + x] = d
                    confidence.pixels[y * w + x] = phi < 0 ? 0.7 : 0.8
                }
            }
            return PriorLayout(disparity: disparity, confidence: confidence)
        }
        // Floor boundary between 5° and 70° below the horizon; ceiling's likewise above.
        func row(_ degrees: Double) -> Int { min(h - 1, max(0, Int((0.5 - degrees / 180) * Double(h)))) }
        let floorRows = boundaries(in: row(-5)..<row(-70))
        let ceilingRows = boundaries(in: row(70)..<row(5))
        // Horizontal distance to the wall in each column's direction, from the floor boundary.
        var points: [(theta: Double, distance: Double)] = []
        for x in 0..<w where floorRows[x].strength > 0.04 {
            let phi = latitude(floorRows[x].row)
            points.append((longitude(x), 1 / tan(-phi)))
        }
        let box = RoomBoxPrior.fitBox(points)
        // Ceiling height above the camera, in camera heights, from the ceiling boundary.
        var ratios: [Double] = []
        for x in 0..<w where ceilingRows[x].strength > 0.04 {
            ratios.append(tan(latitude(ceilingRows[x].row)) * box.distance(longitude(x)))
        }
        let up = RoomBoxPrior.ceilingHeight(ratios)
        for x in 0..<w {
            let wall = box.distance(longitude(x))
            for y in 0..<h {
                let phi = latitude(y)
                var ray: Double
                var sure: Float
                if phi < 0, 1 / tan(-phi) < wall {
                    ray = 1 / sin(-phi); sure = 0.8
                } else if phi > 0, up / tan(phi) < wall {
                    ray = up / sin(phi); sure = 0.6
                } else {
                    ray = wall / cos(phi); sure = 0.5
                }
                ray = max(ray, 1e-3)
                disparity.pixels[y * w + x] = Float(1 / ray)
                confidence.pixels[y * w + x] = sure
            }
        }
        return PriorLayout(disparity: disparity, confidence: confidence)
    }

    /// The ceiling's height above the camera, in camera heights, from the columns' estimates:
    /// their median where they agree, drawn towards a common room's (0.7: a camera at 1.6 m
    /// under a 2.7 m ceiling) as they scatter. A boundary found on a lamp, an arch or a
    /// picture frame instead of the ceiling's edge scatters them; the log of the spread
    /// between their quartiles is 0.5 on a plain StrataSynth room and 1.6 on a furnished real
    /// one, where the median was 1.16 against a true 0.61.
    static func ceilingHeight(_ ratios: [Double]) -> Double {
        let typical = 0.7
        let usable = ratios.filter { $0.isFinite && $0 > 0 }.sorted()
        guard usable.count >= 8 else { return typical }
        let median = min(3, max(0.3, usable[usable.count / 2]))
        let spread = log(usable[3 * usable.count / 4] / usable[usable.count / 4])
        let trust = min(1, max(0, (1.2 - spread) / 0.6))
        return exp(trust * log(median) + (1 - trust) * log(typical))
    }

    /// A rectangle around the camera: its orientation and the distance of each wall.
    struct Box {
        var orientation: Double
        /// Walls at +u, −u, +v, −v of the rotated frame.
        var walls: (Double, Double, Double, Double)

        /// Horizontal distance to the box along longitude `theta`.
        func distance(_ theta: Double) -> Double {
            let a = theta - orientation
            let u = sin(a), v = cos(a)
            var best = Double.infinity
            if u > 1e-9 { best = min(best, walls.0 / u) }
            if u < -1e-9 { best = min(best, walls.1 / -u) }
            if v > 1e-9 { best = min(best, walls.2 / v) }
            if v < -1e-9 { best = min(best, walls.3 / -v) }
            return best
        }
    }

    /// The box that best explains the floor-boundary points (orientation searched every 2°,
    /// each wall the median of the points it takes, scored by log error).
    static func fitBox(_ points: [(theta: Double, distance: Double)]) -> Box {
        let usable = points.filter { $0.distance.isFinite && $0.distance > 0.05 && $0.distance < 50 }
        guard usable.count >= 8 else { return Box(orientation: 0, walls: (2, 2, 2, 2)) }
        func median(_ v: [Double], _ fallback: Double) -> Double {
            guard !v.isEmpty else { return fallback }
            let s = v.sorted()
            return s[s.count / 2]
        }
        let overall = median(usable.map(\.distance), 2)
        var best = Box(orientation: 0, walls: (overall, overall, overall, overall)), bestError = Double.infinity
        for step in 0..<45 {
            let psi = Double(step) * 2 * .pi / 180
            var pu: [Double] = [], nu: [Double] = [], pv: [Double] = [], nv: [Double] = []
            for p in usable {
                let a = p.theta - psi
                let u = p.distance * sin(a), v = p.distance * cos(a)
                if abs(u) >= abs(v) { if u > 0 { pu.append(u) } else { nu.append(-u) } } else { if v > 0 { pv.append(v) } else { nv.append(-v) } }
            }
            let box = Box(orientation: psi, walls: (median(pu, overall), median(nu, overall), median(pv, overall), median(nv, overall)))
            var error = 0.0
            for p in usable { error += abs(log(box.distance(p.theta) / p.distance)) }
            if error < bestError { (best, bestError) = (box, error) }
        }
        return best
    }
}
