import CStrataVision
import Foundation
import StrataCore
import StrataSphere

/// A 360° camera that films equirect frames: every pixel is a unit ray (a bearing vector),
/// in OpenCV's camera axes (x right, y down, z forward, the panorama's centre straight
/// ahead), so a point behind or beside the camera is seen as well as one in front.
/// Errors are angles, counted in pixels of the panorama's equator.
public struct SphericalCamera: Sendable, Equatable {
    /// The equirect frame's size.
    public let width: Int, height: Int

    public init(width: Int, height: Int) {
        (self.width, self.height) = (width, height)
    }

    /// Pixels of the equator per radian: what turns an angle into the pixels thresholds count in.
    public var pixelsPerRadian: Double { Double(width) / (2 * .pi) }

    /// The unit ray through `pixel` (Strata's convention: pixel centres at half-integers).
    public func bearing(_ pixel: SIMD2<Float>) -> Vector3 {
        let d = Equirect.direction(x: Double(pixel.x) - 0.5, y: Double(pixel.y) - 0.5, width: width, height: height)
        return Vector3(d.x, -d.y, d.z)
    }

    /// Where the ray towards `x` (camera coordinates) meets the frame (Strata's convention).
    public func pixel(of x: Vector3) -> SIMD2<Double> {
        let (px, py) = Equirect.position(of: Vector3(x.x, -x.y, x.z), width: width, height: height)
        return SIMD2(px + 0.5, py + 0.5)
    }

    /// The angle between the ray towards `x` (camera coordinates) and the ray through
    /// `observed`, in pixels of the equator; infinite at the camera's centre.
    public func error(_ x: Vector3, _ observed: SIMD2<Float>) -> Double {
        guard x.norm > 1e-12 else { return .infinity }
        let b = bearing(observed)
        // atan2 of the cross and dot products: acos loses the small angles that matter.
        let cross = Vector3(x.y * b.z - x.z * b.y, x.z * b.x - x.x * b.z, x.x * b.y - x.y * b.x)
        return atan2(cross.norm, (x * b).sum()) * pixelsPerRadian
    }

    /// The relative pose of two views from matched rays (`CStrataVision`'s eight-point
    /// RANSAC on bearing vectors): R and unit t with X₁ = R·X₀ + t, and which pairs agree
    /// (within `threshold` pixels of the equator of the epipolar plane, and ahead along both
    /// rays). Nil when no pose is found.
    static func relativePose(_ rays0: [Vector3], _ rays1: [Vector3], threshold: Double, pixelsPerRadian: Double) throws
        -> (pose: CameraPose, inliers: [Bool])? {
        precondition(rays0.count == rays1.count)
        var rotation = [Double](repeating: 0, count: 9), t = [Double](repeating: 0, count: 3)
        var mask = [UInt8](repeating: 0, count: rays0.count)
        let agreed = strata_vision_relative_pose_bearings(rays0.flatMap(\.components), rays1.flatMap(\.components), Int32(rays0.count),
                                                          sin(threshold / pixelsPerRadian), 500, &rotation, &t, &mask)
        guard agreed >= 0 else { throw MotionError("OpenCV failed while estimating an essential matrix from rays") }
        guard agreed > 0 else { return nil }
        return (CameraPose(rotation: rotation, translation: Vector3(t[0], t[1], t[2])), mask.map { $0 != 0 })
    }

    /// The nominal pinhole intrinsics a motion of this camera carries (its size, and the
    /// equator's pixels a radian as its focal length): no pinhole camera films it.
    var nominalIntrinsics: PinholeIntrinsics {
        PinholeIntrinsics(fx: pixelsPerRadian, fy: pixelsPerRadian, cx: Double(width) / 2, cy: Double(height) / 2, width: width, height: height)
    }
}

extension SIMD3 where Scalar == Double {
    /// x, y and z, in that order.
    var components: [Double] { [x, y, z] }
}
