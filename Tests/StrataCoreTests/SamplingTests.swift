import XCTest
@testable import StrataCore

final class SamplingTests: XCTestCase {
    /// f(x, y) = 2x + 3y + 1 is reproduced exactly by bilinear and bicubic interpolation inside the image.
    let ramp = Image(width: 8, height: 6, channels: 1) { _, y, x in Float(2 * x + 3 * y + 1) }

    func testBilinearReproducesALinearFunction() {
        for (x, y) in [(2.25, 1.5), (3.7, 2.2), (1.0, 1.0), (4.5, 3.25)] as [(Float, Float)] {
            XCTAssertEqual(ramp.sample(channel: 0, x: x, y: y, interpolation: .bilinear), 2 * x + 3 * y + 1, accuracy: 1e-4)
        }
    }

    func testBicubicIsExactAtCentresAndMidpointsOfALinearFunction() {
        // With a = −0.75 the kernel is not linear-exact at every offset (only a = −0.5 is),
        // but by symmetry it is at pixel centres and halfway between them.
        for (x, y) in [(2.5, 1.5), (3, 2), (1.5, 3), (4.5, 2.5)] as [(Float, Float)] {
            XCTAssertEqual(ramp.sample(channel: 0, x: x, y: y, interpolation: .bicubic), 2 * x + 3 * y + 1, accuracy: 1e-4)
        }
        // Off the midpoint the a = −0.75 kernel over- and undershoots: at t = 0.25 the
        // weighted offset is −w₀ + w₂ + 2w₃ = 0.296875 (computed by hand from Keys' formula).
        XCTAssertEqual(ramp.sample(channel: 0, x: 2.25, y: 2, interpolation: .bicubic), 2 * 2.296875 + 3 * 2 + 1, accuracy: 1e-4)
    }

    func testNearestPicksTheClosestCentre() {
        XCTAssertEqual(ramp.sample(channel: 0, x: 2.49, y: 1.51, interpolation: .nearest), Float(2 * 2 + 3 * 2 + 1))
        XCTAssertEqual(ramp.sample(channel: 0, x: 2.51, y: 1.49, interpolation: .nearest), Float(2 * 3 + 3 * 1 + 1))
    }

    func testBorderModes() {
        // Clamp: outside reads the edge.
        XCTAssertEqual(ramp.sample(channel: 0, x: -3, y: 0, border: .clamp), 1)
        // Constant: outside reads the constant; halfway to it blends.
        XCTAssertEqual(ramp.sample(channel: 0, x: -3, y: 0, border: .constant(-7)), -7)
        XCTAssertEqual(ramp.sample(channel: 0, x: -0.5, y: 0, border: .constant(-7)), (1 - 7) / 2, accuracy: 1e-6)
        // Wrap: column −1 is the last column, halfway between last and first blends the two.
        XCTAssertEqual(ramp.sample(channel: 0, x: -1, y: 2, border: .wrap), Float(2 * 7 + 3 * 2 + 1))
        XCTAssertEqual(ramp.sample(channel: 0, x: 7.5, y: 0, border: .wrap), (15 + 1) / 2, accuracy: 1e-6)
        XCTAssertEqual(ramp.sample(channel: 0, x: 17, y: 0, interpolation: .nearest, border: .wrap), Float(2 * 1 + 1))
        // Rows clamp under wrap.
        XCTAssertEqual(ramp.sample(channel: 0, x: 0, y: -4, border: .wrap), 1)
    }

    func testExactHitNextToNaNStaysFinite() {
        var image = ramp
        image[0, 2, 3] = .nan
        XCTAssertEqual(image.sample(channel: 0, x: 2, y: 2), Float(2 * 2 + 3 * 2 + 1))
        XCTAssertTrue(image.sample(channel: 0, x: 2.5, y: 2).isNaN)
    }

    func testRemapSamplesEveryChannelAtTheSameTaps() {
        let image = Image.stacking([ramp, Image(width: 8, height: 6, channels: 1) { _, y, x in Float(x * y) }])
        // A map that shifts by half a pixel right and mirrors vertically.
        var mx = [Float](), my = [Float]()
        for y in 0..<6 { for x in 0..<7 { mx.append(Float(x) + 0.5); my.append(Float(5 - y)) } }
        let out = image.remap(mapX: mx, mapY: my, width: 7, height: 6)
        for y in 0..<6 {
            for x in 0..<7 {
                XCTAssertEqual(out[0, y, x], 2 * (Float(x) + 0.5) + 3 * Float(5 - y) + 1, accuracy: 1e-4)
                XCTAssertEqual(out[1, y, x], (Float(x) + 0.5) * Float(5 - y), accuracy: 1e-4)
            }
        }
    }

    func testCubicWeightsSumToOneAndInterpolate() {
        for t in stride(from: Float(0), through: 1, by: 0.125) {
            let w = Cubic.weights(t)
            XCTAssertEqual(w.0 + w.1 + w.2 + w.3, 1, accuracy: 1e-6)
        }
        let w0 = Cubic.weights(0)
        XCTAssertEqual([w0.0, w0.1, w0.2, w0.3], [0, 1, 0, 0])
        // OpenCV's coefficient at t = 0.5 with a = −0.75: (−0.09375, 0.59375, 0.59375, −0.09375).
        let half = Cubic.weights(0.5)
        XCTAssertEqual(half.0, -0.09375, accuracy: 1e-6)
        XCTAssertEqual(half.1, 0.59375, accuracy: 1e-6)
    }
}
