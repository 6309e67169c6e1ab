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

    /// The projection a depth map rendered by this camera carries.
    public var projection: Projection {
        switch model {
        case .pinhole(let k): return .pinhole(k)
        case .equirectangular: return .equirectangular
        }
    }
}
