import CStrataKernels
import StrataCore

/// A rendered loop, kept as the still and, per frame, the moving fluid layer's colour at
/// each fluid pixel in 16 bits, or 8 for an 8-bit still: at 1080p a frame is 7 MB (or 3.5)
/// here against 25 MB as an ``Image``, and any frame or layer is composed from it on demand.
public struct FluidFrames: Sendable {
    /// Colours kept per fluid pixel and frame (red, green, blue; a grey still uses the first).
    static let channels = 3

    /// The still the loop moves.
    public let still: Image
    /// Per pixel, how much of the moving fluid shows (the feathered mask).
    public let alpha: [Float]
    /// The pixels whose alpha is above 0, in raster order.
    let region: [Int32]
    /// Bits a stored colour: 8 or 16.
    public let bits: Int
    /// Frame-major, then pixel by pixel in `region` order, ``channels`` colours each: bytes
    /// for 8 `bits`, native-endian UInt16s for 16.
    let moved: [UInt8]
    /// Frames in the loop.
    public let count: Int
    /// The still as 8-bit RGB, interleaved (what ``rgb24(_:)`` starts from).
    let still8: [UInt8]
    /// The still's colours at the region's pixels, laid out as a frame of `moved`: as they
    /// are, and in `bits` (where a frame's colour equals that, the frame is the still).
    let stillColours: [Float], stillQ: [UInt16]
    /// The alpha at the region's pixels.
    let regionAlpha: [Float]

    init(still: Image, alpha: [Float], region: [Int32], moved: [UInt8], bits: Int, count: Int) {
        precondition(bits == 8 || bits == 16)
        (self.still, self.alpha, self.region, self.moved, self.bits, self.count) = (still, alpha, region, moved, bits, count)
        still8 = (still.channels == 3 ? still : still.rgb()).interleaved8()
        let plane = still.width * still.height
        let colours = min(Self.channels, still.channels)
        var stillColours = [Float](repeating: 0, count: region.count * Self.channels)
        for (k, i) in region.enumerated() {
            for ch in 0..<colours { stillColours[k * Self.channels + ch] = still.pixels[ch * plane + Int(i)] }
        }
        self.stillColours = stillColours
        stillQ = stillColours.map { Self.quantized($0, bits: bits) }
        regionAlpha = region.map { alpha[Int($0)] }
    }

    private init(_ frames: FluidFrames, alpha: [Float]) {
        (still, self.alpha, region, moved, bits, count) = (frames.still, alpha, frames.region, frames.moved, frames.bits, frames.count)
        (still8, stillColours, stillQ) = (frames.still8, frames.stillColours, frames.stillQ)
        regionAlpha = region.map { alpha[Int($0)] }
    }

    /// Frame `t`: the still, and where the fluid is, the still + alpha · (fluid − still).
    /// Outside the fluid it is the still exactly, and so is any pixel whose fluid colour
    /// is the still's to the stored bits (frame 0 everywhere).
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
        let fresh = out.count != still8.count
        if fresh { out = [UInt8](repeating: 0, count: still8.count) }
        out.withUnsafeMutableBufferPointer { rgb24(t, into: $0.baseAddress!, stride: 3 * still.width, overFrame: false) }
    }

    /// Frame `t` as 8-bit RGB rows, `stride` bytes apart from `rows` on (a video writer's own
    /// buffer: ``VideoWriter/append(rgb24Rows:)``). Over any frame of this loop
    /// (`overFrame`) only the fluid's pixels are written, as every frame is the still
    /// elsewhere: at 1080p that spares two copies of the whole frame.
    public func rgb24(_ t: Int, into rows: UnsafeMutablePointer<UInt8>, stride: Int, overFrame: Bool) {
        precondition(t >= 0 && t < count && stride >= 3 * still.width)
        let rowBytes = 3 * still.width
        if !overFrame {
            still8.withUnsafeBufferPointer { still8 in
                for y in 0..<still.height { (rows + y * stride).update(from: still8.baseAddress! + y * rowBytes, count: rowBytes) }
            }
        }
        let first = t * region.count * Self.channels * bits / 8
        let grey: Int32 = still.channels < 3 ? 1 : 0
        let (c, depth, width) = (Self.channels, Int32(bits), Int32(still.width))
        let bytes = bits / 8
        let out = UncheckedSendable(rows)
        moved.withUnsafeBufferPointer { moved in stillQ.withUnsafeBufferPointer { stillQ in stillColours.withUnsafeBufferPointer { colours in
        regionAlpha.withUnsafeBufferPointer { alpha in region.withUnsafeBufferPointer { region in
            let (q, sq, s, a, r) = (UncheckedSendable(moved.baseAddress! + first), UncheckedSendable(stillQ.baseAddress!),
                                    UncheckedSendable(colours.baseAddress!), UncheckedSendable(alpha.baseAddress!),
                                    UncheckedSendable(region.baseAddress!))
            // Bands of particles write disjoint pixels.
            Parallel.forEachBand(region.count, minimumBand: 1 << 16) { band in
                let k = band.lowerBound
                strata_fluid_compose8(q.value + c * k * bytes, depth, sq.value + c * k, s.value + c * k, a.value + k, r.value + k, band.count,
                                      grey, width, stride, out.value)
            }
        } } } } }
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
            forEachStored(t) { k, i, ch, q, still, unit in
                guard ch < colours else { return }
                // A grey still's one colour in all three.
                for c in (colours == 1 ? 0..<3 : ch..<(ch + 1)) where q != stillQ[k * Self.channels + ch] {
                    pixels[c * plane + i] = Float(q) * unit
                }
            }
        }
        return layer
    }

    /// Every fluid sample of frame `t`: `body(pixel, channel, frame's value)`, the frame's
    /// being still + alpha · (fluid − still), or the still's value exactly where the fluid's
    /// colour is the still's to the stored bits (chosen without a branch: the two are mixed
    /// at random across the fluid).
    @inline(__always)
    func forEachSample(_ t: Int, colours: Int, _ body: (Int, Int, Float) -> Void) {
        stillQ.withUnsafeBufferPointer { stillQ in regionAlpha.withUnsafeBufferPointer { alpha in
            forEachStored(t) { k, i, ch, q, still, unit in
                guard ch < colours else { return }
                let mixed = still + alpha[k] * (Float(q) * unit - still)
                body(i, ch, q == stillQ[k * Self.channels + ch] ? still : mixed)
            }
        } }
    }

    /// Every stored colour of frame `t`: `body(particle, pixel, channel, stored value, the
    /// still's value, one step of the stored bits)`.
    @inline(__always)
    func forEachStored(_ t: Int, _ body: (Int, Int, Int, UInt16, Float, Float) -> Void) {
        let unit: Float = bits == 8 ? 1 / 255 : 1 / 65535
        let n = region.count * Self.channels
        moved.withUnsafeBytes { bytes in stillColours.withUnsafeBufferPointer { still in region.withUnsafeBufferPointer { region in
            if bits == 8 {
                let q = bytes.bindMemory(to: UInt8.self).baseAddress! + t * n
                for k in 0..<region.count {
                    for ch in 0..<Self.channels { body(k, Int(region[k]), ch, UInt16(q[k * Self.channels + ch]), still[k * Self.channels + ch], unit) }
                }
            } else {
                let q = bytes.bindMemory(to: UInt16.self).baseAddress! + t * n
                for k in 0..<region.count {
                    for ch in 0..<Self.channels { body(k, Int(region[k]), ch, q[k * Self.channels + ch], still[k * Self.channels + ch], unit) }
                }
            }
        } } }
    }

    /// A colour in [0, 1] to `bits` (8 or 16), rounded (out-of-range values clamped), as the
    /// C kernels store it.
    @inline(__always) static func quantized(_ v: Float, bits: Int) -> UInt16 {
        UInt16(min(max(v, 0), 1) * (bits == 8 ? 255 : 65535) + 0.5)
    }
}
