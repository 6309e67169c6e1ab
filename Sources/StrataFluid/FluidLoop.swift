import CStrataKernels
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
    /// Steps over which each copy fades in from its holes. Where fluid enters the region
    /// (an inflowing edge, the image border), the forward copy has nothing; where it leaves,
    /// the backward copy has nothing. A particle that left (or would leave) the region within
    /// k of these steps going backward (for the forward copy) or forward (for the backward
    /// copy) weighs (k + 1)/(fade + 1), so the other copy takes over gradually, not at a seam.
    /// 0: every particle weighs the same.
    public let fade: Int
    /// How much the field moves itself from frame to frame, 0…1. At 0 it is static (the
    /// Eulerian field of Holynski et al.). Above, frame t's field is the field carried
    /// along by itself (semi-Lagrangian advection, as in Stable Fluids) for t steps, each
    /// step keeping this much of the carried field and taking the rest from the hints'
    /// field, blended with the same carried N − t steps back in time by t/N, as the loop
    /// blends its frames: eddies and ripples drift downstream, and frame N's field is frame 0's.
    public let evolve: Float

    /// - Parameters:
    ///   - fade: steps of the fade at the holes; nil: N/4.
    ///   - evolve: how much the field moves itself, 0 (static) to 1.
    /// - Throws: ``FluidError`` for a loop of fewer than two frames.
    public init(frames: Int, fade: Int? = nil, evolve: Float = 0) throws {
        guard frames >= 2 else { throw FluidError("a loop of \(frames) frame\(frames == 1 ? "" : "s") does not move: give 2 or more") }
        guard evolve >= 0, evolve <= 1 else { throw FluidError("evolve is \(evolve): give 0 (a static field) to 1") }
        self.frames = frames
        self.fade = max(0, fade ?? frames / 4)
        self.evolve = evolve
    }

    /// Frames 0 to N − 1 of the loop over `still` (its first three channels move; a
    /// fourth, if any, stays). `alpha`: per pixel, how much of the moving fluid shows there
    /// (the feathered fluid mask; 0 where nothing moves).
    ///
    /// Frames are rendered in contiguous runs, one per thread, from positions integrated
    /// with the particles split across the threads, so the result does not depend on the
    /// threads (nor on the instruction set: ``KernelISA``): every particle takes the same
    /// steps. Nothing is kept per frame but the fluid layer's colours: the backward
    /// positions a run needs in reverse order are recomputed from checkpoints every √N steps.
    /// - Parameter bits: the stored colours' depth, 16 or 8 (for an 8-bit still: what it
    ///   loses is below its own step, and the store is half as large).
    public func render(_ still: Image, field: MotionField, alpha: [Float], bits: Int = 16) -> FluidFrames {
        precondition(bits == 8 || bits == 16)
        let (w, h) = (still.width, still.height)
        let plane = w * h
        precondition(field.width == w && field.height == h && alpha.count == plane)
        let colours = min(3, still.channels)
        // The fluid's pixels, their colours (the fourth lane 1, to sum the splats' weights)
        // and their positions.
        let region = (0..<plane).filter { alpha[$0] > 0 }.map { Int32($0) }
        let n = region.count
        var colour = [Float](repeating: 1, count: 4 * n)
        for (k, i) in region.enumerated() {
            for ch in 0..<3 { colour[4 * k + ch] = ch < colours ? still.pixels[ch * plane + Int(i)] : 0 }
        }
        let start = Particles(x: region.map { Float(Int($0) % w) }, y: region.map { Float(Int($0) / w) })
        let checkpointEvery = max(1, Int(Double(frames).squareRoot().rounded()))
        let inside = alpha.map { $0 > 0 ? UInt8(1) : 0 }
        let stepper = Stepper(field, frames: frames, evolve: evolve, inside: inside)
        // Each particle's weight in the forward copy and in the backward one (nil: all 1):
        // from frame 0 back in time for the forward copy, on from it for the backward one.
        var forwardWeights: [Float]?, backwardWeights: [Float]?
        if fade > 0, n > 0 {
            func weights(_ sign: Float) -> [Float] {
                let fields = stepper.fields(from: sign > 0 ? 0 : frames, steps: fade, sign: sign)
                var steps = [Int32](repeating: 0, count: n)
                let chunk = 1 << 14
                steps.withUnsafeMutableBufferPointer { steps in
                    let out = UncheckedSendable(steps.baseAddress!)
                    Parallel.forEachBand((n + chunk - 1) / chunk, minimumBand: 1) { chunks in
                        let range = (chunks.lowerBound * chunk)..<min(n, chunks.upperBound * chunk)
                        start.x.withUnsafeBufferPointer { x in start.y.withUnsafeBufferPointer { y in
                            strata_fluid_exit_steps(x.baseAddress! + range.lowerBound, y.baseAddress! + range.lowerBound, range.count,
                                                    Int32(fade), inside, fields, stepper.width, stepper.height, stepper.wrap, sign,
                                                    stepper.isa.rawValue, out.value + range.lowerBound)
                        } }
                    }
                }
                return steps.map { Float($0 + 1) / Float(fade + 1) }
            }
            forwardWeights = weights(-1)
            backwardWeights = weights(1)
        }
        // The runs of frames, one a thread. What they share is computed first with the
        // particles split across the threads, so no step is taken twice: each run's first
        // forward positions, and the backward positions every few steps from frame N.
        let threads = min(Parallel.threadCount, frames)
        let runs = (0..<threads).map { r in (r * frames / threads)..<((r + 1) * frames / threads) }
        let checkpointCount = frames / checkpointEvery + 1
        var checkpoints = Particles(count: checkpointCount * n)
        var runStarts = Particles(count: threads * n)
        checkpoints.x.withUnsafeMutableBufferPointer { cx in checkpoints.y.withUnsafeMutableBufferPointer { cy in
        runStarts.x.withUnsafeMutableBufferPointer { rx in runStarts.y.withUnsafeMutableBufferPointer { ry in
        start.x.withUnsafeBufferPointer { sx in start.y.withUnsafeBufferPointer { sy in
            let (cx, cy, rx, ry) = (UncheckedSendable(cx.baseAddress!), UncheckedSendable(cy.baseAddress!), UncheckedSendable(rx.baseAddress!),
                                    UncheckedSendable(ry.baseAddress!))
            let (sx, sy) = (UncheckedSendable(sx.baseAddress!), UncheckedSendable(sy.baseAddress!))
            let chunk = 1 << 14
            Parallel.forEachBand((n + chunk - 1) / chunk, minimumBand: 1) { chunks in
                let range = (chunks.lowerBound * chunk)..<min(n, chunks.upperBound * chunk)
                /// Row `row` of `(x, y)` from the row before, `steps` steps on from frame `f`.
                func next(_ x: UnsafeMutablePointer<Float>, _ y: UnsafeMutablePointer<Float>, row: Int, from f: Int, steps: Int, sign: Float) {
                    let (to, from) = (row * n + range.lowerBound, (row - 1) * n + range.lowerBound)
                    (x + to).update(from: x + from, count: range.count)
                    (y + to).update(from: y + from, count: range.count)
                    stepper.trace(x: x + to, y: y + to, count: range.count, from: f, steps: steps, sign: sign)
                }
                for (x, y) in [(cx.value, cy.value), (rx.value, ry.value)] {
                    (x + range.lowerBound).update(from: sx.value + range.lowerBound, count: range.count)
                    (y + range.lowerBound).update(from: sy.value + range.lowerBound, count: range.count)
                }
                for c in 1..<checkpointCount {
                    next(cx.value, cy.value, row: c, from: frames - (c - 1) * checkpointEvery, steps: checkpointEvery, sign: -1)
                }
                for r in 1..<threads {
                    next(rx.value, ry.value, row: r, from: runs[r - 1].lowerBound, steps: runs[r].lowerBound - runs[r - 1].lowerBound, sign: 1)
                }
            }
        } } } } } }
        let stride = n * FluidFrames.channels * bits / 8
        // Huge pages: a 4K loop writes 1.8 GB here in 16 bits, and a fault and a zeroed page
        // per 4 KiB cost more than the rendering (a fifth of it in this VM).
        let moved = [UInt8](largeCount: frames * stride) { buffer in
            guard n > 0 else { return }
            let out = UncheckedSendable(buffer.baseAddress!)
            Parallel.forEachBand(threads, minimumBand: 1, bandsPerThread: 1) { runIndices in
              for r in runIndices {
                let run = runs[r]
                // Sums over the whole image, so a splat needs no lookup: what lands outside
                // the fluid is never read (and never cleared).
                var sums = [Float](largeCount: 4 * plane) { $0.initialize(repeating: 0) }
                var forward = Particles(x: Array(runStarts.x[(r * n)..<((r + 1) * n)]), y: Array(runStarts.y[(r * n)..<((r + 1) * n)]))
                // The backward steps this run needs, s = N − t, from the last down: each
                // block of them recomputed (all its steps kept) from its checkpoint on entering it.
                let largest = frames - run.lowerBound
                var block = Particles(count: checkpointEvery * n)
                var blockStart = -1
                for t in run {
                    let s = frames - t
                    if s / checkpointEvery * checkpointEvery != blockStart {
                        blockStart = s / checkpointEvery * checkpointEvery
                        let first = s / checkpointEvery * n
                        block.x.replaceSubrange(0..<n, with: checkpoints.x[first..<(first + n)])
                        block.y.replaceSubrange(0..<n, with: checkpoints.y[first..<(first + n)])
                        stepper.trace(&block, count: n, from: frames - blockStart, keepingSteps: min(checkpointEvery - 1, largest - blockStart), sign: -1)
                    }
                    // Forward at weight (N − t)/N, backward at t/N, normalised to 16-bit
                    // colours; where neither copy reached, the still's colour.
                    let a = Float(frames - t) / Float(frames)
                    let row = (s - blockStart) * n
                    block.x.withUnsafeBufferPointer { bx in block.y.withUnsafeBufferPointer { by in
                        strata_fluid_splat(forward.x, forward.y, a, forwardWeights, a < 1 ? bx.baseAddress! + row : nil, by.baseAddress! + row,
                                           1 - a, backwardWeights, n, colour, &sums, Int32(w), Int32(h), field.wrap ? 1 : 0)
                    } }
                    strata_fluid_resolve(&sums, region, colour, n, out.value + t * stride, Int32(bits))
                    if t + 1 < run.upperBound { stepper.trace(&forward, from: t, steps: 1, sign: 1) }
                }
              }
            }
        }
        return FluidFrames(still: still, alpha: alpha, region: region, moved: moved, bits: bits, count: frames)
    }
}

/// Particles' positions, x and y apart (as the vector kernels read them).
struct Particles {
    var x: [Float], y: [Float]

    init(x: [Float], y: [Float]) { (self.x, self.y) = (x, y) }

    /// `count` particles at (0, 0), on huge pages when many.
    init(count: Int) {
        x = [Float](largeCount: count) { $0.initialize(repeating: 0) }
        y = [Float](largeCount: count) { $0.initialize(repeating: 0) }
    }
}

/// Euler steps along the field's velocity at the pixel centres (``MotionField/atPixels()``,
/// the field the user sees), read bilinearly by the kernel of ``KernelISA/selected``: one
/// field, or with ``FluidLoop/evolve`` one a frame.
final class Stepper: @unchecked Sendable {
    let width: Int32, height: Int32, wrap: Int32
    let isa = KernelISA.selected
    /// Frames in the loop: the fields repeat with this period.
    let frames: Int
    /// The velocity at each pixel centre, (right, down) pairs (a lookup reads both at once):
    /// one field, or one per frame, back to back. Never moved, so the kernels can be handed
    /// pointers into it.
    let storage: UnsafeMutableBufferPointer<Float>
    let fieldCount: Int

    init(_ field: MotionField, frames: Int, evolve: Float = 0, inside: [UInt8]) {
        (width, height, wrap) = (Int32(field.width), Int32(field.height), field.wrap ? 1 : 0)
        self.frames = frames
        let flow = field.atPixels()
        let plane = field.width * field.height
        let uv = (0..<(2 * plane)).map { flow.pixels[($0 & 1) * plane + $0 >> 1] }
        fieldCount = evolve > 0 ? frames : 1
        storage = .allocate(capacity: fieldCount * 2 * plane)
        _ = storage.initialize(from: uv)
        guard evolve > 0 else { return }
        // A_t: carried t steps forward, into slot t; then B_k, carried k steps back in time,
        // blended into slot N − k as v_{N−k} = (k/N)·A_{N−k} + (1 − k/N)·B_k.
        let (w, h, wrapped) = (Int32(field.width), Int32(field.height), Int32(field.wrap ? 1 : 0))
        func carried(_ from: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, sign: Float) {
            let (source, target) = (UncheckedSendable(from), UncheckedSendable(out))
            inside.withUnsafeBufferPointer { inside in
                let mask = UncheckedSendable(inside.baseAddress!)
                Parallel.forEachBand(field.height, minimumBand: 8) { rows in
                    strata_fluid_advect_field(source.value, target.value, w, h, wrapped, sign, mask.value, Int32(rows.lowerBound), Int32(rows.upperBound))
                }
            }
            for i in 0..<(2 * plane) { out[i] = evolve * out[i] + (1 - evolve) * uv[i] }
        }
        let base = storage.baseAddress!
        for t in 1..<frames { carried(base + (t - 1) * 2 * plane, into: base + t * 2 * plane, sign: 1) }
        var back = uv, next = uv
        for k in 1..<frames {
            back.withUnsafeBufferPointer { b in next.withUnsafeMutableBufferPointer { carried(b.baseAddress!, into: $0.baseAddress!, sign: -1) } }
            swap(&back, &next)
            let slot = base + (frames - k) * 2 * plane
            let a = Float(k) / Float(frames)
            for i in 0..<(2 * plane) { slot[i] = a * slot[i] + (1 - a) * back[i] }
        }
    }

    deinit { storage.deallocate() }

    /// Frame `f`'s field (frames taken round the loop).
    func field(_ f: Int) -> UnsafePointer<Float> {
        UnsafePointer(storage.baseAddress! + (fieldCount == 1 ? 0 : ((f % frames) + frames) % frames) * 2 * Int(width) * Int(height))
    }

    /// The field of each of `steps` steps from frame `f`: forward, step j goes from frame
    /// f + j to f + j + 1 and moves by frame f + j's field; back in time (`sign` −1), from
    /// f − j to f − j − 1, undoing frame f − j − 1's.
    func fields(from f: Int, steps: Int, sign: Float) -> [UnsafePointer<Float>?] {
        (0..<steps).map { j in field(sign > 0 ? f + j : f - j - 1) }
    }

    /// `steps` Euler steps of every particle from frame `f` (`sign` −1: back in time).
    func trace(_ particles: inout Particles, from f: Int, steps: Int, sign: Float) {
        guard steps > 0 else { return }
        let count = particles.x.count
        strata_fluid_trace(&particles.x, &particles.y, count, count, Int32(steps), 0, fields(from: f, steps: steps, sign: sign),
                           width, height, wrap, sign, isa.rawValue)
    }

    /// `steps` Euler steps of the `count` particles at `x`, `y` from frame `f`.
    func trace(x: UnsafeMutablePointer<Float>, y: UnsafeMutablePointer<Float>, count: Int, from f: Int, steps: Int, sign: Float) {
        guard steps > 0 else { return }
        strata_fluid_trace(x, y, count, count, Int32(steps), 0, fields(from: f, steps: steps, sign: sign), width, height, wrap, sign, isa.rawValue)
    }

    /// Rows 1…`steps` of `rows` (each `count` particles, x and y apart) become row 0 after
    /// that many steps from frame `f`.
    func trace(_ rows: inout Particles, count: Int, from f: Int, keepingSteps steps: Int, sign: Float) {
        guard steps > 0 else { return }
        strata_fluid_trace(&rows.x, &rows.y, count, count, Int32(steps), 1, fields(from: f, steps: steps, sign: sign),
                           width, height, wrap, sign, isa.rawValue)
    }
}
