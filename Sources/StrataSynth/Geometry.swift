import Foundation

/// A point or direction in metres, in a right-handed world with y up.
public typealias Vector3 = SIMD3<Double>

@inline(__always) func dot(_ a: Vector3, _ b: Vector3) -> Double { (a * b).sum() }
@inline(__always) func length(_ a: Vector3) -> Double { dot(a, a).squareRoot() }
@inline(__always) func normalize(_ a: Vector3) -> Vector3 { a / length(a) }

/// A rotation as a 3×3 matrix (rows), built from yaw, pitch and roll in degrees.
public struct Rotation: Sendable, Equatable, Codable {
    public var rows: [Vector3]

    /// No rotation.
    public static let identity = Rotation(rows: [Vector3(1, 0, 0), Vector3(0, 1, 0), Vector3(0, 0, 1)])

    init(rows: [Vector3]) { self.rows = rows }

    /// Yaw about +y (positive turns right, looking down −y… i.e. from +z towards +x), then
    /// pitch about the new x (positive looks up), then roll about the view axis.
    public init(yaw: Double, pitch: Double = 0, roll: Double = 0) {
        let (y, p, r) = (yaw * .pi / 180, pitch * .pi / 180, roll * .pi / 180)
        let yawM = [Vector3(cos(y), 0, sin(y)), Vector3(0, 1, 0), Vector3(-sin(y), 0, cos(y))]
        let pitchM = [Vector3(1, 0, 0), Vector3(0, cos(p), sin(p)), Vector3(0, -sin(p), cos(p))]
        let rollM = [Vector3(cos(r), -sin(r), 0), Vector3(sin(r), cos(r), 0), Vector3(0, 0, 1)]
        rows = Rotation.multiply(Rotation.multiply(yawM, pitchM), rollM)
    }

    static func multiply(_ a: [Vector3], _ b: [Vector3]) -> [Vector3] {
        let columns = [Vector3(b[0].x, b[1].x, b[2].x), Vector3(b[0].y, b[1].y, b[2].y), Vector3(b[0].z, b[1].z, b[2].z)]
        return a.map { row in Vector3(dot(row, columns[0]), dot(row, columns[1]), dot(row, columns[2])) }
    }

    /// The rotated vector.
    public func apply(_ v: Vector3) -> Vector3 { Vector3(dot(rows[0], v), dot(rows[1], v), dot(rows[2], v)) }

    /// The inverse rotation applied (the transpose).
    public func applyInverse(_ v: Vector3) -> Vector3 { rows[0] * v.x + rows[1] * v.y + rows[2] * v.z }
}
