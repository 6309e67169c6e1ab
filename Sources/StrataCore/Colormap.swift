/// Colour scales for previews of depth and other scalar maps.
public enum Colormap: String, Sendable, Codable, CaseIterable {
    /// Google's turbo, as matplotlib ships it.
    case turbo
    /// matplotlib's perceptually uniform inferno.
    case inferno
    /// Black to white.
    case gray

    /// The colour at `t` in 0…1 (clamped), interpolated linearly between table entries.
    public func color(at t: Float) -> (r: Float, g: Float, b: Float) {
        let t = t.isNaN ? 0 : min(max(t, 0), 1)
        let table: [Float]
        switch self {
        case .gray: return (t, t, t)
        case .turbo: table = Colormap.turboTable
        case .inferno: table = Colormap.infernoTable
        }
        let position = t * 255
        let i = min(Int(position), 254)
        let f = position - Float(i)
        let a = i * 3, b = a + 3
        return (table[a] + f * (table[b] - table[a]),
                table[a + 1] + f * (table[b + 1] - table[a + 1]),
                table[a + 2] + f * (table[b + 2] - table[a + 2]))
    }

    /// An RGB image colouring a one-channel map: `range` maps to 0…1 (reversed when
    /// `inverted`, so near is bright), and non-finite values take `invalid`.
    public func apply(to map: Image, range: ClosedRange<Float>, inverted: Bool = false,
                      invalid: (Float, Float, Float) = (0, 0, 0)) -> Image {
        precondition(map.channels == 1, "a colormap applies to one channel, not \(map.channels)")
        var out = Image(width: map.width, height: map.height, channels: 3)
        let n = map.planeSize
        let span = range.upperBound - range.lowerBound
        let scale: Float = span > 0 ? 1 / span : 0
        map.pixels.withUnsafeBufferPointer { src in
            out.pixels.withUnsafeMutableBufferPointer { dst in
                let base = dst.baseAddress!
                Parallel.forEachBand(n, minimumBand: 4096) { band in
                    for i in band {
                        let v = src[i]
                        let rgb: (Float, Float, Float)
                        if v.isFinite {
                            var t = (v - range.lowerBound) * scale
                            if inverted { t = 1 - t }
                            let c = color(at: t)
                            rgb = (c.r, c.g, c.b)
                        } else {
                            rgb = invalid
                        }
                        base[i] = rgb.0
                        base[n &+ i] = rgb.1
                        base[2 &* n &+ i] = rgb.2
                    }
                }
            }
        }
        return out
    }
}
