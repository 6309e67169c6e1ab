import Foundation
import StrataCore

/// A pinhole (gnomonic) view of the sphere: a cube face, a perspective crop or a tangent
/// patch, all the same thing with different angles, fields of view and sizes.
///
/// The view looks along yaw and pitch (degrees, ``Rotation``'s convention: yaw positive to
/// the right, as longitude grows; pitch positive up) and is turned by roll about its axis.
/// Its intrinsics say how its pixels spread: the field of view spans the image edges.
public struct PerspectiveView: Sendable, Hashable, Codable {
    /// Turn towards the right in degrees (the longitude of the view's centre).
    public var yaw: Double
    /// Tilt upwards in degrees (the latitude of the view's centre).
    public var pitch: Double
    /// Turn about the view axis in degrees.
    public var roll: Double
    /// Focal lengths and principal point in pixels, and the image size.
    public var intrinsics: PinholeIntrinsics

    /// A view from its orientation and intrinsics.
    public init(yaw: Double, pitch: Double, roll: Double = 0, intrinsics: PinholeIntrinsics) {
        (self.yaw, self.pitch, self.roll, self.intrinsics) = (yaw, pitch, roll, intrinsics)
    }

    /// A centred view with a horizontal field of view in degrees and square pixels (the
    /// vertical field follows from the aspect), or an explicit vertical field of view.
    public init(yaw: Double, pitch: Double, roll: Double = 0, fov: Double, verticalFOV: Double? = nil, width: Int, height: Int) {
        let fx = Double(width) / 2 / tan(fov * .pi / 360)
        let fy = verticalFOV.map { Double(height) / 2 / tan($0 * .pi / 360) } ?? fx
        self.init(yaw: yaw, pitch: pitch, roll: roll,
                  intrinsics: PinholeIntrinsics(fx: fx, fy: fy, cx: Double(width) / 2, cy: Double(height) / 2, width: width, height: height))
    }

    /// The view of one cube face of `faceSize` pixels, extended by `padding` pixels on every
    /// side (the focal length stays faceSize / 2, so the padding shows the sphere beyond the
    /// face's edges).
    public init(face: CubeFace, faceSize: Int, padding: Int = 0) {
        let side = faceSize + 2 * padding
        let f = Double(faceSize) / 2
        let (yaw, pitch) = face.yawPitch
        self.init(yaw: yaw, pitch: pitch, intrinsics: PinholeIntrinsics(fx: f, fy: f, cx: Double(side) / 2, cy: Double(side) / 2, width: side, height: side))
    }

    /// Columns.
    public var width: Int { intrinsics.width }
    /// Rows.
    public var height: Int { intrinsics.height }

    /// Horizontal field of view in degrees, edge to edge (for a centred principal point).
    public var fov: Double { 2 * atan(Double(width) / 2 / intrinsics.fx) * 180 / .pi }

    /// Camera to world.
    public var rotation: Rotation { Rotation(yaw: yaw, pitch: pitch, roll: roll) }

    /// The direction in the view's own frame (x right, y up, z forward, z = 1) through
    /// the sample position (x, y), where the centre of pixel i is at i.
    @inlinable
    public func localRay(x: Double, y: Double) -> Vector3 {
        Vector3((x + 0.5 - intrinsics.cx) / intrinsics.fx, -(y + 0.5 - intrinsics.cy) / intrinsics.fy, 1)
    }

    /// The sample position where a direction in the view's own frame meets the image plane,
    /// or nil for directions behind the view.
    @inlinable
    public func position(ofLocal d: Vector3) -> (x: Double, y: Double)? {
        guard d.z > 0 else { return nil }
        return (d.x / d.z * intrinsics.fx + intrinsics.cx - 0.5, -d.y / d.z * intrinsics.fy + intrinsics.cy - 0.5)
    }

    /// The world direction (not unit length) through the sample position (x, y).
    public func direction(x: Double, y: Double) -> Vector3 { rotation.apply(localRay(x: x, y: y)) }

    /// The sample position where a world direction meets the view's image plane, or nil behind it.
    public func position(of direction: Vector3) -> (x: Double, y: Double)? { position(ofLocal: rotation.applyInverse(direction)) }

    /// Whether a sample position lies on the image (within its outer pixel edges).
    @inlinable
    public func contains(x: Double, y: Double) -> Bool {
        x >= -0.5 && y >= -0.5 && x <= Double(width) - 0.5 && y <= Double(height) - 0.5
    }
}
