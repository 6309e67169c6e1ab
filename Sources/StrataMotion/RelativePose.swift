import CStrataVision
import Foundation
import StrataCore

/// A failure to recover camera motion, saying what was missing.
public struct MotionError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The motion of a pinhole camera between two frames, from the frames alone: corners of the
/// first tracked into the second (Shi–Tomasi corners, pyramidal Lucas–Kanade with a
/// forward–backward check), then the essential matrix by the five-point algorithm in
/// RANSAC and the one of its four decompositions that puts the points in front of both
/// cameras (OpenCV's, through `CStrataVision`). The translation's length is unknown (one
/// pair of views fixes only its direction). A pair whose corners one homography explains
/// to within a pixel is a pure turn (``isRotationOnly``): no depth comes from it.
public struct RelativePose: Sendable, Equatable {
    /// R, row-major: a point's camera coordinates in the second view are R · X₀ + t.
    /// Camera coordinates are OpenCV's: x right, y down, z forward.
    public var rotation: [Double]
    /// t, of unit length.
    public var translation: SIMD3<Double>
    /// Corners tracked from the first frame into the second, and how many the pose explains.
    public var tracked: Int, inliers: Int
    /// The median distance, in pixels, of the tracked corners from what a pure turn of the
    /// camera predicts (the rotation-only homography): the parallax left for depth.
    public var parallax: Double
    /// The camera only turned, or moved too little for its scene (`parallax` below
    /// ``rotationOnlyParallax``): `rotation` is then the turn's (from the homography) and
    /// `translation` is zero. Depth from motion needs another frame.
    public var isRotationOnly: Bool { translation == .zero }

    /// Below this median parallax, in pixels, two views are taken as a pure turn: above the
    /// tracking noise (a pure 6° turn of StrataSynth's room: 0.68), below a step's (half a
    /// metre there: 2.9).
    public static let rotationOnlyParallax = 1.0

    /// The rotation's angle, in degrees.
    public var rotationDegrees: Double {
        let trace = rotation[0] + rotation[4] + rotation[8]
        return acos(min(1, max(-1, (trace - 1) / 2))) * 180 / .pi
    }

    /// The pose of `second` relative to `first` (both of `intrinsics`' size; colour or grey).
    /// - Parameters:
    ///   - features: corners to track, at most.
    ///   - threshold: RANSAC's distance to an epipolar line, in pixels. Half a pixel keeps out
    ///     the corners formed by two surfaces at different depths, whose tracks slide (at 1
    ///     pixel they biased a 4° turn to 3.7°).
    /// - Throws: ``MotionError`` when the frames differ in size from the intrinsics, too few
    ///   corners survive tracking, or no pose explains them.
    public static func estimate(_ first: Image, _ second: Image, intrinsics k: PinholeIntrinsics, features: Int = 1500,
                                threshold: Double = 0.5) throws -> RelativePose {
        for (name, frame) in [("first", first), ("second", second)] where frame.width != k.width || frame.height != k.height {
            throw MotionError("the \(name) frame is \(frame.width)x\(frame.height), the camera \(k.width)x\(k.height)")
        }
        let (a, b) = (gray8(first), gray8(second))
        var p0 = [Float](repeating: 0, count: 2 * features), p1 = p0
        let tracked = Int(strata_vision_track(a, b, Int32(k.width), Int32(k.height), Int32(features), 0.01, Double(max(4, k.width / 100)),
                                              &p0, &p1))
        guard tracked >= 0 else { throw MotionError("OpenCV failed while tracking corners") }
        guard tracked >= 8 else { throw MotionError("only \(tracked) corners could be tracked from one frame to the next (8 at least)") }
        // Strata's pixel centres sit at half-integers, OpenCV's at integers.
        return try estimate(p0, p1, count: tracked, fx: k.fx, fy: k.fy, cx: k.cx - 0.5, cy: k.cy - 0.5, threshold: threshold)
    }

    /// The pose from `count` matched points (x, y pairs, in the convention `cx` and `cy` are
    /// given in); `inliers` (count bytes), when given, gets 1 for each point the pose explains.
    static func estimate(_ p0: [Float], _ p1: [Float], count tracked: Int, fx: Double, fy: Double, cx: Double, cy: Double,
                         threshold: Double, inliers mask: UnsafeMutablePointer<UInt8>? = nil) throws -> RelativePose {
        // A pure turn first: its essential matrix is degenerate (any translation fits), so the
        // homography decides, as COLMAP and ORB-SLAM choose their first pair.
        var turn = [Double](repeating: 0, count: 9), parallax = 0.0
        let turnInliers = Int(strata_vision_rotation_only(p0, p1, Int32(tracked), fx, fy, cx, cy, threshold, &turn, &parallax))
        guard turnInliers >= 0 else { throw MotionError("OpenCV failed while fitting a homography") }
        if turnInliers >= 8, parallax < rotationOnlyParallax {
            return RelativePose(rotation: turn, translation: .zero, tracked: tracked, inliers: turnInliers, parallax: parallax)
        }
        var rotation = [Double](repeating: 0, count: 9), t = [Double](repeating: 0, count: 3)
        let inliers = Int(strata_vision_relative_pose(p0, p1, Int32(tracked), fx, fy, cx, cy, threshold, &rotation, &t, mask))
        guard inliers >= 0 else { throw MotionError("OpenCV failed while estimating the essential matrix") }
        guard inliers >= 8 else { throw MotionError("no camera motion explains the \(tracked) tracked corners (\(inliers) agree)") }
        return RelativePose(rotation: rotation, translation: SIMD3(t[0], t[1], t[2]), tracked: tracked, inliers: inliers, parallax: parallax)
    }

    /// The frame's luma as bytes, rounded as Strata's 8-bit conversion rounds.
    static func gray8(_ image: Image) -> [UInt8] {
        image.grayscale().pixels.map { UInt8((min(max($0, 0), 1) * 255).rounded()) }
    }
}
