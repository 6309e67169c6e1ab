import Foundation
import StrataCore

/// A camera placed in the world (x right, y up, z forward at yaw 0: Unity's left-handed frame).
public struct Camera: Sendable, Equatable, Codable {
    /// How pixels map to directions.
    public enum Model: Sendable, Equatable, Codable {
        /// A perspective camera; renders carry z-depth.
        case pinhole(PinholeIntrinsics)
        /// A 360° camera with py360convert's conventions; renders carry distance along the ray.
        case equirectangular(width: Int, height: Int)
    }

    public var model: Model
    public var position: Vector3
    public var rotation: Rotation

    public init(model: Model, position: Vector3 = .zero, rotation: Rotation = .identity) {
        self.model = model
        self.position = position
        self.rotation = rotation
    }

    public var width: Int {
        switch model {
        case .pinhole(let k): return k.width
        case .equirectangular(let w, _): return w
        }
    }

    public var height: Int {
        switch model {
        case .pinhole(let k): return k.height
        case .equirectangular(_, let h): return h
        }
    }

    /// The unit direction, in the camera's own frame (z forward, y up), through the image
    /// point (u, v) in pixels, where the centre of pixel (x, y) is (x + 0.5, y + 0.5).
    public func localDirection(u: Double, v: Double) -> Vector3 {
        switch model {
        case .pinhole(let k):
            return normalize(Vector3((u - k.cx) / k.fx, -(v - k.cy) / k.fy, 1))
        case .equirectangular(let w, let h):
            let longitude = (u / Double(w) - 0.5) * 2 * .pi
            let latitude = (0.5 - v / Double(h)) * .pi
            return Vector3(cos(latitude) * sin(longitude), sin(latitude), cos(latitude) * cos(longitude))
        }
    }

    /// The camera's pose as OpenCV and COLMAP write it: world to camera, X_cam = R · X + t
    /// (R row-major), with camera axes x right, y down, z forward, in a world that is
    /// StrataSynth's with y turned downwards (so that both frames are right-handed).
    public var openCVPose: (rotation: [Double], translation: Vector3) {
        // R = F · Rcᵀ · F with F = diag(1, −1, 1): the camera's rows, y flipped on both sides.
        let rc = rotation.rows
        var r = [Double](repeating: 0, count: 9)
        for i in 0..<3 {
            for j in 0..<3 { r[3 * i + j] = rc[j][i] * (i == 1 ? -1 : 1) * (j == 1 ? -1 : 1) }
        }
        let centre = Vector3(position.x, -position.y, position.z)
        let t = -Vector3(r[0] * centre.x + r[1] * centre.y + r[2] * centre.z, r[3] * centre.x + r[4] * centre.y + r[5] * centre.z,
                         r[6] * centre.x + r[7] * centre.y + r[8] * centre.z)
        return (r, t)
    }

    /// The projection a depth map rendered by this camera carries.
    public var projection: Projection {
        switch model {
        case .pinhole(let k): return .pinhole(k)
        case .equirectangular: return .equirectangular
        }
    }
}
