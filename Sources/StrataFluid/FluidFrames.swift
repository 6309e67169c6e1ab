import StrataCore

/// A rendered loop, kept as the still and, per frame, the moving fluid layer's colour at
/// each fluid pixel in 16 bits: at 1080p a frame is 7 MB here against 25 MB as an
/// ``Image``, and any frame or layer is composed from it on demand.
public struct FluidFrames: Sendable {
    /// Colours kept per fluid pixel and frame (red, green, blue; a grey still uses the first).
    static let channels = 3

    /// The still the loop moves.
    public let still: Image
    /// Per pixel, how much of the moving fluid shows (the feathered mask).
    public let alpha: [Float]
    /// The pixels whose alpha is above 0, in raster order.
    let region: [Int32]
    /// Frame-major, then pixel by pixel in `region` order, ``channels`` 16-bit colours each.
    let moved: [UInt16]
    /// Frames in the loop.
    public let count: Int

    init(still: Image, alpha: [Float], region: [Int32], moved: [UInt16], count: Int) {
        (self.still, self.alpha, self.region, self.moved, self.count) = (still, alpha, region, moved, count)
    }

    /// Frame `t`: the still, and where the fluid is, the still + alpha · (fluid − still).
    /// Outside the fluid it is the still exactly, and so is any pixel whose fluid colour
    /// is the still's to 16 bits (frame 0 everywhere).
    public func frame(_ t: Int) -> Image {
        precondition(t >= 0 && t < count)
        var frame = still
        let plane = still.width * still.height
        let colours = min(Self.channels, still.channels)
        frame.pixels.withUnsafeMutableBufferPointer { pixels in moved.withUnsafeBufferPointer { moved in
            let base = t * region.count * Self.channels
            for (k, i) in region.enumerated() {
                let i = Int(i)
                for ch in 0..<colours {
                    let before = pixels[ch * plane + i]
                    let q = moved[base + k * Self.channels + ch]
                    guard q != Self.quantized(before) else { continue }
                    pixels[ch * plane + i] = before + alpha[i] * (Float(q) / 65535 - before)
                }
            }
        } }
        return frame
    }

    /// The same loop with the fluid showing only by `weights` (0…1 a pixel, as a
    /// ``FluidKey`` gives): its alpha times them. Where a weight is 0, every frame is the still.
    public func showing(_ weights: [Float]) -> FluidFrames {
        precondition(weights.count == alpha.count)
        return FluidFrames(still: still, alpha: zip(alpha, weights).map { $0 * $1 }, region: region, moved: moved, count: count)
    }

    /// Every frame, composed (at 1080p, 25 MB each).
    public var all: [Image] { (0..<count).map(frame) }

    /// The moving fluid alone at frame `t`, as RGBA: its colour where alpha is above 0 (the
    /// still's elsewhere), alpha the feathered mask. Over the still it composes frame `t`.
    public func layer(_ t: Int) -> Image {
        precondition(t >= 0 && t < count)
        let plane = still.width * still.height
        let colours = min(Self.channels, still.channels)
        var layer = Image(width: still.width, height: still.height, channels: 4)
        for c in 0..<3 {
            let source = min(c, still.channels - 1)
            layer.pixels.replaceSubrange((c * plane)..<((c + 1) * plane), with: still.pixels[(source * plane)..<((source + 1) * plane)])
        }
        layer.pixels.replaceSubrange((3 * plane)..<(4 * plane), with: alpha)
        layer.pixels.withUnsafeMutableBufferPointer { pixels in
            let base = t * region.count * Self.channels
            for (k, i) in region.enumerated() {
                for c in 0..<3 {
                    let q = moved[base + k * Self.channels + min(c, colours - 1)]
                    let before = pixels[c * plane + Int(i)]
                    if q != Self.quantized(before) { pixels[c * plane + Int(i)] = Float(q) / 65535 }
                }
            }
        }
        return layer
    }

    /// A colour in [0, 1] to 16 bits, rounded (out-of-range values clamped).
    @inline(__always) static func quantized(_ v: Float) -> UInt16 { UInt16(min(max(v, 0), 1) * 65535 + 0.5) }
}
