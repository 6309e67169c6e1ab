import Foundation
import StrataCore
import StrataIO
import StrataSynth
import XCTest
@testable import StrataMotion

/// Depth from motion by plane sweep: closed forms first (a plane's homography, a shifted
/// texture, an affine monocular estimate), then the StrataSynth walk against its rendering.
final class PlaneSweepTests: XCTestCase {
    /// A point at a known depth in the reference lands, through the homography of the plane
    /// at that depth, where the neighbour's camera projects it.
    func testAPlanesHomographySendsItsPointsWhereTheNeighbourSeesThem() {
        let k = PinholeIntrinsics(fx: 300, fy: 310, cx: 160, cy: 120, width: 320, height: 240)
        let relative = CameraPose(rotation: TrajectoryErrorTests.turn(Vector3(0.1, 1, -0.2), degrees: 4), translation: Vector3(-0.2, 0.05, 0.1))
        let depth = 3.5
        let h = PlaneSweep.homography(relative, inverseDepth: 1 / depth, k: k)
        for (u, v) in [(10.0, 20.0), (160, 120), (300, 230)] {
            // The pixel (index) u, v is the point at (u + 0.5, v + 0.5) in Strata's convention.
            let x = Vector3((u + 0.5 - k.cx) / k.fx * depth, (v + 0.5 - k.cy) / k.fy * depth, depth)
            let seen = relative.transform(x)
            let expected = (k.fx * seen.x / seen.z + k.cx - 0.5, k.fy * seen.y / seen.z + k.cy - 0.5)
            let z = h[6] * u + h[7] * v + h[8]
            XCTAssertEqual((h[0] * u + h[1] * v + h[2]) / z, expected.0, accuracy: 1e-9)
            XCTAssertEqual((h[3] * u + h[4] * v + h[5]) / z, expected.1, accuracy: 1e-9)
        }
    }

    /// A random texture on a wall 2 m away, seen by a camera that then steps 10 cm to the
    /// right (f = 100: the texture moves 5 pixels left): the sweep finds 2 m on the wall's
    /// inside, and trusts it.
    func testAShiftedTextureComesBackAtItsDepth() throws {
        let (w, h) = (96, 64)
        // A fixed pseudo-random texture (a linear congruential sequence), 10 pixels wider
        // than the frames: the reference shows it from column 5, the neighbour from 10, so
        // what the reference sees at x the neighbour sees at x − 5.
        var seed: UInt64 = 0x9E3779B97F4A7C15
        let texture = (0..<((w + 10) * h)).map { _ -> Float in
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            return Float(seed >> 40) / Float(1 << 24)
        }
        let reference = Image(width: w, height: h, channels: 1) { _, y, x in texture[y * (w + 10) + x + 5] }
        let neighbour = Image(width: w, height: h, channels: 1) { _, y, x in texture[y * (w + 10) + x + 10] }
        let k = PinholeIntrinsics(fx: 100, fy: 100, cx: Double(w) / 2, cy: Double(h) / 2, width: w, height: h)
        let step = CameraPose(rotation: CameraPose.identity.rotation, translation: Vector3(-0.1, 0, 0))
        // Sparse points between 1.5 and 3 m bound the sweep.
        let points = (0..<20).map { i in Vector3(Double(i % 5) * 0.1 - 0.2, Double(i / 5) * 0.1 - 0.2, 1.5 + 1.5 * Double(i) / 19) }
        let motion = CameraMotion(intrinsics: k, poses: [.identity, step], keyframes: [0, 1], points: points,
                                  pointColors: points.map { _ in SIMD3(0, 0, 0) }, pointTracks: points.indices.map { Int32($0) },
                                  rmsError: 0, tracks: FeatureTracks(width: w, height: h), isStatic: false)
        let result = try PlaneSweep.depth(frame: 0, images: [0: reference, 1: neighbour], motion: motion)
        XCTAssertEqual(result.neighbours, [1])
        var inside = 0, right = 0, trusted = 0
        for y in 8..<(h - 8) {
            for x in 16..<(w - 8) {
                inside += 1
                if abs(result.depth[y * w + x] - 2) < 0.02 { right += 1 }
                if result.confidence[y * w + x] >= 0.5 { trusted += 1 }
            }
        }
        XCTAssertGreaterThan(Double(right) / Double(inside), 0.98, "within 1% of 2 m")
        XCTAssertGreaterThan(Double(trusted) / Double(inside), 0.9)
    }

    /// A monocular estimate that is the truth's inverse depth under a scale and a shift fills
    /// the untrusted half exactly.
    func testAnAffineMonocularEstimateFillsExactly() {
        let (w, h) = (40, 30)
        let truth = (0..<(w * h)).map { i in Float(1 / (0.2 + 0.01 * Double(i % w) + 0.005 * Double(i / w))) }
        var depth = truth, confidence = [Float](repeating: 1, count: w * h)
        for i in depth.indices where i % w >= w / 2 {
            depth[i] = 99
            confidence[i] = 0
        }
        let stereo = StereoDepth(width: w, height: h, intrinsics: PinholeIntrinsics(horizontalFOV: 60, width: w, height: h),
                                 depth: depth, confidence: confidence, neighbours: [1], frame: 0)
        let filled = stereo.filled(withDisparity: truth.map { 3 * (1 / $0) + 0.7 })
        for i in filled.indices { XCTAssertEqual(filled[i], truth[i], accuracy: truth[i] * 1e-4, "pixel \(i)") }
        // Nothing trusted: nothing to fit, the depth comes back as it was.
        let none = StereoDepth(width: w, height: h, intrinsics: stereo.intrinsics, depth: depth, confidence: .init(repeating: 0, count: w * h),
                               neighbours: [1], frame: 0)
        XCTAssertEqual(none.filled(withDisparity: truth), depth)
    }

    /// The committed walk: a keyframe's trusted depth, after the trajectory's scale, against
    /// the rendered depth (δ1 ≥ 0.9 over at least 4% of the pixels; measured on all six
    /// keyframes at 320×240: 0.96 over 12%).
    func testTheWalksDepthFromMotionMatchesTheRendering() throws {
        let (tracks, truth) = try CameraMotionTests.walk()
        let motion = try CameraMotion.reconstruct(tracks, intrinsics: CameraMotionTests.k)
        let scale = try TrajectoryError(motion.poses, truth: truth).scale
        let folder = Bundle.module.url(forResource: "walk", withExtension: nil, subdirectory: "Fixtures")!
        let f = motion.keyframes[motion.keyframes.count / 2]
        var images: [Int: Image] = [:]
        for n in max(0, f - 8)...min(tracks.frames.count - 1, f + 8) {
            images[n] = try ImageFile.read(folder.appendingPathComponent(String(format: "%05d.png", n)))
        }
        let result = try PlaneSweep.depth(frame: f, images: images, motion: motion)
        Self.assertMatchesTheWalk(result, frames: tracks.frames.count, scale: scale)
    }

    /// Depth of the committed walk's frame against the rendering, after the trajectory's
    /// scale: δ1 ≥ 0.9 over at least 4% of the pixels.
    static func assertMatchesTheWalk(_ result: StereoDepth, frames: Int, scale: Double, file: StaticString = #filePath, line: UInt = #line) {
        let camera = CameraPath.roomWalk.camera(at: Double(result.frame) / Double(frames - 1), model: .pinhole(CameraMotionTests.k))
        let rendered = Renderer.render(.indoorRoom, camera: camera, supersampling: 1).depth.values.pixels
        var trusted = 0, good = 0
        for i in rendered.indices where result.confidence[i] >= 0.5 {
            trusted += 1
            let ratio = Double(result.depth[i]) * scale / Double(rendered[i])
            if max(ratio, 1 / ratio) < 1.25 { good += 1 }
        }
        XCTAssertGreaterThan(Double(trusted) / Double(rendered.count), 0.04, "coverage", file: file, line: line)
        XCTAssertGreaterThan(Double(good) / Double(max(1, trusted)), 0.9, "δ1 of \(trusted) trusted pixels", file: file, line: line)
    }
}
