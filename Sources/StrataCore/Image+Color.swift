extension Image {
    /// Whether the last channel is alpha (gray+alpha or RGBA).
    public var hasAlpha: Bool { channels == 2 || channels == 4 }

    /// Luma from RGB with the Rec. 601 weights OpenCV and Pillow use; gray stays gray; alpha is dropped.
    public func grayscale() -> Image {
        switch channels {
        case 1: return self
        case 2: return channel(0)
        case 3, 4:
            var out = Image(width: width, height: height, channels: 1)
            let n = planeSize
            pixels.withUnsafeBufferPointer { p in
                out.pixels.withUnsafeMutableBufferPointer { o in
                    for i in 0..<n {
                        o[i] = 0.299 * p[i] + 0.587 * p[n &+ i] + 0.114 * p[2 &* n &+ i]
                    }
                }
            }
            return out
        default:
            preconditionFailure("grayscale of a \(channels)-channel image")
        }
    }

    /// Three colour channels: gray is repeated, alpha is dropped.
    public func rgb() -> Image {
        switch channels {
        case 1, 2: let g = channel(0); return .stacking([g, g, g])
        case 3: return self
        case 4: return channels([0, 1, 2])
        default: preconditionFailure("RGB of a \(channels)-channel image")
        }
    }

    /// Colour plus an alpha plane: the existing one, or `alpha` everywhere when there is none.
    public func withAlpha(_ alpha: Float = 1) -> Image {
        if hasAlpha { return self }
        return .stacking([self, Image(width: width, height: height, channels: 1, fill: alpha)])
    }

    /// Colour multiplied by alpha (what compositing and filtering want).
    public func premultipliedAlpha() -> Image {
        guard hasAlpha else { return self }
        var out = self
        let n = planeSize, colour = channels - 1
        out.pixels.withUnsafeMutableBufferPointer { p in
            for c in 0..<colour {
                for i in 0..<n { p[c &* n &+ i] *= p[colour &* n &+ i] }
            }
        }
        return out
    }

    /// Colour divided by alpha; fully transparent pixels become 0.
    public func unpremultipliedAlpha() -> Image {
        guard hasAlpha else { return self }
        var out = self
        let n = planeSize, colour = channels - 1
        out.pixels.withUnsafeMutableBufferPointer { p in
            for c in 0..<colour {
                for i in 0..<n {
                    let a = p[colour &* n &+ i]
                    p[c &* n &+ i] = a > 0 ? p[c &* n &+ i] / a : 0
                }
            }
        }
        return out
    }
}
