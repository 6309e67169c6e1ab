import StrataCore
import XCTest
@testable import StrataFluid

/// The motion field and the loop on grids whose answer is known: one arrow moves the whole
/// fluid its way, anchors and the fluid's edge hold still, the projection leaves no
/// divergence, and a uniform flow over a periodic texture gives frames shifted exactly.
final class FluidTests: XCTestCase {
    static func rectangle(_ w: Int, _ h: Int, x: Range<Int>, y: Range<Int>) -> [Bool] {
        (0..<(w * h)).map { x.contains($0 % w) && y.contains($0 / w) }
    }

    func testOneArrowMovesTheWholeFluidItsWayAndNothingElse() throws {
        let (w, h) = (40, 30)
        let fluid = Self.rectangle(w, h, x: 5..<35, y: 10..<25)
        let hint = MotionHint(start: [10, 12], end: [14, 15], speed: 2)
        let field = try MotionField.densify([hint], fluid: fluid, width: w, height: h)
        for y in 0..<h {
            for x in 0..<w {
                let i = y * w + x
                XCTAssertEqual(field.openRight[i], fluid[i] && x + 1 < w && fluid[i + 1])
                XCTAssertEqual(field.openDown[i], fluid[i] && y + 1 < h && fluid[i + w])
                XCTAssertEqual(field.u[i], field.openRight[i] ? 1.6 : 0, accuracy: 1e-6, "(\(x), \(y))")
                XCTAssertEqual(field.v[i], field.openDown[i] ? 1.2 : 0, accuracy: 1e-6, "(\(x), \(y))")
            }
        }
        XCTAssertEqual(field.velocity(x: 20, y: 17), SIMD2(1.6, 1.2))
        XCTAssertEqual(field.velocity(x: 2, y: 2), .zero, "no flow outside the fluid")
    }

    /// Halfway between two arrows of equal reach the flow is their mean; near one, its own.
    func testArrowsBlendByDistance() throws {
        let (w, h) = (64, 16)
        let fluid = [Bool](repeating: true, count: w * h)
        let hints = [MotionHint(start: [8, 8], end: [9, 8], speed: 1, radius: 6), MotionHint(start: [56, 8], end: [56, 9], speed: 1, radius: 6)]
        let field = try MotionField.densify(hints, fluid: fluid, width: w, height: h)
        // The v face of pixel 32 lies at (32, 8.5), halfway: equal weights. The u face of
        // pixel 31 at (31.5, 8): 23.5 and 24.5 from the arrows, weights exp(−d²/72).
        XCTAssertEqual(field.v[8 * w + 32], 0.5, accuracy: 1e-6)
        let (a, b) = (exp(-23.5 * 23.5 / 72), exp(-24.5 * 24.5 / 72))
        XCTAssertEqual(Double(field.u[8 * w + 31]), a / (a + b), accuracy: 1e-6)
        XCTAssertEqual(field.u[8 * w + 8], 1, accuracy: 1e-6)
        XCTAssertEqual(field.v[8 * w + 56], 1, accuracy: 1e-6)
        // Far from both, the nearest wins instead of 0/0.
        let far = try MotionField.densify(hints, fluid: fluid, width: w, height: h, sigma: 0.5)
        XCTAssertEqual(far.u[8 * w + 2], 1, accuracy: 1e-6)
    }

    /// With depth, an arrow's speed holds at its start's distance and falls as 1/distance
    /// beyond: water twice as far moves half the pixels a frame.
    func testWithDepthFarWaterMovesFewerPixels() throws {
        let (w, h) = (32, 40)
        let fluid = [Bool](repeating: true, count: w * h)
        // Distance 2 m on the lowest rows rising to 8 m at the top (a water plane seen from above it).
        let distance = (0..<(w * h)).map { Float(8 - 6 * Double($0 / w) / Double(h - 1)) }
        let hint = MotionHint(start: [16, 39], end: [20, 39], speed: 2)
        let field = try MotionField.densify([hint], fluid: fluid, width: w, height: h, distance: distance)
        XCTAssertEqual(field.u[39 * w + 16], 2, accuracy: 1e-5, "the arrow's own speed at its start (2 m)")
        XCTAssertEqual(Double(field.u[0 * w + 16]), 2 * 2 / 8, accuracy: 1e-5, "at 8 m, a quarter")
        XCTAssertThrowsError(try MotionField.densify([hint], fluid: fluid, width: w, height: h, distance: [Float](repeating: 0, count: w * h))) { error in
            XCTAssertEqual("\(error)", "hint 1 starts at (16.0, 39.0), where the depth is 0.0: a positive distance is needed")
        }
    }

    func testAnAnchorHoldsStillAndTheFlowComesBackAroundIt() throws {
        let (w, h) = (48, 32)
        let fluid = [Bool](repeating: true, count: w * h)
        let anchor = MotionAnchor(position: [24, 16], radius: 4)
        let field = try MotionField.densify([MotionHint(start: [4, 4], end: [8, 4], speed: 1)], anchors: [anchor], fluid: fluid, width: w, height: h)
        XCTAssertEqual(field.velocity(x: 24, y: 16), .zero)
        for (x, y) in [(24, 16), (23, 16)] { XCTAssertFalse(field.openRight[y * w + x]) }
        for (x, y) in [(24, 16), (24, 15)] { XCTAssertFalse(field.openDown[y * w + x]) }
        XCTAssertLessThan(field.velocity(x: 27, y: 16).x, field.velocity(x: 40, y: 16).x)
        XCTAssertEqual(field.velocity(x: 40, y: 16).x, 1, accuracy: 1e-3)
    }

    func testBadHintsEmptyMasksAndOneFrameLoopsAreRefused() {
        let fluid = [Bool](repeating: true, count: 100)
        XCTAssertThrowsError(try MotionField.densify([MotionHint(start: [1, 1], end: [3, 1], speed: 1), MotionHint(start: [4, 4], end: [4, 4], speed: 1)],
                                                     fluid: fluid, width: 10, height: 10)) { error in
            XCTAssertEqual("\(error)", "hint 2 (4.0, 4.0) → (4.0, 4.0) has zero length: its direction is unknown")
            XCTAssertEqual((error as? FluidError)?.exitCode, 65)
        }
        XCTAssertThrowsError(try MotionField.densify([MotionHint(start: [1, 1], end: [3, 1], speed: 1)], fluid: [Bool](repeating: false, count: 100), width: 10, height: 10)) { error in
            XCTAssertEqual("\(error)", "the fluid mask is empty: nothing would move")
        }
        XCTAssertThrowsError(try MotionField.densify([], fluid: fluid, width: 10, height: 10))
        XCTAssertThrowsError(try FluidLoop(frames: 1)) { error in
            XCTAssertEqual("\(error)", "a loop of 1 frame does not move: give 2 or more")
        }
    }

    /// A swirl in a closed pool with a rock in it: after the projection no cell gains or
    /// loses fluid (divergence at most 1e-3 of the field's RMS), the walls stay closed, and
    /// the swirl survives (a uniform flow into a wall would not: it is all gradient).
    func testTheProjectionLeavesNoDivergenceAndKeepsTheWalls() throws {
        let (w, h) = (64, 48)
        let fluid = Self.rectangle(w, h, x: 4..<60, y: 4..<44)
        let hints = [MotionHint(start: [32, 10], end: [36, 10], speed: 1), MotionHint(start: [54, 24], end: [54, 28], speed: 1),
                     MotionHint(start: [32, 38], end: [28, 38], speed: 1), MotionHint(start: [10, 24], end: [10, 20], speed: 1)]
        let field = try MotionField.densify(hints, anchors: [MotionAnchor(position: [40, 30], radius: 3)], fluid: fluid, width: w, height: h)
        let projected = field.divergenceFree()
        let rms = { (f: MotionField) in ((zip(f.u, f.v).reduce(0.0) { $0 + Double($1.0 * $1.0 + $1.1 * $1.1) }) / Double(fluid.filter { $0 }.count)).squareRoot() }
        let before = field.divergence().map { abs($0) }.max()!
        let after = projected.divergence().map { abs($0) }.max()!
        XCTAssertGreaterThan(Double(before), 0.05 * rms(field), "the densified swirl has divergence to remove")
        XCTAssertLessThanOrEqual(Double(after), 1e-3 * rms(projected))
        XCTAssertGreaterThan(rms(projected), 0.3 * rms(field), "the swirl survives")
        for i in 0..<(w * h) {
            if !field.openRight[i] { XCTAssertEqual(projected.u[i], 0) }
            if !field.openDown[i] { XCTAssertEqual(projected.v[i], 0) }
        }
        XCTAssertEqual(projected.velocity(x: 40, y: 30), .zero, "the rock stays a rock")
    }

    /// A stream across the picture: with the image's border open it keeps flowing (it is
    /// divergence-free already, leaving one side as it enters the other); with the border
    /// a wall, nothing can (a uniform flow in a closed channel is all gradient).
    func testAStreamRunsOutOfThePictureThroughAnOpenBorder() throws {
        let (w, h) = (64, 24)
        let fluid = Self.rectangle(w, h, x: 0..<w, y: 6..<18)
        let field = try MotionField.densify([MotionHint(start: [10, 12], end: [20, 12], speed: 1)], fluid: fluid, width: w, height: h)
        let open = field.divergenceFree()
        XCTAssertEqual(open.velocity(x: 32, y: 12).x, 1, accuracy: 1e-3)
        XCTAssertEqual(open.velocity(x: 2, y: 8).x, 1, accuracy: 1e-3)
        let inner = open.divergence().enumerated().filter { $0.offset % w > 0 && $0.offset % w < w - 1 }.map { abs($0.element) }
        XCTAssertLessThanOrEqual(inner.max()!, 1e-3)
        XCTAssertEqual(field.divergenceFree(openBorders: false).velocity(x: 32, y: 12).x, 0, accuracy: 1e-3)
    }

    /// A band flowing right at one pixel a frame over stripes of period 12, wrapping like a
    /// panorama, in a 12-frame loop: frame t is the still shifted t pixels right (the forward
    /// splat shifts by t, the backward by t − 12, the same on this period), everything
    /// outside the band is the still exactly, and the last frame leads into the first as
    /// each leads into the next.
    func testAUniformFlowShiftsTheFluidAndTheLoopCloses() throws {
        let (w, h, n) = (48, 20, 12)
        let still = Image(width: w, height: h, channels: 3) { c, y, x in Float((x + 3 * c) % 12) / 11 * 0.8 + Float(y) / 100 }
        let fluid = Self.rectangle(w, h, x: 0..<w, y: 5..<15)
        let field = try MotionField.densify([MotionHint(start: [10, 10], end: [20, 10], speed: 1)], fluid: fluid, width: w, height: h, wrap: true)
        let frames = try FluidLoop(frames: n).render(still, field: field, alpha: fluid.map { $0 ? 1 : 0 }).all
        XCTAssertEqual(frames.count, n)
        XCTAssertEqual(frames[0], still)
        let plane = w * h
        for (t, frame) in frames.enumerated() {
            for c in 0..<3 {
                for y in 0..<h {
                    for x in 0..<w {
                        let expected = fluid[y * w + x] ? still.pixels[c * plane + y * w + (x - t + w) % w] : still.pixels[c * plane + y * w + x]
                        if fluid[y * w + x] {
                            XCTAssertEqual(frame.pixels[c * plane + y * w + x], expected, accuracy: 1e-5, "frame \(t) (\(x), \(y))")
                        } else {
                            XCTAssertEqual(frame.pixels[c * plane + y * w + x], expected, "outside the fluid, exactly the still")
                        }
                    }
                }
            }
        }
        func difference(_ a: Image, _ b: Image) -> Float { zip(a.pixels, b.pixels).reduce(0) { $0 + abs($1.0 - $1.1) } / Float(a.pixels.count) }
        let steps = (0..<(n - 1)).map { difference(frames[$0], frames[$0 + 1]) }
        XCTAssertEqual(difference(frames[n - 1], frames[0]), steps.reduce(0, +) / Float(steps.count), accuracy: 1e-4)
    }

    /// A field that is not uniform: the loop still closes (the last frame is as close to the
    /// first as neighbours are to each other) and outside the fluid nothing changes.
    func testASwirlLoopsSeamlessly() throws {
        let (w, h, n) = (64, 48, 16)
        let still = Image(width: w, height: h, channels: 3) { c, y, x in 0.5 + 0.4 * sin(Float(x) * 0.4 + Float(c)) * cos(Float(y) * 0.3) }
        let fluid = Self.rectangle(w, h, x: 4..<60, y: 4..<44)
        let hints = [MotionHint(start: [32, 10], end: [36, 10], speed: 0.8), MotionHint(start: [54, 24], end: [54, 28], speed: 0.8),
                     MotionHint(start: [32, 38], end: [28, 38], speed: 0.8), MotionHint(start: [10, 24], end: [10, 20], speed: 0.8)]
        let field = try MotionField.densify(hints, fluid: fluid, width: w, height: h).divergenceFree()
        let frames = try FluidLoop(frames: n).render(still, field: field, alpha: fluid.map { $0 ? 1 : 0 }).all
        func difference(_ a: Image, _ b: Image) -> Float { zip(a.pixels, b.pixels).reduce(0) { $0 + abs($1.0 - $1.1) } / Float(a.pixels.count) }
        let steps = (0..<(n - 1)).map { difference(frames[$0], frames[$0 + 1]) }
        let seam = difference(frames[n - 1], frames[0])
        XCTAssertGreaterThan(steps.min()!, 0, "every frame moves")
        XCTAssertLessThanOrEqual(seam, 1.5 * steps.max()!)
        XCTAssertGreaterThanOrEqual(seam, 0.5 * steps.min()!)
        for frame in frames {
            for i in 0..<(w * h) where !fluid[i] { XCTAssertEqual(frame.pixels[i], still.pixels[i]) }
        }
        // Rendered in runs of frames, each from its own positions, each run's particles in
        // two halves: the same frames on one thread, and in two, three or seven runs (each
        // recomputing blocks of backward positions that start mid-block).
        let saved = Parallel.maxThreads
        defer { Parallel.maxThreads = saved }
        Parallel.maxThreads = 1
        let loop = try FluidLoop(frames: n)
        XCTAssertEqual(loop.render(still, field: field, alpha: fluid.map { $0 ? 1 : 0 }).all, frames)
        Parallel.maxThreads = saved
        let stored = loop.render(still, field: field, alpha: fluid.map { $0 ? 1 : 0 }, bits: 16, runs: 1).moved
        for runs in [2, 3, 7] {
            XCTAssertTrue(loop.render(still, field: field, alpha: fluid.map { $0 ? 1 : 0 }, bits: 16, runs: runs).moved == stored, "\(runs) runs")
        }
    }
}
