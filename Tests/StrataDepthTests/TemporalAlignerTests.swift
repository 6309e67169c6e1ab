import StrataCore
import XCTest
@testable import StrataDepth

final class TemporalAlignerTests: XCTestCase {
    /// A fixed scene's disparity, seen by each frame under its own scale and shift.
    let truth = Image(width: 24, height: 16, channels: 1) { _, y, x in 0.2 + Float((x * 7 + y * 13) % 29) / 10 }
    let fits: [(scale: Double, shift: Double)] = [(2, 0.1), (0.5, -0.3), (3.25, 1.5), (1, 0), (0.8, 0.25)]

    func frame(_ k: Int) -> DepthMap {
        let (s, t) = (Float(fits[k].scale), Float(fits[k].shift))
        return DepthMap(values: Image(width: 24, height: 16, channels: 1, pixels: truth.pixels.map { ($0 - t) / s }), kind: .inverseRelative)
    }

    func testAKnownPerFrameScaleAndShiftIsRecoveredExactly() throws {
        var aligner = TemporalAligner(smoothing: 0.5)
        let first = try aligner.align(frame(0))
        // The reference is normalised to 0…1 over its range.
        let (lo, hi) = (truth.pixels.min()!, truth.pixels.max()!)
        for (a, g) in zip(first.values.pixels, truth.pixels) { XCTAssertEqual(a, (g - lo) / (hi - lo), accuracy: 1e-5) }
        for k in 1..<fits.count {
            let aligned = try aligner.align(frame(k))
            // Frame k maps onto frame 0's scale: x_k·s_k + t_k = x_0·s_0 + t_0, then the normalisation.
            let scale = fits[k].scale / fits[0].scale, shift = (fits[k].shift - fits[0].shift) / fits[0].scale
            let span = Double(hi - lo) / fits[0].scale, low = (Double(lo) - fits[0].shift) / fits[0].scale
            XCTAssertEqual(aligner.lastFit.scale, scale / span, accuracy: 1e-6 * scale / span, "frame \(k)")
            XCTAssertEqual(aligner.lastFit.shift, (shift - low) / span, accuracy: 1e-6, "frame \(k)")
            for (a, b) in zip(aligned.values.pixels, first.values.pixels) { XCTAssertEqual(a, b, accuracy: 1e-5) }
        }
    }

    func testLowConfidencePixelsStayOutOfTheFit() throws {
        var aligner = TemporalAligner(minimumConfidence: 0.5, smoothing: 0)
        _ = try aligner.align(frame(0))
        // A moving object (garbage values) in the next frame, marked unconfident.
        var next = frame(1)
        var confidence = Image(width: 24, height: 16, channels: 1, fill: 1)
        for y in 0..<6 { for x in 0..<8 { next[y, x] = 40; confidence[0, y, x] = 0.1 } }
        let aligned = try aligner.align(next, confidence: confidence)
        let expected = try { var a = TemporalAligner(smoothing: 0); _ = try a.align(frame(0)); return try a.align(frame(1)) }()
        XCTAssertEqual(aligned[10, 20], expected[10, 20], accuracy: 1e-5)
        // Without the confidence, the outliers drag the fit away.
        var blind = TemporalAligner(smoothing: 0)
        _ = try blind.align(frame(0))
        XCTAssertGreaterThan(abs(try blind.align(next)[10, 20] - expected[10, 20]), 0.01)
        XCTAssertThrowsError(try aligner.align(DepthMap(values: Image(width: 4, height: 4, channels: 1), kind: .inverseRelative)))
    }

    func testFlickerIsZeroForAStillSequenceAndGrowsWithJitter() throws {
        let image = Image(width: 24, height: 16, channels: 3, fill: 0.4)
        var still = FlickerMeter(), jittery = FlickerMeter()
        XCTAssertNil(still.flicker)
        for k in 0..<4 {
            still.add(DepthMap(values: truth, kind: .inverseRelative), image: image)
            let wobble = Float(k % 2 == 0 ? 1.1 : 0.9)
            jittery.add(DepthMap(values: Image(width: 24, height: 16, channels: 1, pixels: truth.pixels.map { $0 * wobble }), kind: .inverseRelative), image: image)
        }
        XCTAssertEqual(still.flicker, 0)
        XCTAssertEqual(still.framePairs, 3)
        // Each pair changes by 0.2 of the previous level (1.1 → 0.9) or 0.2/0.9 (0.9 → 1.1).
        XCTAssertEqual(jittery.flicker!, (0.2 / 1.1 + 0.2 / 0.9 + 0.2 / 1.1) / 3, accuracy: 1e-5)
        // Aligning the jittery sequence removes the flicker.
        var aligner = TemporalAligner(smoothing: 0), aligned = FlickerMeter()
        for k in 0..<4 {
            let wobble = Float(k % 2 == 0 ? 1.1 : 0.9)
            aligned.add(try aligner.align(DepthMap(values: Image(width: 24, height: 16, channels: 1, pixels: truth.pixels.map { $0 * wobble }), kind: .inverseRelative)), image: image)
        }
        XCTAssertLessThan(aligned.flicker!, 1e-5)
    }
}
