import Foundation
import StrataCore
import StrataSphere
import XCTest
@testable import StrataMotion

/// The cubemap rig a panorama's depth from motion goes through.
final class PanoramaStereoTests: XCTestCase {
    /// Each face's motion (the rig's, turned into the face's axes) projects a point where
    /// the face's view sees the point's direction from the rig's centre: the rig's axes
    /// are OpenCV's (y down), StrataSphere's have y up.
    func testEveryFaceSeesAPointWhereItsViewPutsItsDirection() {
        let k = PinholeIntrinsics(horizontalFOV: 110, width: 320, height: 240)
        let moved = CameraPose(rotation: TrajectoryErrorTests.turn(Vector3(0.3, 1, -0.2), degrees: 10), translation: Vector3(0.2, -0.1, 0.4))
        let rig = CameraMotion(intrinsics: k, poses: [.identity, moved], keyframes: [0, 1], points: [], pointColors: [], pointTracks: [],
                               rmsError: 0, tracks: FeatureTracks(width: 320, height: 240), isStatic: false)
        var checked = 0
        for face in CubeFace.allCases {
            let view = PerspectiveView(face: face, faceSize: 64, padding: 8)
            let motion = rig.rigged(axes: PanoramaStereo.axes(of: view), intrinsics: view.intrinsics)
            for point in [Vector3(2, 0.5, 0.3), Vector3(-1, -2, 0.5), Vector3(0.2, 0.1, -3), Vector3(-2.5, 0.4, -0.3), Vector3(0.1, 3, 0.2), Vector3(0.3, 0.2, 4)] {
                for frame in 0..<2 {
                    let inRig = rig.poses[frame]!.transform(point)
                    // The direction in StrataSphere's axes, and where the face's view puts it.
                    guard let expected = view.position(of: Vector3(inRig.x, -inRig.y, inRig.z)), view.contains(x: expected.x, y: expected.y) else {
                        XCTAssertNil(motion.project(point, frame: frame).flatMap { p in
                            view.contains(x: p.x - 0.5, y: p.y - 0.5) ? p : nil
                        }, "face \(face.letter): a point behind or beside it")
                        continue
                    }
                    let seen = motion.project(point, frame: frame)
                    XCTAssertEqual(seen?.x ?? .nan, expected.x + 0.5, accuracy: 1e-9, "face \(face.letter), frame \(frame)")
                    XCTAssertEqual(seen?.y ?? .nan, expected.y + 0.5, accuracy: 1e-9, "face \(face.letter), frame \(frame)")
                    checked += 1
                }
            }
        }
        XCTAssertGreaterThanOrEqual(checked, 12)
    }
}
