extension Image {
    /// Mirrored left to right.
    public func flippedHorizontally() -> Image {
        reindexed(width: width, height: height) { r, c in (r, width - 1 - c) }
    }

    /// Mirrored top to bottom.
    public func flippedVertically() -> Image {
        reindexed(width: width, height: height) { r, c in (height - 1 - r, c) }
    }

    /// Turned by a half turn.
    public func rotated180() -> Image {
        reindexed(width: width, height: height) { r, c in (height - 1 - r, width - 1 - c) }
    }

    /// Turned a quarter turn clockwise: the left column becomes the top row.
    public func rotated90Clockwise() -> Image {
        reindexed(width: height, height: width) { r, c in (height - 1 - c, r) }
    }

    /// Turned a quarter turn counter-clockwise: the top row becomes the left column.
    public func rotated90CounterClockwise() -> Image {
        reindexed(width: height, height: width) { r, c in (c, width - 1 - r) }
    }

    /// Rows become columns (mirror about the main diagonal).
    public func transposed() -> Image {
        reindexed(width: height, height: width) { r, c in (c, r) }
    }

    /// Mirror about the anti-diagonal.
    public func transversed() -> Image {
        reindexed(width: height, height: width) { r, c in (height - 1 - c, width - 1 - r) }
    }

    /// Turned clockwise by a multiple of 90° (other angles round to the nearest quarter turn).
    public func rotated(clockwiseDegrees degrees: Double) -> Image {
        let quarter = ((Int((degrees / 90).rounded()) % 4) + 4) % 4
        switch quarter {
        case 1: return rotated90Clockwise()
        case 2: return rotated180()
        case 3: return rotated90CounterClockwise()
        default: return self
        }
    }

    /// The image as it should be displayed, given the EXIF orientation tag (1–8) it was stored with.
    public func applyingEXIFOrientation(_ orientation: Int) -> Image {
        switch orientation {
        case 2: return flippedHorizontally()
        case 3: return rotated180()
        case 4: return flippedVertically()
        case 5: return transposed()
        case 6: return rotated90Clockwise()
        case 7: return transversed()
        case 8: return rotated90CounterClockwise()
        default: return self
        }
    }

    /// Builds a `width × height` image whose pixel (r, c) is this image's pixel `source(r, c)`.
    private func reindexed(width w: Int, height h: Int, _ source: (Int, Int) -> (Int, Int)) -> Image {
        var out = Image(width: w, height: h, channels: channels)
        var map = [Int](repeating: 0, count: w * h)
        for r in 0..<h {
            for c in 0..<w {
                let (sr, sc) = source(r, c)
                map[r * w + c] = sr * width + sc
            }
        }
        let n = planeSize
        pixels.withUnsafeBufferPointer { src in
            out.pixels.withUnsafeMutableBufferPointer { dst in
                for ch in 0..<channels {
                    for i in 0..<n { dst[ch &* n &+ i] = src[ch &* n &+ map[i]] }
                }
            }
        }
        return out
    }
}
