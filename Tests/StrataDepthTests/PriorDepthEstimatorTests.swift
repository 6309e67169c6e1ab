import Foundation
import StrataCore
import StrataSynth
import XCTest
@testable import StrataDepth

/// The built-in prior against the two trivial guesses, on StrataSynth scenes with exact depth.
final class PriorDepthEstimatorTests: XCTestCase {
    struct Case {
        var name: String
        var scene: Scene
        var camera: Camera
    }

    static let cases: [Case] = [
        Case(name: "street", scene: .outdoorStreet,
             camera: Camera(model: .pinhole(PinholeIntrinsics(horizontalFOV: 70, width: 192, height: 144)), position: Vector3(0, 1.6, -16))),
        Case(name: "indoor", scene: .indoorRoom,
             camera: Camera(model: .pinhole(PinholeIntrinsics(horizontalFOV: 75, width: 192, height: 144)), position: Vector3(0.3, 1.5, -3.2),
                            rotation: Rotation(yaw: 10))),
        Case(name: "water", scene: .waterfront,
             camera: Camera(model: .pinhole(PinholeIntrinsics(horizontalFOV: 75, width: 192, height: 108)), position: Vector3(0, 2.5, -10),
                            rotation: Rotation(yaw: 0, pitch: -8))),
        Case(name: "indoor panorama", scene: .indoorRoom,
             camera: Camera(model: .equirectangular(width: 256, height: 128), position: Vector3(0, 1.5, 0))),
    ]

    /// Scores after least-squares scale and shift in disparity (the protocol of the field),
    /// latitude-weighted for panoramas.
    func score(_ disparity: DepthMap, _ truth: DepthMap, panorama: Bool) -> DepthMetrics {
        DepthEvaluation.evaluate(disparity, against: truth,
                                 options: DepthEvaluationOptions(alignment: .scaleShift, maxDepth: 80, latitudeWeighted: panorama))
    }

    func testPriorBeatsConstantAndRampOnEveryScene() throws {
        for c in Self.cases {
            let render = Renderer.render(c.scene, camera: c.camera, supersampling: 1)
            let truth = render.depth
            let panorama = c.camera.projection == .equirectangular
            let estimate = try PriorDepthEstimator().estimate(render.color, projection: c.camera.projection)
            XCTAssertEqual(estimate.depth.kind, .inverseRelative)
            XCTAssertEqual(estimate.depth.quantity, panorama ? .rayDistance : .zDepth)
            XCTAssertEqual(estimate.depth.width, truth.width)
            XCTAssertTrue(estimate.confidence.pixels.allSatisfy { $0 >= 0 && $0 <= 1 })
            let prior = score(estimate.depth, truth, panorama: panorama)
            // The best constant disparity is the mean of the true one; a ramp grows from the top row to the bottom.
            let valid = truth.values.pixels.filter { $0.isFinite && $0 > 0 && $0 <= 80 }
            let meanDisparity = valid.reduce(0) { $0 + 1 / $1 } / Float(valid.count)
            let constant = DepthMap(values: Image(width: truth.width, height: truth.height, channels: 1, fill: meanDisparity), kind: .inverseRelative)
            let ramp = DepthMap(values: Image(width: truth.width, height: truth.height, channels: 1) { _, y, _ in (Float(y) + 0.5) / Float(truth.height) },
                                kind: .inverseRelative)
            let flat = score(constant, truth, panorama: panorama), sloped = score(ramp, truth, panorama: panorama)
            print(String(format: "%@: prior AbsRel %.3f δ1 %.3f | constant %.3f %.3f | ramp %.3f %.3f", c.name,
                         prior.absRel, prior.delta1, flat.absRel, flat.delta1, sloped.absRel, sloped.delta1))
            // Margins: AbsRel at most 0.6× the better baseline's, δ1 at least 0.1 above it.
            // Measured: street 0.088 / 0.888 against 0.541 / 0.365, indoor 0.075 / 0.956
            // against 0.269 / 0.407, water 0.156 / 0.799 against 0.400 / 0.629, indoor
            // panorama 0.111 / 0.815 against 0.308 / 0.310.
            XCTAssertLessThan(prior.absRel, 0.6 * min(flat.absRel, sloped.absRel), "\(c.name): AbsRel")
            XCTAssertGreaterThan(prior.delta1, max(flat.delta1, sloped.delta1) + 0.1, "\(c.name): δ1")
        }
    }
}

/// Where the prior cannot tell its layout (no vanishing lines, a ground whose colour varies
/// from patch to patch, as real floors and roads do), it falls back to the ground prior.
final class PriorFallbackTests: XCTestCase {
    func testAnUnsurePriorIsTheGroundRampNotAWallAtTheCamerasFeet() {
        // Blocks of random colours: no two neighbours share a colour, so the ground's growth
        // from the bottom border stops at once (the horizon is what the blocks' corners vote).
        let (w, h, block) = (96, 72, 6)
        var seed: UInt64 = 7
        let colours = (0..<((w / block) * (h / block) * 3)).map { _ -> Float in
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            return Float(seed >> 40 & 0xFF) / 255
        }
        let image = Image(width: w, height: h, channels: 3) { c, y, x in colours[((y / block) * (w / block) + x / block) * 3 + c] }
        let prior = PopUpPrior(image)
        let (layout, horizon) = (prior.layout(), prior.horizon())
        // Below the horizon the disparity grows towards the camera in every column, as the
        // ground's does. The layout before the fallback stood everything on the bottom row:
        // one disparity for the whole lower part of most columns.
        XCTAssertLessThan(horizon.row, Float(h - 4))
        for x in 0..<w {
            for y in (Int(horizon.row) + 1)..<(h - 1) {
                XCTAssertGreaterThan(layout.disparity.pixels[(y + 1) * w + x], layout.disparity.pixels[y * w + x], "(\(x), \(y))")
            }
        }
        // And the confidence says it is a guess: below what the same horizon gives a trusted
        // layout (the ground's 0.9 times the horizon's certainty), by at least a quarter.
        XCTAssertLessThan(layout.confidence.pixels.max()!, 0.75 * 0.9 * (0.5 + 0.5 * horizon.confidence))
    }
}

/// The room box's ceiling height: the columns' median where they agree, a common room's
/// where they scatter or are too few, and in between a geometric blend.
final class CeilingHeightTests: XCTestCase {
    func testAgreeingColumnsGiveTheirMedianScatteredOnesACommonRoom() {
        let tight = (0..<40).map { 1.2 + 0.002 * Double($0) }          // quartiles within 3%
        XCTAssertEqual(RoomBoxPrior.ceilingHeight(tight), tight.sorted()[20], accuracy: 1e-12)
        let scattered = (0..<40).map { 0.3 * pow(20, Double($0) / 39) }  // 0.3 to 6: log spread 1.5
        XCTAssertEqual(RoomBoxPrior.ceilingHeight(scattered), 0.7, accuracy: 1e-12)
        XCTAssertEqual(RoomBoxPrior.ceilingHeight([1.5, 1.6, 1.4]), 0.7, "too few columns")
        XCTAssertEqual(RoomBoxPrior.ceilingHeight([]), 0.7)
        // A log spread of 0.9 (between 0.6 and 1.2) trusts the median by half.
        let between = (0..<40).map { 2 * exp(1.8 * (Double($0) / 39 - 0.5)) }
        let sorted = between.sorted(), spread = log(sorted[30] / sorted[10])
        let trust = (1.2 - spread) / 0.6
        XCTAssertGreaterThan(trust, 0.1)
        XCTAssertLessThan(trust, 0.9)
        XCTAssertEqual(RoomBoxPrior.ceilingHeight(between), exp(trust * log(sorted[20]) + (1 - trust) * log(0.7)), accuracy: 1e-12)
    }
}

final class EstimatorContractTests: XCTestCase {
    func testBatchesEqualFramesOneByOneAndTinyFramesAreRefusedByName() throws {
        let frames = (0..<2).map { k in Image(width: 40, height: 30, channels: 3) { c, y, x in Float((x + y * k + c) % 7) / 7 } }
        let prior = PriorDepthEstimator(workingSize: 32)
        let batch = try prior.estimate(frames, projection: .unknown)
        XCTAssertEqual(batch.count, 2)
        for (frame, estimate) in zip(frames, batch) {
            XCTAssertEqual(estimate.depth.values.pixels, try prior.estimate(frame, projection: .unknown).depth.values.pixels)
        }
        let (result, timing) = try prior.estimateTimed(frames[0], projection: .unknown)
        XCTAssertEqual(result.depth.width, 40)
        XCTAssertGreaterThan(timing.preprocessing + timing.inference + timing.postprocessing, 0)
        XCTAssertThrowsError(try prior.estimate(Image(width: 1, height: 5, channels: 3), projection: .unknown)) { error in
            XCTAssertTrue("\(error)".contains("1x5"), "\(error)")
        }
    }
}

final class HorizonTests: XCTestCase {
    func testVanishingPointOfDrawnLinesGivesTheHorizon() {
        // Dark lines on grey converging on (120, 50) in a 192×144 image, as a road's edges and
        // a corridor's would.
        let (vx, vy) = (120.0, 50.0)
        var image = Image(width: 192, height: 144, channels: 3, fill: 0.6)
        for angle in Swift.stride(from: 20.0, through: 340.0, by: 27.0) where abs(cos(angle * .pi / 180)) > 0.3 && abs(sin(angle * .pi / 180)) > 0.2 {
            let (dx, dy) = (cos(angle * .pi / 180), sin(angle * .pi / 180))
            for t in Swift.stride(from: 15.0, to: 300, by: 0.25) {
                let x = Int((vx + dx * t).rounded()), y = Int((vy + dy * t).rounded())
                // Three pixels wide, as edges are after the working-size resize.
                for yy in (y - 1)...(y + 1) where yy >= 0 && yy < 144 {
                    for xx in (x - 1)...(x + 1) where xx >= 0 && xx < 192 {
                        for c in 0..<3 { image[c, yy, xx] = 0.1 }
                    }
                }
            }
        }
        let horizon = PopUpPrior(image).horizon()
        XCTAssertEqual(Double(horizon.row), 50, accuracy: 2)
        XCTAssertGreaterThan(horizon.confidence, 0.3)
        // No straight edges: no vote, the centre row and no confidence.
        let flat = PopUpPrior(Image(width: 64, height: 48, channels: 3, fill: 0.5)).horizon()
        XCTAssertEqual(flat.row, 24)
        XCTAssertEqual(flat.confidence, 0)
    }
}
