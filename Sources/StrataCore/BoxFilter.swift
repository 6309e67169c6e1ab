/// Box filtering of a one-channel image held as a row-major array.
public enum BoxFilter {
    /// Window sums (or means over the window's in-image pixels) of radius `r` around each
    /// pixel of `x` (`w` × `h`), through a summed-area table in Double so long rows do not
    /// lose precision; with `skipNaN`, means over the window's finite values (NaN where none).
    public static func mean(_ x: [Float], _ w: Int, _ h: Int, _ r: Int, normalise: Bool, skipNaN: Bool = false) -> [Float] {
        let stride = w + 1
        var table = [Double](repeating: 0, count: (w + 1) * (h + 1))
        var counts = skipNaN ? [Double](repeating: 0, count: (w + 1) * (h + 1)) : []
        for y in 0..<h {
            var row = 0.0, rowCount = 0.0
            for xx in 0..<w {
                let v = x[y * w + xx]
                if skipNaN {
                    if v.isFinite { row += Double(v); rowCount += 1 }
                    counts[(y + 1) * stride + xx + 1] = counts[y * stride + xx + 1] + rowCount
                } else {
                    row += Double(v)
                }
                table[(y + 1) * stride + xx + 1] = table[y * stride + xx + 1] + row
            }
        }
        var out = [Float](repeating: 0, count: w * h)
        for y in 0..<h {
            let y0 = max(0, y - r), y1 = min(h, y + r + 1)
            for xx in 0..<w {
                let x0 = max(0, xx - r), x1 = min(w, xx + r + 1)
                let sum = table[y1 * stride + x1] - table[y0 * stride + x1] - table[y1 * stride + x0] + table[y0 * stride + x0]
                if skipNaN {
                    let c = counts[y1 * stride + x1] - counts[y0 * stride + x1] - counts[y1 * stride + x0] + counts[y0 * stride + x0]
                    out[y * w + xx] = c > 0 ? Float(sum / c) : .nan
                } else {
                    out[y * w + xx] = normalise ? Float(sum / Double((y1 - y0) * (x1 - x0))) : Float(sum)
                }
            }
        }
        return out
    }
}
