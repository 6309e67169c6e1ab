import Foundation
import StrataCore
import XCTest
@testable import StrataMotion

/// Metric scale from the camera's height above the ground: the ground plane found among the
/// sparse points, in closed form on a synthetic room.
final class GroundScaleTests: XCTestCase {
    /// World to camera for a camera at `centre` pitched `pitch` degrees down (camera axes:
    /// x right, y down, z forward).
    func pose(at centre: Vector3, pitch: Double) -> CameraPose {
        let a = pitch * .pi / 180
        // Rows of R: turning the view down about x.
        let rotation = [1, 0, 0, 0, cos(a), -sin(a), 0, sin(a), cos(a)]
        let r = CameraPose(rotation: rotation, translation: .zero)
        return CameraPose(rotation: rotation, translation: -r.rotated(centre))
    }

    func motion(points: [Vector3], poses: [CameraPose?]) -> CameraMotion {
        let k = PinholeIntrinsics(horizontalFOV: 70, width: 320, height: 240)
        return CameraMotion(intrinsics: k, poses: poses, keyframes: Array(poses.indices), points: points,
                            pointColors: points.map { _ in SIMD3(0, 0, 0) }, pointTracks: points.indices.map { Int32($0) },
                            rmsError: 0, tracks: FeatureTracks(width: 320, height: 240), isStatic: false)
    }

    /// A floor 2 units below cameras that walk along z (pitched 8° down, one frame not
    /// placed), with more points on the ceiling than on the floor, a wall and stray points:
    /// the floor is the ground, and 1.6 m of camera height is 0.8 m a unit, exactly.
    func testTheFloorBelowTheCamerasSetsTheScale() throws {
        var seed: UInt64 = 7
        func random() -> Double {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            return Double(seed >> 11) / Double(1 << 53)
        }
        let floor = (0..<60).map { _ in Vector3(6 * random() - 3, 2, 1 + 7 * random()) }
        let ceiling = (0..<80).map { _ in Vector3(6 * random() - 3, -1.5, 1 + 7 * random()) }
        let wall = (0..<40).map { _ in Vector3(3, 3.5 * random() - 1.5, 1 + 7 * random()) }
        let stray = (0..<15).map { _ in Vector3(6 * random() - 3, 3.5 * random() - 1.5, 1 + 7 * random()) }
        let poses: [CameraPose?] = (0..<6).map { $0 == 3 ? nil : pose(at: Vector3(0.1 * Double($0 % 2), 0, 0.3 * Double($0)), pitch: 8) }
        let walk = motion(points: floor + ceiling + wall + stray, poses: poses)
        XCTAssertEqual(try XCTUnwrap(walk.groundHeight()), 2, accuracy: 1e-9)
        XCTAssertEqual(try XCTUnwrap(walk.metresPerUnit(cameraHeight: 1.6)), 0.8, accuracy: 1e-9)
        // Scaled by it, the cameras stand 1.6 m above the floor.
        XCTAssertEqual(try XCTUnwrap(walk.scaled(by: 0.8).groundHeight()), 1.6, accuracy: 1e-9)

        // No floor among the points: no ground, so no scale (walls are not ground, and the
        // ceiling is above the cameras).
        XCTAssertNil(motion(points: ceiling + wall + stray, poses: poses).metresPerUnit(cameraHeight: 1.6))
        // Too few points, or no height.
        XCTAssertNil(motion(points: Array(floor.prefix(8)), poses: poses).metresPerUnit(cameraHeight: 1.6))
        XCTAssertNil(walk.metresPerUnit(cameraHeight: 0))
    }
}
