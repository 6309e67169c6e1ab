import Foundation

/// A point or direction in metres, in Strata's world frame: x right, y up, z forward.
public typealias Vector3 = SIMD3<Double>

extension SIMD3 where Scalar == Double {
    /// The dot product.
    @inlinable public func dot(_ other: Self) -> Double { (self * other).sum() }
    /// The cross product.
    @inlinable public func cross(_ o: Self) -> Self { Self(y * o.z - z * o.y, z * o.x - x * o.z, x * o.y - y * o.x) }
}

/// A rotation as a 3×3 matrix (rows), built from yaw, pitch and roll in degrees.
///
/// One convention for every camera in Strata (StrataSynth's renders, StrataSphere's cube
/// faces, perspective views and tangent patches): `apply` turns a direction in the camera's
/// own frame (x right, y up, z along the view) into the world frame.
public struct Rotation: Sendable, Equatable, Codable {
    /// The matrix rows.
    public var rows: [Vector3]

    /// No rotation.
    public static let identity = Rotation(rows: [Vector3(1, 0, 0), Vector3(0, 1, 0), Vector3(0, 0, 1)])

    /// A rotation from its matrix rows.
    public init(rows: [Vector3]) { self.rows = rows }

    /// Yaw about +y (positive turns right, from +z towards +x: longitude increases), then
    /// pitch about the new x (positive looks up), then roll about the view axis (positive
    /// turns the camera clockwise, so the picture turns counter-clockwise: py360convert's
    /// `in_rot_deg`).
    public init(yaw: Double, pitch: Double = 0, roll: Double = 0) {
        let (y, p, r) = (yaw * .pi / 180, pitch * .pi / 180, roll * .pi / 180)
        let yawM = [Vector3(cos(y), 0, sin(y)), Vector3(0, 1, 0), Vector3(-sin(y), 0, cos(y))]
        let pitchM = [Vector3(1, 0, 0), Vector3(0, cos(p), sin(p)), Vector3(0, -sin(p), cos(p))]
        let rollM = [Vector3(cos(r), sin(r), 0), Vector3(-sin(r), cos(r), 0), Vector3(0, 0, 1)]
        rows = Rotation.multiply(Rotation.multiply(yawM, pitchM), rollM)
    }

    static func multiply(_ a: [Vector3], _ b: [Vector3]) -> [Vector3] {
        let columns = [Vector3(b[0].x, b[1].x, b[2].x), Vector3(b[0].y, b[1].y, b[2].y), Vector3(b[0].z, b[1].z, b[2].z)]
        return a.map { row in Vector3((row * columns[0]).sum(), (row * columns[1]).sum(), (row * columns[2]).sum()) }
    }

    /// The rotated vector (camera frame to world frame).
    public func apply(_ v: Vector3) -> Vector3 { Vector3((rows[0] * v).sum(), (rows[1] * v).sum(), (rows[2] * v).sum()) }

    /// The inverse rotation applied (the transpose: world frame to camera frame).
    public func applyInverse(_ v: Vector3) -> Vector3 { rows[0] * v.x + rows[1] * v.y + rows[2] * v.z }
}
