import Foundation
import StrataCore

/// A surface: the geometry the renderer intersects.
public enum Shape: Sendable, Equatable, Codable {
    /// An infinite plane through `point` with unit `normal`.
    case plane(point: Vector3, normal: Vector3)
    case sphere(center: Vector3, radius: Double)
    /// A box between two corners, turned by `yaw` degrees about the vertical through its centre.
    case box(min: Vector3, max: Vector3, yaw: Double)
    /// An upright cylinder standing on `base` (centre of its bottom disc).
    case cylinder(base: Vector3, radius: Double, height: Double)
}

/// A procedural colour, evaluated at world positions, so matching has texture to lock on.
public enum Texture: Sendable, Equatable, Codable {
    case solid(Vector3)
    /// Alternating cubes of side `size`.
    case checker(size: Double, a: Vector3, b: Vector3)
    /// Bands of `width` across world axis `axis` (0 x, 1 y, 2 z).
    case stripes(width: Double, axis: Int, a: Vector3, b: Vector3)
    /// Linear from `a` at coordinate `start` to `b` at `end` along `axis`.
    case gradient(axis: Int, start: Double, end: Double, a: Vector3, b: Vector3)
    /// Smooth value noise of feature size `scale`, between `a` and `b`.
    case noise(scale: Double, a: Vector3, b: Vector3)
    /// Running-bond bricks on the plane of the two axes other than `normalAxis`.
    case bricks(width: Double, height: Double, mortar: Double, normalAxis: Int, brick: Vector3, mortarColor: Vector3)
}

/// One object of a scene.
public struct SceneObject: Sendable, Equatable, Codable {
    public var shape: Shape
    public var texture: Texture
    /// Written to the id map (0 is the sky).
    public var id: Int
    /// Marked in the fluid mask (water, for the fluid stage).
    public var isFluid: Bool

    public init(shape: Shape, texture: Texture, id: Int, isFluid: Bool = false) {
        self.shape = shape
        self.texture = texture
        self.id = id
        self.isFluid = isFluid
    }
}

/// Objects, a sky and one directional light.
public struct Scene: Sendable, Equatable, Codable {
    public var objects: [SceneObject]
    /// Sky colour at the horizon and straight up.
    public var horizon: Vector3
    public var zenith: Vector3
    /// Direction towards the light (normalised when shading).
    public var light: Vector3
    /// Light reaching surfaces that face away from the light.
    public var ambient: Double

    public init(objects: [SceneObject], horizon: Vector3 = Vector3(0.85, 0.9, 1), zenith: Vector3 = Vector3(0.35, 0.55, 0.9),
                light: Vector3 = Vector3(0.4, 1, -0.3), ambient: Double = 0.35) {
        self.objects = objects
        self.horizon = horizon
        self.zenith = zenith
        self.light = light
        self.ambient = ambient
    }
}
