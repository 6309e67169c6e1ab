import StrataCore
import StrataSynth
import XCTest
@testable import StrataMotion

/// Camera motion from two StrataSynth frames whose poses are exact.
final class RelativePoseTests: XCTestCase {
    /// The room seen from two points half a metre apart along the view, the second turned
    /// 4° about the vertical: the rotation's angle comes back within 0.1°, and the
    /// translation's direction within 1° of the step's (X₁ = R·X₀ + t with t = −R·c, c the
    /// second camera's centre in the first's frame: straight ahead). Measured: 3.9999° and
    /// 0.1° (320×240, 411 of 432 corners inliers). Exact correspondences (projected through
    /// the rendered depth) give 4.0000°; with RANSAC's threshold at 1 pixel, tracks at depth
    /// edges got in and gave 3.72° and 2.4°.
    func testAStepAndATurnComeBackFromTheFramesAlone() throws {
        let k = PinholeIntrinsics(horizontalFOV: 70, width: 320, height: 240)
        let start = Vector3(0.3, 1.5, -3.2)
        let first = Renderer.render(.indoorRoom, camera: Camera(model: .pinhole(k), position: start), supersampling: 1).color
        let second = Renderer.render(.indoorRoom, camera: Camera(model: .pinhole(k), position: start + Vector3(0, 0, 0.5), rotation: Rotation(yaw: 4)),
                                     supersampling: 1).color
        let pose = try RelativePose.estimate(first, second, intrinsics: k)
        XCTAssertFalse(pose.isRotationOnly, "parallax \(pose.parallax) px")
        XCTAssertGreaterThan(pose.inliers, 50, "tracked \(pose.tracked)")
        XCTAssertEqual(pose.rotationDegrees, 4, accuracy: 0.1)
        // The second camera's centre lies straight ahead of the first (+z in both conventions),
        // so t points along −z, rotated by R.
        let r = pose.rotation
        let expected = -SIMD3(r[2], r[5], r[8])
        let cosine = (pose.translation * expected).sum() / ((pose.translation * pose.translation).sum().squareRoot())
        XCTAssertGreaterThan(cosine, cos(1 * Double.pi / 180), "t \(pose.translation)")
    }

    /// The camera turning 6° (yaw) and 2° (pitch) where it stands: taken as a pure turn, with
    /// the turn's angle from the homography, and no translation; the step above is not.
    /// Rendered anti-aliased (2× supersampling): on the aliased render the tracks' noise is
    /// 0.68 pixel and the turn reads 6.01° for 6.32°; at 3× it reads within 0.02°.
    func testATurnWhereTheCameraStandsIsDetectedAndMeasured() throws {
        let k = PinholeIntrinsics(horizontalFOV: 70, width: 320, height: 240)
        let start = Vector3(0.3, 1.5, -3.2)
        let first = Renderer.render(.indoorRoom, camera: Camera(model: .pinhole(k), position: start), supersampling: 2).color
        let second = Renderer.render(.indoorRoom, camera: Camera(model: .pinhole(k), position: start, rotation: Rotation(yaw: 6, pitch: 2)),
                                     supersampling: 2).color
        let pose = try RelativePose.estimate(first, second, intrinsics: k)
        XCTAssertTrue(pose.isRotationOnly, "parallax \(pose.parallax) px")
        XCTAssertLessThan(pose.parallax, RelativePose.rotationOnlyParallax)
        // The composed turn: yaw 6° then pitch 2° about the new x axis.
        let expected = acos((Rotation(yaw: 6, pitch: 2).rows[0].x + Rotation(yaw: 6, pitch: 2).rows[1].y + Rotation(yaw: 6, pitch: 2).rows[2].z - 1) / 2) * 180 / .pi
        XCTAssertEqual(pose.rotationDegrees, expected, accuracy: 0.1)
    }

    /// Frames of another size than the camera, and a frame with nothing to track, are
    /// refused by name.
    func testMismatchedAndFeaturelessFramesAreRefused() {
        let k = PinholeIntrinsics(horizontalFOV: 60, width: 64, height: 48)
        let flat = Image(width: 64, height: 48, channels: 3, fill: 0.5)
        XCTAssertThrowsError(try RelativePose.estimate(flat, Image(width: 32, height: 48, channels: 3), intrinsics: k)) {
            XCTAssertEqual("\($0)", "the second frame is 32x48, the camera 64x48")
        }
        XCTAssertThrowsError(try RelativePose.estimate(flat, flat, intrinsics: k)) {
            XCTAssertEqual("\($0)", "only 0 corners could be tracked from one frame to the next (8 at least)")
        }
    }
}
