import Foundation
import StrataCore

/// A moving camera's path and the sparse scene it saw, recovered from feature tracks alone:
/// keyframes where the tracks have moved enough, a first pair of keyframes by the
/// five-point algorithm, points triangulated, every further keyframe placed by PnP on the
/// points it sees, windowed bundle adjustment after each and a global one at the end (the
/// incremental structure from motion of COLMAP and of SLAM back ends). Every other frame
/// is then placed by PnP. The world is the first frame's camera (x right, y down, z forward),
/// and the unit of length is the first pair's baseline: depth from motion is known up to
/// one global scale.
public struct CameraMotion: Sendable {
    /// How keyframes are chosen and how strict the geometry is.
    public struct Options: Sendable, Equatable {
        /// A new keyframe once the tracks shared with the last have moved this fraction of
        /// the frame's width (median), or fewer than 60% of its tracks are still seen.
        public var keyframeMotion = 0.03
        /// Pixels: RANSAC's threshold for the first pair (epipolar distance); twice this
        /// for PnP and for keeping a point.
        public var threshold = 0.5
        /// Degrees: a point is triangulated only from rays at least this far apart.
        public var minimumAngle = 1.5
        /// Keyframes adjusted together after each new one.
        public var window = 8
        /// Refine the focal length (fx and fy by one factor) in the final bundle adjustment,
        /// from the intrinsics given, as COLMAP does; the principal point stays.
        public var refineFocal = false

        public init() {}
    }

    /// The camera's intrinsics.
    public let intrinsics: PinholeIntrinsics
    /// Each frame's pose, world to camera; nil for a frame that could not be placed.
    public internal(set) var poses: [CameraPose?]
    /// The frames the structure was built from, in order.
    public internal(set) var keyframes: [Int]
    /// The sparse points, in world coordinates.
    public internal(set) var points: [Vector3]
    /// Each point's colour where its track started, and its track's id.
    public internal(set) var pointColors: [SIMD3<UInt8>]
    public internal(set) var pointTracks: [Int32]
    /// Root mean square reprojection error of the points in the keyframes, in pixels.
    public internal(set) var rmsError: Double
    /// The tracks it was recovered from (the observations the exports list).
    public let tracks: FeatureTracks
    /// No pair of frames showed parallax: a camera on a tripod, or one that only turned.
    /// Depth cannot come from its motion; `poses` and `points` are then empty.
    public internal(set) var isStatic: Bool
    /// The camera's projection: a pinhole of `intrinsics`, or a 360° camera whose frames
    /// are equirect (`intrinsics` then only carries their size and the equator's pixels a
    /// radian).
    public internal(set) var projection: Projection = .pinhole

    /// How a camera maps rays to pixels.
    public enum Projection: Sendable, Equatable {
        case pinhole, equirect
    }

    /// The motion of the camera that filmed `tracks`.
    /// - Throws: ``MotionError`` for fewer than two frames, fewer than 30 corners tracked in
    ///   every frame, or intrinsics of another size than the frames.
    public static func reconstruct(_ tracks: FeatureTracks, intrinsics: PinholeIntrinsics, options: Options = Options()) throws -> CameraMotion {
        guard tracks.frames.count >= 2 else {
            throw MotionError("\(tracks.frames.count) frame(s): camera motion needs two at least")
        }
        let most = tracks.frames.map(\.ids.count).max() ?? 0
        guard most >= 30 else {
            throw MotionError("at most \(most) corners were tracked in a frame: too few for camera motion (30 at least; a flat or blurred video)")
        }
        guard intrinsics.width == tracks.width, intrinsics.height == tracks.height else {
            throw MotionError("the frames are \(tracks.width)x\(tracks.height), the camera \(intrinsics.width)x\(intrinsics.height)")
        }
        var reconstructor = Reconstructor(tracks: tracks, k: intrinsics, options: options)
        return try reconstructor.run()
    }

    /// The motion of a 360° camera whose equirect frames `tracks` were tracked in: the same
    /// steps on the spherical camera model, every pixel a ray (the first pair's essential
    /// matrix from the rays, frames placed and adjusted on the angles between rays), so the
    /// parallax beside and behind the camera counts as much as ahead of it. The world is the
    /// first frame's camera, in OpenCV's axes with the panorama's centre straight ahead.
    /// - Throws: ``MotionError`` for fewer than two frames or fewer than 30 corners tracked
    ///   in every frame.
    public static func reconstruct(panorama tracks: FeatureTracks, options: Options = Options()) throws -> CameraMotion {
        guard tracks.frames.count >= 2 else {
            throw MotionError("\(tracks.frames.count) frame(s): camera motion needs two at least")
        }
        let most = tracks.frames.map(\.ids.count).max() ?? 0
        guard most >= 30 else {
            throw MotionError("at most \(most) corners were tracked in a frame: too few for camera motion (30 at least; a flat or blurred video)")
        }
        let sphere = SphericalCamera(width: tracks.width, height: tracks.height)
        var reconstructor = Reconstructor(tracks: tracks, k: sphere.nominalIntrinsics, options: options, sphere: sphere)
        return try reconstructor.run()
    }

    /// The motion of a second camera fixed to this one (a face of a 360° rig): `axes`
    /// holds its axes in this camera's (row-major, X_this = axes · X_other), `intrinsics`
    /// its own. The keyframes, points and tracks stay this camera's.
    public func rigged(axes m: [Double], intrinsics: PinholeIntrinsics) -> CameraMotion {
        precondition(m.count == 9)
        // X_other = axesᵀ · (R · X + t).
        let turn = CameraPose(rotation: [m[0], m[3], m[6], m[1], m[4], m[7], m[2], m[5], m[8]], translation: .zero)
        let turned = poses.map { pose in
            pose.map { pose in
                var r = [Double](repeating: 0, count: 9)
                for i in 0..<3 {
                    for j in 0..<3 { r[3 * i + j] = (0..<3).reduce(0) { $0 + turn.rotation[3 * i + $1] * pose.rotation[3 * $1 + j] } }
                }
                return CameraPose(rotation: r, translation: turn.rotated(pose.translation))
            }
        }
        return CameraMotion(intrinsics: intrinsics, poses: turned, keyframes: keyframes, points: points, pointColors: pointColors,
                            pointTracks: pointTracks, rmsError: rmsError, tracks: tracks, isStatic: isStatic)
    }

    /// The reprojection of world point `x` in frame `frame` (Strata's pixel convention), or nil
    /// behind the camera or for a frame without a pose.
    public func project(_ x: Vector3, frame: Int) -> SIMD2<Double>? {
        guard let pose = poses[frame] else { return nil }
        let c = pose.transform(x)
        if projection == .equirect { return SphericalCamera(width: intrinsics.width, height: intrinsics.height).pixel(of: c) }
        guard c.z > 0 else { return nil }
        return SIMD2(intrinsics.fx * c.x / c.z + intrinsics.cx, intrinsics.fy * c.y / c.z + intrinsics.cy)
    }
}
