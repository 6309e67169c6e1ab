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
    var xs = SIMD4<Int>(repeating: 0)
    var ys = SIMD4<Int>(repeating: 0)
    var wx = SIMD4<Float>(repeating: 0)
    var wy = SIMD4<Float>(repeating: 0)
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
        let offset: Int
        switch interpolation {
        case .nearest:
            n = 1
            xs[0] = Taps.index(Int((fx + 0.5).rounded(.down)), w, wrap: wrap, constant: isConstant)
            ys[0] = Taps.index(Int((fy + 0.5).rounded(.down)), h, wrap: false, constant: isConstant)
            wx[0] = 1
            wy[0] = 1
            return
        case .bilinear:
            n = 2
            offset = 0
            let tx = fx - fx.rounded(.down), ty = fy - fy.rounded(.down)
            wx = SIMD4(1 - tx, tx, 0, 0)
            wy = SIMD4(1 - ty, ty, 0, 0)
        case .bicubic:
            n = 4
            offset = -1
            let cx = Cubic.weights(fx - fx.rounded(.down)), cy = Cubic.weights(fy - fy.rounded(.down))
            wx = SIMD4(cx.0, cx.1, cx.2, cx.3)
            wy = SIMD4(cy.0, cy.1, cy.2, cy.3)
        }
        let ix = Int(fx.rounded(.down)) + offset, iy = Int(fy.rounded(.down)) + offset
        for k in 0..<n {
            xs[k] = Taps.index(ix + k, w, wrap: wrap, constant: isConstant)
            ys[k] = Taps.index(iy + k, h, wrap: false, constant: isConstant)
        }
    }

    /// The weighted sum over the taps. A zero weight skips its tap, so a NaN (invalid
    /// depth) next to an exact hit stays out of the result.
    @inline(__always)
    func apply(plane: UnsafeBufferPointer<Float>, border: BorderMode) -> Float {
        var constant: Float = 0
        if case .constant(let v) = border { constant = v }
        var sum: Float = 0
        for j in 0..<n where wy[j] != 0 {
            let row = ys[j]
            var rowSum: Float = 0
            for i in 0..<n where wx[i] != 0 {
                let column = xs[i]
                rowSum += wx[i] * ((row < 0 || column < 0) ? constant : plane[row &* width &+ column])
            }
            sum += wy[j] * rowSum
        }
        return sum
    }
}
