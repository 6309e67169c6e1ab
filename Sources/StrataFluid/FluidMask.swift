import StrataCore

/// The fluid's region from polygons, and its feathered alpha.
public enum FluidMask {
    /// Pixels whose centres lie inside any of `polygons` (each by the even-odd rule).
    public static func rasterize(_ polygons: [[SIMD2<Double>]], width: Int, height: Int) -> [Bool] {
        var inside = [Bool](repeating: false, count: width * height)
        for ring in polygons where ring.count >= 3 {
            for y in 0..<height {
                let py = Double(y)
                // Where the ring's edges cross this row of pixel centres, left to right.
                var crossings: [Double] = []
                for k in ring.indices {
                    let (a, b) = (ring[k], ring[(k + 1) % ring.count])
                    if (a.y <= py) != (b.y <= py) { crossings.append(a.x + (py - a.y) / (b.y - a.y) * (b.x - a.x)) }
                }
                crossings.sort()
                for pair in stride(from: 0, to: crossings.count - 1, by: 2) {
                    let first = max(0, Int((crossings[pair]).rounded(.up)))
                    let last = min(width - 1, Int((crossings[pair + 1]).rounded(.down)))
                    if first <= last { for x in first...last { inside[y * width + x] = true } }
                }
            }
        }
        return inside
    }

    /// Alpha over the fluid: 0 outside it, rising 1/(f+1), 2/(f+1)… from its edge over
    /// `feather` pixels to 1 inside (the still shows through the moving fluid at its edge).
    public static func feathered(_ fluid: [Bool], width: Int, feather: Double, wrap: Bool) -> [Float] {
        guard feather > 0 else { return fluid.map { $0 ? 1 : 0 } }
        let outside = ChamferDistance.from(fluid.map { !$0 }, width: width, wrap: wrap, limit: Float(feather) + 1)
        return zip(fluid, outside).map { inside, d in inside ? min(1, d / Float(feather + 1)) : 0 }
    }
}
