import CStrataKernels
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
    /// The still as 8-bit RGB, interleaved (what ``rgb24(_:)`` starts from).
    let still8: [UInt8]
    /// The still's colours at the region's pixels, laid out as a frame of `moved`: as they
    /// are, and in 16 bits (where a frame's colour equals that, the frame is the still).
    let stillColours: [Float], still16: [UInt16]
    /// The alpha at the region's pixels.
    let regionAlpha: [Float]

    init(still: Image, alpha: [Float], region: [Int32], moved: [UInt16], count: Int) {
        (self.still, self.alpha, self.region, self.moved, self.count) = (still, alpha, region, moved, count)
        still8 = (still.channels == 3 ? still : still.rgb()).interleaved8()
        let plane = still.width * still.height
        let colours = min(Self.channels, still.channels)
        var stillColours = [Float](repeating: 0, count: region.count * Self.channels)
        for (k, i) in region.enumerated() {
            for ch in 0..<colours { stillColours[k * Self.channels + ch] = still.pixels[ch * plane + Int(i)] }
        }
        self.stillColours = stillColours
        still16 = stillColours.map(Self.quantized)
        regionAlpha = region.map { alpha[Int($0)] }
    }

    private init(_ frames: FluidFrames, alpha: [Float]) {
        (still, self.alpha, region, moved, count) = (frames.still, alpha, frames.region, frames.moved, frames.count)
        (still8, stillColours, still16) = (frames.still8, frames.stillColours, frames.still16)
        regionAlpha = region.map { alpha[Int($0)] }
    }

    /// Frame `t`: the still, and where the fluid is, the still + alpha · (fluid − still).
    /// Outside the fluid it is the still exactly, and so is any pixel whose fluid colour
    /// is the still's to 16 bits (frame 0 everywhere).
    public func frame(_ t: Int) -> Image {
        precondition(t >= 0 && t < count)
        var frame = still
        let plane = still.width * still.height
        let colours = min(Self.channels, still.channels)
        frame.pixels.withUnsafeMutableBufferPointer { pixels in
            forEachSample(t, colours: colours) { i, ch, value in pixels[ch * plane + i] = value }
        }
        return frame
    }

    /// The same loop with the fluid showing only by `weights` (0…1 a pixel, as a
    /// ``FluidKey`` gives): its alpha times them. Where a weight is 0, every frame is the still.
    public func showing(_ weights: [Float]) -> FluidFrames {
        precondition(weights.count == alpha.count)
        return FluidFrames(self, alpha: zip(alpha, weights).map { $0 * $1 })
    }

    /// Frame `t` as 8-bit RGB, interleaved, as `frame(t)` would be written to a video (a
    /// grey still's value in all three): composed straight from the store, a few
    /// milliseconds at 1080p where the frame as an ``Image`` and its conversion take ~15.
    public func rgb24(_ t: Int) -> [UInt8] {
        var out: [UInt8] = []
        rgb24(t, into: &out)
        return out
    }

    /// ``rgb24(_:)`` into `out`, reusing its storage from the frame before.
    public func rgb24(_ t: Int, into out: inout [UInt8]) {
        precondition(t >= 0 && t < count)
        if out.count == still8.count {
            out.withUnsafeMutableBufferPointer { out in still8.withUnsafeBufferPointer { out.baseAddress!.update(from: $0.baseAddress!, count: $0.count) } }
        } else {
            out = still8
        }
        let frame = t * region.count * Self.channels
        let grey: Int32 = still.channels < 3 ? 1 : 0
        let c = Self.channels
        moved.withUnsafeBufferPointer { moved in still16.withUnsafeBufferPointer { still16 in stillColours.withUnsafeBufferPointer { colours in
        regionAlpha.withUnsafeBufferPointer { alpha in region.withUnsafeBufferPointer { region in out.withUnsafeMutableBufferPointer { out in
            let (q, s16, s, a, r, o) = (UncheckedSendable(moved.baseAddress! + frame), UncheckedSendable(still16.baseAddress!),
                                        UncheckedSendable(colours.baseAddress!), UncheckedSendable(alpha.baseAddress!),
                                        UncheckedSendable(region.baseAddress!), UncheckedSendable(out.baseAddress!))
            // Bands of particles write disjoint pixels.
            Parallel.forEachBand(region.count, minimumBand: 1 << 16) { band in
                let k = band.lowerBound
                strata_fluid_compose8(q.value + c * k, s16.value + c * k, s.value + c * k, a.value + k, r.value + k, band.count, grey, o.value)
            }
        } } } } } }
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
                    if q != Self.quantized(before) { pixels[c * plane + Int(i)] = Float(q) * Self.unit16 }
                }
            }
        }
        return layer
    }

    /// Every fluid sample of frame `t`: `body(pixel, channel, frame's value)`, the frame's
    /// being still + alpha · (fluid − still), or the still's value exactly where the fluid's
    /// colour is the still's to 16 bits (chosen without a branch: the two are mixed at
    /// random across the fluid).
    @inline(__always)
    func forEachSample(_ t: Int, colours: Int, _ body: (Int, Int, Float) -> Void) {
        moved.withUnsafeBufferPointer { moved in still16.withUnsafeBufferPointer { still16 in stillColours.withUnsafeBufferPointer { still in
        regionAlpha.withUnsafeBufferPointer { alpha in region.withUnsafeBufferPointer { region in
            let q = moved.baseAddress! + t * region.count * Self.channels
            for k in 0..<region.count {
                for ch in 0..<colours {
                    let j = k * Self.channels + ch
                    let mixed = still[j] + alpha[k] * (Float(q[j]) * Self.unit16 - still[j])
                    body(Int(region[k]), ch, q[j] == still16[j] ? still[j] : mixed)
                }
            }
        } } } } }
    }

    /// One step of 16 bits, as a factor (a multiply where a division would take ten times as long).
    static let unit16: Float = 1 / 65535

    /// A colour in [0, 1] to 16 bits, rounded (out-of-range values clamped).
    @inline(__always) static func quantized(_ v: Float) -> UInt16 { UInt16(min(max(v, 0), 1) * 65535 + 0.5) }
}
