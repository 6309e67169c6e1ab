// Codecs speak interleaved 8- and 16-bit samples; Strata's images are planar floats.
// These conversions are the only place the two meet, so they are written for speed: no
// zero-fill of the destination, no trapping float-to-integer conversion, and rounding by
// the float "magic number" trick so the loops vectorise.

extension Image {
    /// An image whose every sample `fill` writes before anyone reads it (no zero-fill first:
    /// for decoders that produce planes directly).
    public init(width: Int, height: Int, channels: Int, uninitialized fill: (UnsafeMutableBufferPointer<Float>) -> Void) {
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = [Float](largeCount: width * height * channels, initializingWith: fill)
    }

    /// An image from interleaved 8-bit samples, each mapped to `value / 255`.
    public init(interleaved8 source: UnsafeBufferPointer<UInt8>, width: Int, height: Int, channels: Int) {
        precondition(source.count >= width * height * channels, "short 8-bit buffer")
        self.init(width: width, height: height, channels: channels) { dst in
            Interleaving.deinterleave(source.baseAddress!, into: dst.baseAddress!, pixels: width * height,
                                      rowLength: width, channels: channels, scale: 1 / 255)
        }
    }

    /// An image from interleaved 16-bit samples, each mapped to `value / 65535`.
    public init(interleaved16 source: UnsafeBufferPointer<UInt16>, width: Int, height: Int, channels: Int) {
        precondition(source.count >= width * height * channels, "short 16-bit buffer")
        self.init(width: width, height: height, channels: channels) { dst in
            Interleaving.deinterleave(source.baseAddress!, into: dst.baseAddress!, pixels: width * height,
                                      rowLength: width, channels: channels, scale: 1 / 65535)
        }
    }

    /// Interleaved 8-bit samples: 0…1 clamped, scaled by 255 and rounded to nearest; NaN becomes 0.
    public func interleaved8() -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: pixels.count) { out, count in
            pixels.withUnsafeBufferPointer { src in
                Interleaving.interleave(src.baseAddress!, into: out.baseAddress!, pixels: planeSize,
                                        rowLength: width, channels: channels, maximum: 255)
            }
            count = pixels.count
        }
    }

    /// Interleaved 16-bit samples: 0…1 clamped, scaled by 65535 and rounded to nearest; NaN becomes 0.
    public func interleaved16() -> [UInt16] {
        [UInt16](unsafeUninitializedCapacity: pixels.count) { out, count in
            pixels.withUnsafeBufferPointer { src in
                Interleaving.interleave(src.baseAddress!, into: out.baseAddress!, pixels: planeSize,
                                        rowLength: width, channels: channels, maximum: 65535)
            }
            count = pixels.count
        }
    }
}

/// Conversions between interleaved integer samples and planar floats.
public enum Interleaving {
    /// Adding 2²³ to a float in [0, 2²³) leaves round-to-nearest(value) in the low mantissa bits.
    @usableFromInline static let magic: Float = 8_388_608

    @inlinable
    static func deinterleave<T: FixedWidthInteger & UnsignedInteger>(
        _ input: UnsafePointer<T>, into output: UnsafeMutablePointer<Float>, pixels n: Int,
        rowLength: Int, channels: Int, scale: Float
    ) {
        let rows = n / max(1, rowLength)
        let source = UncheckedSendable(input), destination = UncheckedSendable(output)
        Parallel.forEachBand(rows, minimumBand: 32) { band in
            let start = band.lowerBound &* rowLength
            deinterleave(source.value + start &* channels, into: destination.value, planeSize: n, offset: start,
                         count: band.count &* rowLength, channels: channels, scale: scale)
        }
    }

    /// Converts `count` interleaved pixels into the planes of an image of `planeSize` pixels,
    /// starting at pixel `offset`, on the calling thread.
    @inlinable
    public static func deinterleave<T: FixedWidthInteger & UnsignedInteger>(
        _ input: UnsafePointer<T>, into output: UnsafeMutablePointer<Float>, planeSize n: Int,
        offset: Int, count: Int, channels: Int, scale: Float
    ) {
        let r = output + offset
        switch channels {
        case 1:
            for i in 0..<count { r[i] = Float(input[i]) * scale }
        case 3:
            let g = r + n, b = r + 2 &* n
            for i in 0..<count {
                r[i] = Float(input[3 &* i]) * scale
                g[i] = Float(input[3 &* i &+ 1]) * scale
                b[i] = Float(input[3 &* i &+ 2]) * scale
            }
        case 4:
            let g = r + n, b = r + 2 &* n, a = r + 3 &* n
            for i in 0..<count {
                r[i] = Float(input[4 &* i]) * scale
                g[i] = Float(input[4 &* i &+ 1]) * scale
                b[i] = Float(input[4 &* i &+ 2]) * scale
                a[i] = Float(input[4 &* i &+ 3]) * scale
            }
        default:
            for c in 0..<channels {
                let plane = r + c &* n
                for i in 0..<count { plane[i] = Float(input[i &* channels &+ c]) * scale }
            }
        }
    }

    /// One sample as `interleaved8()` writes it: 0…1 clamped, scaled by 255, rounded; NaN 0.
    @inlinable public static func sample8(_ value: Float) -> UInt8 { UInt8(truncatingIfNeeded: quantize(value, 255)) }

    /// One sample scaled, clamped (NaN to 0) and rounded, as the low bits of a float.
    @inline(__always) @usableFromInline
    static func quantize(_ value: Float, _ maximum: Float) -> UInt32 {
        var s = value * maximum
        s = s > 0 ? s : 0          // false for NaN, so NaN lands on 0
        s = s < maximum ? s : maximum
        return (s + magic).bitPattern & 0xFFFF
    }

    @inlinable
    static func interleave<T: FixedWidthInteger & UnsignedInteger>(
        _ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<T>, pixels n: Int,
        rowLength: Int, channels: Int, maximum: Float
    ) {
        let rows = n / max(1, rowLength)
        let source = UncheckedSendable(input), destination = UncheckedSendable(output)
        Parallel.forEachBand(rows, minimumBand: 32) { band in
            let input = source.value, output = destination.value
            let start = band.lowerBound &* rowLength, end = band.upperBound &* rowLength
            switch channels {
            case 1:
                for i in start..<end { output[i] = T(truncatingIfNeeded: quantize(input[i], maximum)) }
            case 3:
                let g = input + n, b = input + 2 &* n
                for i in start..<end {
                    output[3 &* i] = T(truncatingIfNeeded: quantize(input[i], maximum))
                    output[3 &* i &+ 1] = T(truncatingIfNeeded: quantize(g[i], maximum))
                    output[3 &* i &+ 2] = T(truncatingIfNeeded: quantize(b[i], maximum))
                }
            default:
                for c in 0..<channels {
                    let plane = input + c &* n
                    for i in start..<end { output[i &* channels &+ c] = T(truncatingIfNeeded: quantize(plane[i], maximum)) }
                }
            }
        }
    }
}
