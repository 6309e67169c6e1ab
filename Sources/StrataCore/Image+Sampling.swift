extension Image {
    /// The value of channel `c` at the continuous position (x, y).
    ///
    /// Coordinates are in pixels with the centre of column i at x = i (OpenCV's `remap`
    /// convention); an equirectangular longitude maps to x = u·W − 0.5.
    public func sample(channel c: Int, x: Float, y: Float,
                       interpolation: Interpolation = .bilinear, border: BorderMode = .clamp) -> Float {
        var taps = Taps()
        taps.prepare(x: x, y: y, width: width, height: height, interpolation: interpolation, border: border)
        return pixels.withUnsafeBufferPointer { buffer in
            taps.apply(plane: UnsafeBufferPointer(rebasing: buffer[(c * planeSize)..<((c + 1) * planeSize)]),
                       border: border)
        }
    }

    /// A new `width × height` image whose pixel (x, y) samples this one at (mapX, mapY).
    ///
    /// `mapX` and `mapY` hold one position per output pixel, row after row, in the
    /// coordinates of ``sample(channel:x:y:interpolation:border:)``. Every channel is
    /// sampled at the same taps, so colour, depth and feature planes stay aligned.
    public func remap(mapX: [Float], mapY: [Float], width outWidth: Int, height outHeight: Int,
                      interpolation: Interpolation = .bilinear, border: BorderMode = .clamp) -> Image {
        precondition(mapX.count == outWidth * outHeight && mapY.count == mapX.count, "map size mismatch")
        var out = Image(width: outWidth, height: outHeight, channels: channels)
        let (w, h, c, plane, outPlane) = (width, height, channels, planeSize, outWidth * outHeight)
        pixels.withUnsafeBufferPointer { src in
            mapX.withUnsafeBufferPointer { mx in
                mapY.withUnsafeBufferPointer { my in
                    out.pixels.withUnsafeMutableBufferPointer { dst in
                        let dstBase = dst.baseAddress!
                        Parallel.forEachBand(outHeight, minimumBand: 8) { rows in
                            var taps = Taps()
                            for y in rows {
                                for x in 0..<outWidth {
                                    let i = y &* outWidth &+ x
                                    taps.prepare(x: mx[i], y: my[i], width: w, height: h,
                                                 interpolation: interpolation, border: border)
                                    for ch in 0..<c {
                                        let p = UnsafeBufferPointer(rebasing: src[(ch &* plane)..<((ch &+ 1) &* plane)])
                                        dstBase[ch &* outPlane &+ i] = taps.apply(plane: p, border: border)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return out
    }
}

/// Up to 4×4 source indices and weights for one sample; index −1 reads the constant border.
struct Taps {
    var xs: (Int, Int, Int, Int) = (0, 0, 0, 0)
    var ys: (Int, Int, Int, Int) = (0, 0, 0, 0)
    var wx: (Float, Float, Float, Float) = (0, 0, 0, 0)
    var wy: (Float, Float, Float, Float) = (0, 0, 0, 0)
    var n = 1
    var width = 0

    @inline(__always)
    static func index(_ i: Int, _ size: Int, wrap: Bool, constant: Bool) -> Int {
        if i >= 0 && i < size { return i }
        if constant { return -1 }
        if wrap {
            let m = i % size
            return m < 0 ? m + size : m
        }
        return i < 0 ? 0 : size - 1
    }

    @inline(__always)
    mutating func prepare(x: Float, y: Float, width w: Int, height h: Int,
                          interpolation: Interpolation, border: BorderMode) {
        width = w
        var isConstant = false
        var wrap = false
        switch border {
        case .clamp: break
        case .wrap: wrap = true
        case .constant: isConstant = true
        }
        // Non-finite positions read the border (constant) or the clamped edge.
        let fx = x.isFinite ? max(-1e7, min(1e7, x)) : -1e7
        let fy = y.isFinite ? max(-1e7, min(1e7, y)) : -1e7
        switch interpolation {
        case .nearest:
            n = 1
            xs.0 = Taps.index(Int((fx + 0.5).rounded(.down)), w, wrap: wrap, constant: isConstant)
            ys.0 = Taps.index(Int((fy + 0.5).rounded(.down)), h, wrap: false, constant: isConstant)
            wx.0 = 1; wy.0 = 1
        case .bilinear:
            n = 2
            let x0 = fx.rounded(.down), y0 = fy.rounded(.down)
            let tx = fx - x0, ty = fy - y0
            let ix = Int(x0), iy = Int(y0)
            xs.0 = Taps.index(ix, w, wrap: wrap, constant: isConstant)
            xs.1 = Taps.index(ix + 1, w, wrap: wrap, constant: isConstant)
            ys.0 = Taps.index(iy, h, wrap: false, constant: isConstant)
            ys.1 = Taps.index(iy + 1, h, wrap: false, constant: isConstant)
            wx.0 = 1 - tx; wx.1 = tx
            wy.0 = 1 - ty; wy.1 = ty
        case .bicubic:
            n = 4
            let x0 = fx.rounded(.down), y0 = fy.rounded(.down)
            let ix = Int(x0), iy = Int(y0)
            xs = (Taps.index(ix - 1, w, wrap: wrap, constant: isConstant), Taps.index(ix, w, wrap: wrap, constant: isConstant),
                  Taps.index(ix + 1, w, wrap: wrap, constant: isConstant), Taps.index(ix + 2, w, wrap: wrap, constant: isConstant))
            ys = (Taps.index(iy - 1, h, wrap: false, constant: isConstant), Taps.index(iy, h, wrap: false, constant: isConstant),
                  Taps.index(iy + 1, h, wrap: false, constant: isConstant), Taps.index(iy + 2, h, wrap: false, constant: isConstant))
            wx = Cubic.weights(fx - x0)
            wy = Cubic.weights(fy - y0)
        }
    }

    @inline(__always)
    func apply(plane: UnsafeBufferPointer<Float>, border: BorderMode) -> Float {
        var constant: Float = 0
        if case .constant(let v) = border { constant = v }
        @inline(__always) func read(_ yi: Int, _ xi: Int) -> Float {
            (yi < 0 || xi < 0) ? constant : plane[yi &* width &+ xi]
        }
        // A zero weight skips its tap, so a NaN (invalid depth) next to an exact hit stays out.
        @inline(__always) func term(_ w: Float, _ yi: Int, _ xi: Int) -> Float {
            w == 0 ? 0 : w * read(yi, xi)
        }
        @inline(__always) func row(_ yi: Int) -> Float {
            switch n {
            case 1: return read(yi, xs.0)
            case 2: return term(wx.0, yi, xs.0) + term(wx.1, yi, xs.1)
            default:
                return term(wx.0, yi, xs.0) + term(wx.1, yi, xs.1) + term(wx.2, yi, xs.2) + term(wx.3, yi, xs.3)
            }
        }
        @inline(__always) func rowTerm(_ w: Float, _ yi: Int) -> Float { w == 0 ? 0 : w * row(yi) }
        switch n {
        case 1: return row(ys.0)
        case 2: return rowTerm(wy.0, ys.0) + rowTerm(wy.1, ys.1)
        default: return rowTerm(wy.0, ys.0) + rowTerm(wy.1, ys.1) + rowTerm(wy.2, ys.2) + rowTerm(wy.3, ys.3)
        }
    }
}
