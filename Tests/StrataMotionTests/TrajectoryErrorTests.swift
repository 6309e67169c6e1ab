import StrataCore
import XCTest
@testable import StrataMotion

/// The trajectory error and the pose algebra it rests on, against closed forms.
final class TrajectoryErrorTests: XCTestCase {
    /// A turn about an axis by an angle, as a row-major matrix (Rodrigues).
    static func turn(_ axis: Vector3, degrees: Double) -> [Double] {
        let a = axis.unit, t = degrees * .pi / 180, (c, s) = (cos(t), sin(t))
        return [c + a.x * a.x * (1 - c), a.x * a.y * (1 - c) - a.z * s, a.x * a.z * (1 - c) + a.y * s,
                a.y * a.x * (1 - c) + a.z * s, c + a.y * a.y * (1 - c), a.y * a.z * (1 - c) - a.x * s,
                a.z * a.x * (1 - c) - a.y * s, a.z * a.y * (1 - c) + a.x * s, c + a.z * a.z * (1 - c)]
    }

    /// A path, and the same path seen in another world (turned, moved, at half the scale):
    /// no error, and the scale comes back as 2. Each camera's angle and quaternion match the
    /// turn it was made with.
    func testAPathInAnotherFrameAndScaleHasNoError() throws {
        let truth = (0..<6).map { i in
            CameraPose(rotation: Self.turn(Vector3(0.2, 1, 0.1), degrees: Double(3 * i)),
                       translation: Vector3(0.1 * Double(i), -0.05 * Double(i * i), 0.3))
        }
        // World′ = ½ · G · world + g, so a camera's pose becomes R · Gᵀ and its centre ½ G c + g.
        let g = CameraPose(rotation: Self.turn(Vector3(1, -0.5, 0.3), degrees: 40), translation: Vector3(2, -1, 0.5))
        let estimated = truth.map { pose -> CameraPose? in
            let r = CameraPose(rotation: pose.rotation, translation: .zero).relative(to: CameraPose(rotation: g.rotation, translation: .zero)).rotation
            let centre = g.rotated(pose.centre) * 0.5 + g.translation
            let turned = CameraPose(rotation: r, translation: .zero)
            return CameraPose(rotation: r, translation: -turned.rotated(centre))
        }
        let error = try TrajectoryError(estimated, truth: truth)
        XCTAssertEqual(error.absolute, 0, accuracy: 1e-9)
        XCTAssertEqual(error.scale, 2, accuracy: 1e-9)
        XCTAssertEqual(error.rotationDegrees, 0, accuracy: 1e-6)
        XCTAssertEqual(error.rotationDriftDegrees, 0, accuracy: 1e-6)
        XCTAssertEqual(error.frames, 6)
        XCTAssertEqual(truth[5].angleDegrees, 15, accuracy: 1e-9)
        // A 15° turn about a unit axis a: q = (cos 7.5°, sin 7.5° · a).
        let q = truth[5].quaternion, a = Vector3(0.2, 1, 0.1).unit, h = 7.5 * Double.pi / 180
        XCTAssertEqual(q.w, cos(h), accuracy: 1e-12)
        XCTAssertEqual(q.x, sin(h) * a.x, accuracy: 1e-12)
        XCTAssertEqual(q.y, sin(h) * a.y, accuracy: 1e-12)
        XCTAssertEqual(q.z, sin(h) * a.z, accuracy: 1e-12)
    }

    /// One camera moved by 3 cm and one turned by 1° more: the ATE's root mean square and
    /// maximum, and the frame-to-frame turn errors, come out as their closed forms.
    func testKnownErrorsAreMeasured() throws {
        let truth = (0..<4).map { i in CameraPose(rotation: Self.turn(Vector3(0, 1, 0), degrees: Double(i)), translation: Vector3(Double(i), 0, 0)) }
        var estimated: [CameraPose?] = truth
        estimated[3] = CameraPose(rotation: Self.turn(Vector3(0, 1, 0), degrees: 4), translation: truth[3].translation)
        let error = try TrajectoryError(estimated, truth: truth)
        // The turns from 2 to 3 is 1° off; the others exact: mean 1/3°, drift 1°.
        XCTAssertEqual(error.rotationDegrees, 1.0 / 3, accuracy: 1e-9)
        XCTAssertEqual(error.rotationDriftDegrees, 1, accuracy: 1e-9)
        XCTAssertGreaterThan(error.absolute, 0)
        XCTAssertLessThanOrEqual(error.absolute, error.maximum)
        XCTAssertThrowsError(try TrajectoryError([nil, truth[1], truth[2]], truth: truth)) {
            XCTAssertEqual("\($0)", "2 frames with both poses: three at least to align")
        }
    }
}
