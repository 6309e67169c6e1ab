import StrataCore

/// A seamless loop from a still whose fluid moves along a static motion field (Holynski et
/// al. 2021, "Animating Pictures with Eulerian Motion Fields"). Each fluid pixel is carried
/// along the field by Euler steps, forward for frame t and backward for N − t; frame t
/// splats both and blends them with weights (N − t)/N and t/N, so frame 0 and frame N are
/// the still and the last frame leads into the first as any frame leads into the next.
/// Only pixels with alpha above 0 change; elsewhere every frame is the still, exactly.
public struct FluidLoop: Sendable {
    /// Frames in the loop (frame N would be frame 0 again).
    public let frames: Int

    /// - Throws: ``FluidError`` for a loop of fewer than two frames.
    public init(frames: Int) throws {
        guard frames >= 2 else { throw FluidError("a loop of \(frames) frame\(frames == 1 ? "" : "s") does not move: give 2 or more") }
        self.frames = frames
    }

    /// Frames 0 to N − 1 of the loop over `still` (its first three channels move; a
    /// fourth, if any, stays). `alpha`: per pixel, how much of the moving fluid shows there
    /// (the feathered fluid mask; 0 where nothing moves).
    ///
    /// Frames are rendered in contiguous runs, one per thread, each integrating its own
    /// positions from the still, so the result does not depend on the threads. Nothing is
    /// kept per frame but the output: the backward positions a run needs in reverse order
    /// are recomputed from checkpoints every √N steps.
    public func render(_ still: Image, field: MotionField, alpha: [Float]) -> [Image] {
        let (w, h) = (still.width, still.height)
        let plane = w * h
        precondition(field.width == w && field.height == h && alpha.count == plane)
        let colours = min(3, still.channels)
        // The fluid's pixels.
        let region = (0..<plane).filter { alpha[$0] > 0 }
        let colour = region.map { i in
            var c = SIMD4<Float>(0, 0, 0, 1)
            for ch in 0..<colours { c[ch] = still.pixels[ch * plane + i] }
            return c
        }
        let start = region.map { SIMD2<Float>(Float($0 % w), Float($0 / w)) }
        let n = region.count
        let checkpointEvery = max(1, Int(Double(frames).squareRoot().rounded()))
        var out = [Image?](repeating: nil, count: frames)
        let sampler = Sampler(field)
        colour.withUnsafeBufferPointer { colour in out.withUnsafeMutableBufferPointer { frameSlots in
            let results = UncheckedSendable(frameSlots.baseAddress!)
            Parallel.forEachBand(frames, minimumBand: 1, bandsPerThread: 1) { run in
                // Sums over the whole image, so a splat needs no lookup: what lands outside the
                // fluid is never read (and never cleared).
                var accumulator = [SIMD4<Float>](repeating: .zero, count: plane)
                /// Every fluid pixel's colour, times `weight`, splatted bilinearly at its
                /// position (the weights' sum in lane 3).
                func splat(_ positions: [SIMD2<Float>], weight: Float) {
                    accumulator.withUnsafeMutableBufferPointer { sums in positions.withUnsafeBufferPointer { positions in
                        for k in 0..<n {
                            let p = positions[k]
                            let (x0, y0) = (floor(p.x), floor(p.y))
                            let (ax, ay) = (p.x - Float(x0), p.y - Float(y0))
                            let c = colour[k] * weight
                            var x1 = x0 + 1
                            var x = x0
                            if field.wrap {
                                if x < 0 { x += w } else if x >= w { x -= w }
                                if x1 < 0 { x1 += w } else if x1 >= w { x1 -= w }
                            }
                            let (inX0, inX1) = (x >= 0 && x < w, x1 >= 0 && x1 < w)
                            if y0 >= 0, y0 < h {
                                if inX0 { sums[y0 * w + x] += ((1 - ax) * (1 - ay)) * c }
                                if inX1 { sums[y0 * w + x1] += (ax * (1 - ay)) * c }
                            }
                            if y0 + 1 >= 0, y0 + 1 < h {
                                if inX0 { sums[(y0 + 1) * w + x] += ((1 - ax) * ay) * c }
                                if inX1 { sums[(y0 + 1) * w + x1] += (ax * ay) * c }
                            }
                        }
                    } }
                }
                var forward = start
                for _ in 0..<run.lowerBound { sampler.advance(&forward, sign: 1) }
                // The backward steps this run needs, s = N − t, from the last down: checkpoints
                // every few steps up to the largest, then each block recomputed on entering it.
                let largest = frames - run.lowerBound
                var checkpoints: [[SIMD2<Float>]] = [start]
                var backward = start
                for s in 1...largest {
                    sampler.advance(&backward, sign: -1)
                    if s % checkpointEvery == 0 { checkpoints.append(backward) }
                }
                var block: [[SIMD2<Float>]] = []
                var blockStart = -1
                for t in run {
                    let s = frames - t
                    if s / checkpointEvery * checkpointEvery != blockStart {
                        blockStart = s / checkpointEvery * checkpointEvery
                        block = [checkpoints[s / checkpointEvery]]
                        for _ in 0..<min(checkpointEvery - 1, largest - blockStart) {
                            var next = block.last!
                            sampler.advance(&next, sign: -1)
                            block.append(next)
                        }
                    }
                    let a = Float(frames - t) / Float(frames)
                    splat(forward, weight: a)
                    if a < 1 { splat(block[s - blockStart], weight: 1 - a) }
                    var frame = still
                    frame.pixels.withUnsafeMutableBufferPointer { pixels in accumulator.withUnsafeMutableBufferPointer { sums in
                        for i in region {
                            let sum = sums[i]
                            sums[i] = .zero
                            guard sum[3] > 1e-6 else { continue }
                            // still + alpha · (moved − still): exactly the still where nothing moved.
                            for ch in 0..<colours {
                                let before = pixels[ch * plane + i]
                                pixels[ch * plane + i] = before + alpha[i] * (sum[ch] / sum[3] - before)
                            }
                        }
                    } }
                    results.value[t] = frame
                    if t + 1 < run.upperBound { sampler.advance(&forward, sign: 1) }
                }
            }
        } }
        return out.map { $0! }
    }
}

/// The field's velocity at many points: the MAC interpolation taken once at each pixel
/// centre (``MotionField/atPixels()``, the field the user sees), then one bilinear lookup
/// of both components a point, read through raw buffers (the loop asks for it about three
/// times per fluid pixel per frame).
struct Sampler: @unchecked Sendable {
    let width: Int, height: Int, wrap: Bool
    /// Per pixel, the velocity at its centre.
    let centres: [SIMD2<Float>]

    init(_ field: MotionField) {
        (width, height, wrap) = (field.width, field.height, field.wrap)
        let flow = field.atPixels()
        let plane = field.width * field.height
        centres = (0..<plane).map { SIMD2(flow.pixels[$0], flow.pixels[plane + $0]) }
    }

    /// One Euler step of every position along the field (`sign` −1: against it).
    func advance(_ positions: inout [SIMD2<Float>], sign: Float) {
        let (w, h, wrap) = (width, height, wrap)
        let span = Float(w)
        centres.withUnsafeBufferPointer { c in
            positions.withUnsafeMutableBufferPointer { p in
                for k in 0..<p.count {
                    let q = p[k]
                    let (ix, iy) = (floor(q.x), floor(q.y))
                    let (ax, ay) = (q.x - Float(ix), q.y - Float(iy))
                    var (x0, x1) = (ix, ix + 1)
                    if wrap {
                        if x0 < 0 { x0 += w } else if x0 >= w { x0 -= w }
                        if x1 < 0 { x1 += w } else if x1 >= w { x1 -= w }
                    } else {
                        x0 = min(max(x0, 0), w - 1)
                        x1 = min(max(x1, 0), w - 1)
                    }
                    let y0 = min(max(iy, 0), h - 1), y1 = min(max(iy + 1, 0), h - 1)
                    let top = c[y0 * w + x0] * (1 - ax) + c[y0 * w + x1] * ax
                    let bottom = c[y1 * w + x0] * (1 - ax) + c[y1 * w + x1] * ax
                    var next = q + sign * (top * (1 - ay) + bottom * ay)
                    // Around a panorama, back onto it.
                    if wrap { if next.x < 0 { next.x += span } else if next.x >= span { next.x -= span } }
                    p[k] = next
                }
            }
        }
    }
}

/// ⌊x⌋ as an integer without a call to floorf (positions lie within a few widths of the image).
@inline(__always) func floor(_ x: Float) -> Int {
    let t = Int(x)
    return Float(t) > x ? t - 1 : t
}
