import StrataCore

/// A face of the cubemap, in py360convert's order F R B L U D.
///
/// Face coordinates (a, b) run from −1 at the face's left (top) edge to +1 at its right
/// (bottom) edge. The faces are oriented as py360convert draws them in its dice layout:
/// seen from inside the cube, U sits above F and D below it, each continuous across its
/// edge with F.
public enum CubeFace: Int, CaseIterable, Sendable, Codable {
    case front, right, back, left, up, down

    /// The letter py360convert uses as the face's key: F, R, B, L, U or D.
    public var letter: String { ["F", "R", "B", "L", "U", "D"][rawValue] }

    /// The face named by a letter (F, R, B, L, U, D).
    public init?(letter: String) {
        guard let index = ["F", "R", "B", "L", "U", "D"].firstIndex(of: letter.uppercased()) else { return nil }
        self.init(rawValue: index)
    }

    /// The view direction of the face as yaw and pitch in degrees (``Rotation``'s convention).
    public var yawPitch: (yaw: Double, pitch: Double) {
        switch self {
        case .front: return (0, 0)
        case .right: return (90, 0)
        case .back: return (180, 0)
        case .left: return (-90, 0)
        case .up: return (0, 90)
        case .down: return (0, -90)
        }
    }

    /// The direction (not unit length) through face coordinates (a, b); |a|, |b| > 1 lie on
    /// the face's plane beyond its edges.
    @inlinable
    public func direction(a: Double, b: Double) -> Vector3 {
        switch self {
        case .front: return Vector3(a, -b, 1)
        case .right: return Vector3(1, -b, -a)
        case .back: return Vector3(-a, -b, -1)
        case .left: return Vector3(-1, -b, a)
        case .up: return Vector3(a, 1, b)
        case .down: return Vector3(a, -1, -b)
        }
    }

    /// The face a direction meets and its face coordinates there (each in −1…1).
    @inlinable
    public static func locate(_ d: Vector3) -> (face: CubeFace, a: Double, b: Double) {
        let (ax, ay, az) = (abs(d.x), abs(d.y), abs(d.z))
        if az >= ax && az >= ay {
            return d.z > 0 ? (.front, d.x / d.z, -d.y / d.z) : (.back, d.x / d.z, d.y / d.z)
        }
        if ax >= ay {
            return d.x > 0 ? (.right, -d.z / d.x, -d.y / d.x) : (.left, -d.z / d.x, d.y / d.x)
        }
        return d.y > 0 ? (.up, d.x / d.y, d.z / d.y) : (.down, -d.x / d.y, d.z / d.y)
    }
}
