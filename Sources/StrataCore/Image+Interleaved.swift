// Codecs speak interleaved 8- and 16-bit samples; Strata's images are planar floats.
// These conversions are the only place the two meet, so they are written for speed.

extension Image {
    /// An image from interleaved 8-bit samples, each mapped to `value / 255`.
    public init(interleaved8 source: UnsafeBufferPointer<UInt8>, width: Int, height: Int, channels: Int) {
        precondition(source.count >= width * height * channels, "short 8-bit buffer")
        self.init(width: width, height: height, channels: channels)
        let n = width * height
        pixels.withUnsafeMutableBufferPointer { dst in
            let out = dst.baseAddress!
            let input = source.baseAddress!
            Parallel.forEachBand(height, minimumBand: 32) { rows in
                let scale: Float = 1 / 255
                for c in 0..<channels {
                    let plane = out + c &* n
                    for i in (rows.lowerBound &* width)..<(rows.upperBound &* width) {
                        plane[i] = Float(input[i &* channels &+ c]) * scale
                    }
                }
            }
        }
    }

    /// An image from interleaved 16-bit samples, each mapped to `value / 65535`.
    public init(interleaved16 source: UnsafeBufferPointer<UInt16>, width: Int, height: Int, channels: Int) {
        precondition(source.count >= width * height * channels, "short 16-bit buffer")
        self.init(width: width, height: height, channels: channels)
        let n = width * height
        pixels.withUnsafeMutableBufferPointer { dst in
            let out = dst.baseAddress!
            let input = source.baseAddress!
            Parallel.forEachBand(height, minimumBand: 32) { rows in
                let scale: Float = 1 / 65535
                for c in 0..<channels {
                    let plane = out + c &* n
                    for i in (rows.lowerBound &* width)..<(rows.upperBound &* width) {
                        plane[i] = Float(input[i &* channels &+ c]) * scale
                    }
                }
            }
        }
    }

    /// Interleaved 8-bit samples: 0…1 clamped, scaled by 255 and rounded; NaN becomes 0.
    public func interleaved8() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: pixels.count)
        let (n, channels, width) = (planeSize, channels, width)
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                let input = src.baseAddress!, output = dst.baseAddress!
                Parallel.forEachBand(height, minimumBand: 32) { rows in
                    for c in 0..<channels {
                        let plane = input + c &* n
                        for i in (rows.lowerBound &* width)..<(rows.upperBound &* width) {
                            // Comparisons with NaN are false, so NaN lands on 0.
                            let s = plane[i] * 255 + 0.5
                            output[i &* channels &+ c] = UInt8(s > 0 ? (s < 255 ? s : 255) : 0)
                        }
                    }
                }
            }
        }
        return out
    }

    /// Interleaved 16-bit samples: 0…1 clamped, scaled by 65535 and rounded; NaN becomes 0.
    public func interleaved16() -> [UInt16] {
        var out = [UInt16](repeating: 0, count: pixels.count)
        let (n, channels, width) = (planeSize, channels, width)
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                let input = src.baseAddress!, output = dst.baseAddress!
                Parallel.forEachBand(height, minimumBand: 32) { rows in
                    for c in 0..<channels {
                        let plane = input + c &* n
                        for i in (rows.lowerBound &* width)..<(rows.upperBound &* width) {
                            let s = plane[i] * 65535 + 0.5
                            output[i &* channels &+ c] = UInt16(s > 0 ? (s < 65535 ? s : 65535) : 0)
                        }
                    }
                }
            }
        }
        return out
    }
}
