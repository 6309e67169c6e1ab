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
    /// Frames are rendered in contiguous runs, one per two threads: each run's particles are
    /// split into two fixed halves, each splatted into sums of its own and the two added as
    /// the frame resolves. Every particle takes the same steps however the work is split, so
    /// the result does not depend on the threads (nor on the instruction set:
    /// ``KernelISA``). Nothing is kept per frame but the fluid layer's colours: the backward
    /// positions a run needs in reverse order are recomputed from checkpoints every √N
    /// steps, one block of them at a time, held once for both halves.
    /// - Parameter bits: the stored colours' depth, 16 or 8 (for an 8-bit still: what it
    ///   loses is below its own step, and the store is half as large).
    public func render(_ still: Image, field: MotionField, alpha: [Float], bits: Int = 16) -> FluidFrames {
        render(still, field: field, alpha: alpha, bits: bits, runs: nil)
    }

    /// ``render(_:field:alpha:bits:)`` in `runs` runs of frames (nil: one per two threads);
    /// the frames are the same for any number.
    func render(_ still: Image, field: MotionField, alpha: [Float], bits: Int, runs runCount: Int?) -> FluidFrames {
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
        let start = ParticleRows(rows: 1, count: n)
        for (k, i) in region.enumerated() { (start.x(0)[k], start.y(0)[k]) = (Float(Int(i) % w), Float(Int(i) / w)) }
        let checkpointEvery = max(1, Int(Double(frames).squareRoot().rounded()))
        let inside = alpha.map { $0 > 0 ? UInt8(1) : 0 }
        let stepper = Stepper(field, frames: frames, evolve: evolve, inside: inside)
        // Particles are stepped in chunks split across the threads.
        let chunk = 1 << 14
        func forEachChunk(_ body: (Range<Int>) -> Void) {
            Parallel.forEachBand((n + chunk - 1) / chunk, minimumBand: 1) { chunks in
                body((chunks.lowerBound * chunk)..<min(n, chunks.upperBound * chunk))
            }
        }
        // Each particle's weight in the forward copy and in the backward one (nil: all 1):
        // from frame 0 back in time for the forward copy, on from it for the backward one.
        var forwardWeights: [Float]?, backwardWeights: [Float]?
        if fade > 0, n > 0 {
            func weights(_ sign: Float) -> [Float] {
                let fields = stepper.fields(from: sign > 0 ? 0 : frames, steps: fade, sign: sign)
                var steps = [Int32](repeating: 0, count: n)
                steps.withUnsafeMutableBufferPointer { steps in
                    let out = UncheckedSendable(steps.baseAddress!)
                    forEachChunk { range in
                        strata_fluid_exit_steps(start.x(0) + range.lowerBound, start.y(0) + range.lowerBound, range.count, Int32(fade), inside,
                                                fields, stepper.width, stepper.height, stepper.wrap, sign, stepper.isa.rawValue,
                                                out.value + range.lowerBound)
                    }
                }
                return steps.map { Float($0 + 1) / Float(fade + 1) }
            }
            forwardWeights = weights(-1)
            backwardWeights = weights(1)
        }
        // What the runs share is computed first with the particles split across the
        // threads, so no step is taken twice: each run's first forward positions, and the
        // backward positions every few steps from frame N (checkpoint c, c ≥ 1, in row c − 1;
        // checkpoint 0 is the start).
        let runCount = max(1, min(frames, runCount ?? Parallel.threadCount / 2))
        let runs = (0..<runCount).map { r in (r * frames / runCount)..<((r + 1) * frames / runCount) }
        let checkpoints = ParticleRows(rows: frames / checkpointEvery, count: n)
        let forward = ParticleRows(rows: runCount, count: n)
        forEachChunk { range in
            /// `to`'s row `row` as `from`'s row `source`, `steps` steps on from frame `f`.
            func next(_ to: ParticleRows, _ row: Int, from: ParticleRows, _ source: Int, frame f: Int, steps: Int, sign: Float) {
                let (x, y) = (to.x(row) + range.lowerBound, to.y(row) + range.lowerBound)
                x.update(from: from.x(source) + range.lowerBound, count: range.count)
                y.update(from: from.y(source) + range.lowerBound, count: range.count)
                stepper.trace(x: x, y: y, count: range.count, stride: n, from: f, steps: steps, keeping: false, sign: sign)
            }
            next(forward, 0, from: start, 0, frame: 0, steps: 0, sign: 1)
            for r in 1..<runCount {
                next(forward, r, from: forward, r - 1, frame: runs[r - 1].lowerBound, steps: runs[r].lowerBound - runs[r - 1].lowerBound, sign: 1)
            }
            for c in 1...max(1, checkpoints.rows) where c <= checkpoints.rows {
                next(checkpoints, c - 1, from: c == 1 ? start : checkpoints, c == 1 ? 0 : c - 2, frame: frames - (c - 1) * checkpointEvery,
                     steps: checkpointEvery, sign: -1)
            }
        }
        // The splats' sums cover only the fluid's rows: what lands elsewhere is never read.
        let rows = n == 0 ? 0..<0 : (Int(region[0]) / w)..<(Int(region[n - 1]) / w + 1)
        let sumsCount = 4 * w * rows.count
        let halves = [0..<(n / 2), (n / 2)..<n]
        let jobs = runCount * halves.count
        let stride = n * FluidFrames.channels * bits / 8
        // Huge pages: a 4K loop writes 1.8 GB here in 16 bits, and a fault and a zeroed page
        // per 4 KiB cost more than the rendering (a fifth of it in this VM).
        let moved = [UInt8](largeCount: frames * stride) { buffer in
            guard n > 0 else { return }
            let out = UncheckedSendable(buffer.baseAddress!)
            // Per run and half, the sums (zeroed by the thread that will use them); per run,
            // the block of backward positions, s = N − t, from the last down, each block
            // recomputed from its checkpoint (all its steps kept) on entering it.
            let sums = ParticleRows(rows: jobs, count: sumsCount)
            let blocks = ParticleRows(rows: runCount * checkpointEvery, count: n)
            Parallel.forEachBand(jobs, minimumBand: 1, bandsPerThread: 1) { jobs in
                for j in jobs { sums.x(j).initialize(repeating: 0, count: sumsCount) }
            }
            let largest = runs.map(\.count).max()!
            (forwardWeights ?? []).withUnsafeBufferPointer { fw in (backwardWeights ?? []).withUnsafeBufferPointer { bw in
            colour.withUnsafeBufferPointer { colour in region.withUnsafeBufferPointer { region in
                let (fw, bw) = (UncheckedSendable(forwardWeights == nil ? nil : fw.baseAddress), UncheckedSendable(backwardWeights == nil ? nil : bw.baseAddress))
                let (colour, region) = (UncheckedSendable(colour.baseAddress!), UncheckedSendable(region.baseAddress!))
                for i in 0..<largest {
                    Parallel.forEachBand(jobs, minimumBand: 1, bandsPerThread: 1) { jobs in
                        for j in jobs {
                            let (r, half) = (j / halves.count, halves[j % halves.count])
                            let t = runs[r].lowerBound + i
                            guard t < runs[r].upperBound, !half.isEmpty else { continue }
                            let s = frames - t
                            let blockStart = s / checkpointEvery * checkpointEvery
                            let block = r * checkpointEvery
                            let (k, count) = (half.lowerBound, half.count)
                            if i == 0 || (s + 1) / checkpointEvery * checkpointEvery != blockStart {
                                let (c, source) = (blockStart / checkpointEvery, blockStart == 0 ? start : checkpoints)
                                blocks.x(block).advanced(by: k).update(from: source.x(max(0, c - 1)) + k, count: count)
                                blocks.y(block).advanced(by: k).update(from: source.y(max(0, c - 1)) + k, count: count)
                                stepper.trace(x: blocks.x(block) + k, y: blocks.y(block) + k, count: count, stride: n, from: frames - blockStart,
                                              steps: min(checkpointEvery - 1, frames - runs[r].lowerBound - blockStart), keeping: true, sign: -1)
                            }
                            // Forward at weight (N − t)/N, backward at t/N.
                            let a = Float(frames - t) / Float(frames)
                            let back = block + s - blockStart
                            strata_fluid_splat(forward.x(r) + k, forward.y(r) + k, a, fw.value.map { $0 + k },
                                               a < 1 ? blocks.x(back) + k : nil, blocks.y(back) + k, 1 - a, bw.value.map { $0 + k }, count,
                                               colour.value + 4 * k, sums.x(j), Int32(w), Int32(rows.lowerBound), Int32(rows.count), stepper.wrap)
                            if t + 1 < runs[r].upperBound {
                                stepper.trace(x: forward.x(r) + k, y: forward.y(r) + k, count: count, stride: n, from: t, steps: 1, keeping: false, sign: 1)
                            }
                        }
                    }
                    // The halves' sums added, normalised to the stored colours; where neither
                    // copy reached, the still's colour. Each half resolves its own pixels.
                    Parallel.forEachBand(jobs, minimumBand: 1, bandsPerThread: 1) { jobs in
                        for j in jobs {
                            let (r, half) = (j / halves.count, halves[j % halves.count])
                            let t = runs[r].lowerBound + i
                            guard t < runs[r].upperBound, !half.isEmpty else { continue }
                            let first = r * halves.count
                            strata_fluid_resolve(sums.x(first), sums.x(first + 1), rows.lowerBound * w, region.value + half.lowerBound,
                                                 colour.value + 4 * half.lowerBound, half.count,
                                                 out.value + t * stride + half.lowerBound * stride / n, Int32(bits))
                        }
                    }
                }
            } } } }
        }
        return FluidFrames(still: still, alpha: alpha, region: region, moved: moved, bits: bits, count: frames)
    }
}

/// Rows of particles' positions, x and y apart (as the vector kernels read them), on huge
/// pages when large. Not initialised: every row is written (copied into or traced) before
/// it is read. Never moved, so the kernels are handed pointers into it.
final class ParticleRows: @unchecked Sendable {
    let rows: Int, count: Int
    private let xs: UnsafeMutablePointer<Float>, ys: UnsafeMutablePointer<Float>

    init(rows: Int, count: Int) {
        (self.rows, self.count) = (rows, count)
        let size = max(1, rows * count)
        xs = .allocate(capacity: size)
        ys = .allocate(capacity: size)
        HugePages.advise(UnsafeMutableRawPointer(xs), bytes: size * MemoryLayout<Float>.stride)
        HugePages.advise(UnsafeMutableRawPointer(ys), bytes: size * MemoryLayout<Float>.stride)
    }

    deinit {
        xs.deallocate()
        ys.deallocate()
    }

    /// Row `row`'s x coordinates.
    func x(_ row: Int) -> UnsafeMutablePointer<Float> { xs + row * count }
    /// Row `row`'s y coordinates.
    func y(_ row: Int) -> UnsafeMutablePointer<Float> { ys + row * count }
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

    /// `steps` Euler steps of the `count` particles at `x`, `y` from frame `f` (`sign` −1:
    /// back in time); `keeping` them, each step's positions go one row of `stride` further
    /// on, rows 1…`steps`, and row 0 stays.
    func trace(x: UnsafeMutablePointer<Float>, y: UnsafeMutablePointer<Float>, count: Int, stride: Int, from f: Int, steps: Int,
               keeping: Bool, sign: Float) {
        guard steps > 0, count > 0 else { return }
        strata_fluid_trace(x, y, count, stride, Int32(steps), keeping ? 1 : 0, fields(from: f, steps: steps, sign: sign), width, height,
                           wrap, sign, isa.rawValue)
    }
}
