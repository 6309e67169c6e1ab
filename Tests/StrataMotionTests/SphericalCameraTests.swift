import Foundation
import StrataCore
import StrataIO
import StrataSynth
import XCTest
@testable import StrataMotion

/// The spherical camera model a 360° video's motion is recovered on: rays, not pixels.
final class SphericalCameraTests: XCTestCase {
    /// The panorama's centre looks straight ahead (+z), a quarter turn right is +x, the
    /// upper half is −y (OpenCV's y points down); every pixel comes back from its ray.
    func testARayAndItsPixelAreOneAnother() {
        let sphere = SphericalCamera(width: 1024, height: 512)
        func close(_ a: Vector3, _ b: Vector3) -> Bool { ((a - b) * (a - b)).sum() < 1e-24 }
        XCTAssertTrue(close(sphere.bearing(SIMD2(512, 256)), Vector3(0, 0, 1)))
        XCTAssertTrue(close(sphere.bearing(SIMD2(768, 256)), Vector3(1, 0, 0)))
        XCTAssertTrue(close(sphere.bearing(SIMD2(0, 256)), Vector3(0, 0, -1)))
        XCTAssertTrue(close(sphere.bearing(SIMD2(512, 128)), Vector3(0, -0.5.squareRoot(), 0.5.squareRoot())))
        for (x, y) in [(3.25, 7.5), (511.5, 300.75), (1000.125, 500.5), (640.0, 10.0)] {
            let back = sphere.pixel(of: 2.5 * sphere.bearing(SIMD2(Float(x), Float(y))))
            XCTAssertEqual(back.x, x, accuracy: 1e-4)
            XCTAssertEqual(back.y, y, accuracy: 1e-4)
        }
        XCTAssertEqual(SphericalCamera(width: 1024, height: 512).pixelsPerRadian, 1024 / (2 * .pi), accuracy: 1e-12)
        // One degree off the ray, in pixels of the equator.
        let off = Vector3(sin(.pi / 180), 0, cos(.pi / 180))
        XCTAssertEqual(sphere.error(3 * off, SIMD2(512, 256)), sphere.pixelsPerRadian * .pi / 180, accuracy: 1e-9)
    }

    /// Points all around the camera (behind and beside it too, where a pinhole sees
    /// nothing), a step and a turn, and a fifth of the pairs mismatched: the pose comes back
    /// exactly (the step's direction with its sign, which only the points ahead along both
    /// rays tell), and the inliers are the true pairs.
    func testTheRelativePoseComesFromRaysAllAround() throws {
        // Directions on a Fibonacci sphere, distances 2…6 m; a mismatched pair's second ray
        // is another point's.
        let count = 300
        func direction(_ i: Int) -> Vector3 {
            let z = 1 - 2 * (Double(i) + 0.5) / Double(count), r = (1 - z * z).squareRoot(), a = Double(i) * 2.399963229728653
            return Vector3(r * cos(a), r * sin(a), z)
        }
        let rotation = TrajectoryErrorTests.turn(Vector3(0.2, 1, 0.1), degrees: 12)
        let second = CameraPose(rotation: rotation, translation: .zero)
        let centre = Vector3(0.4, -0.1, -0.3)
        let moved = CameraPose(rotation: rotation, translation: -second.rotated(centre))
        var rays0: [Vector3] = [], rays1: [Vector3] = [], truth: [Bool] = []
        for i in 0..<count {
            let x = direction(i) * (2 + 4 * Double((i * 37) % 101) / 100)
            rays0.append(x.unit)
            let outlier = i % 5 == 0
            rays1.append(outlier ? moved.rotated(direction((i * 7 + 150) % count)) : moved.transform(x).unit)
            truth.append(!outlier)
        }
        XCTAssertGreaterThan(rays0.filter { $0.z < 0 }.count, 100, "points behind the camera")
        let found = try XCTUnwrap(try SphericalCamera.relativePose(rays0, rays1, threshold: 0.5, pixelsPerRadian: 1024 / (2 * .pi)))
        for i in 0..<9 { XCTAssertEqual(found.pose.rotation[i], rotation[i], accuracy: 1e-9, "R[\(i)]") }
        let expected = moved.translation.unit
        XCTAssertLessThan((found.pose.translation - expected).norm, 1e-9, "t \(found.pose.translation) for \(expected)")
        XCTAssertEqual(found.inliers, truth)
    }

    /// The StrataSynth walk through the room filmed by a 360° camera (`walk360.mp4`, 12
    /// frames of 1024×512, from Tools/make_motion_fixtures.sh), tracked in the panorama
    /// itself: every frame placed, the centres within 1% of the path's length of the truth
    /// after the best similarity, the turns within 0.1°, and each point seen where its rays
    /// were. Measured: 0.24% and 0.017°, 348 points at 0.22 px (the forward view's path:
    /// 0.26% and 0.083°).
    func testAWalkFilmedIn360IsRecoveredOnRays() throws {
        let url = Bundle.module.url(forResource: "walk360", withExtension: "mp4", subdirectory: "Fixtures")!
        let reader = try VideoReader(url: url)
        let tracker = FeatureTracker(width: 1024, height: 512)
        while let frame = try reader.nextFrame() { try tracker.add(frame.image.grayscale()) }
        let tracks = tracker.tracks
        XCTAssertEqual(tracks.frames.count, 12)
        let motion = try CameraMotion.reconstruct(panorama: tracks)
        XCTAssertEqual(motion.projection, .equirect)
        XCTAssertFalse(motion.isStatic)
        XCTAssertEqual(motion.poses.compactMap { $0 }.count, 12)
        let truth = (0..<12).map { f -> CameraPose in
            let pose = CameraPath.roomWalk.camera(at: Double(f) / 11, model: .equirectangular(width: 1024, height: 512)).openCVPose
            return CameraPose(rotation: pose.rotation, translation: pose.translation)
        }
        let error = try TrajectoryError(motion.poses, truth: truth)
        let length = zip(truth.dropFirst(), truth).reduce(0) { $0 + ($1.0.centre - $1.1.centre).norm }
        XCTAssertLessThan(error.absolute / length, 0.01, "ATE \(error.absolute) m over \(length) m")
        XCTAssertLessThan(error.rotationDegrees, 0.1)
        XCTAssertLessThan(motion.rmsError, 0.5)
        var checked = 0
        for (p, x) in motion.points.enumerated().prefix(60) {
            for f in motion.keyframes {
                let frame = tracks.frames[f]
                guard let i = frame.ids.firstIndex(of: motion.pointTracks[p]), let pose = motion.poses[f] else { continue }
                XCTAssertLessThan(SphericalCamera(width: 1024, height: 512).error(pose.transform(x), frame.points[i]), 1.0, "point \(p) in frame \(f)")
                checked += 1
            }
        }
        XCTAssertGreaterThan(checked, 60)
        XCTAssertThrowsError(try motion.colmapModel { "\($0)" }) {
            XCTAssertEqual("\($0)", "a 360° camera's motion has no COLMAP model: COLMAP has no spherical camera")
        }
    }
}
