import Foundation
import StrataCore
/// The scenes Strata ships, by name: each exercises a later stage.
extension Scene {
    /// Names accepted by ``builtIn(_:)``.
    public static let builtInNames = ["indoor", "street", "water", "layers"]

    /// A built-in scene by name, or nil.
    public static func builtIn(_ name: String) -> Scene? {
        switch name {
        case "indoor": return indoorRoom
        case "street": return outdoorStreet
        case "water": return waterfront
        case "layers": return depthLayers
        default: return nil
        }
    }

    /// A 6 × 3 × 8 m room (x −3…3, y 0…3, z −4…4) with furniture-like boxes at several depths.
    public static var indoorRoom: Scene {
        let wood = Texture.stripes(width: 0.15, axis: 0, a: Vector3(0.55, 0.38, 0.22), b: Vector3(0.48, 0.32, 0.18))
        let plaster = Texture.noise(scale: 0.25, a: Vector3(0.78, 0.76, 0.7), b: Vector3(0.92, 0.9, 0.85))
        return Scene(objects: [
            SceneObject(shape: .plane(point: .zero, normal: Vector3(0, 1, 0)), texture: wood, id: 1),
            SceneObject(shape: .plane(point: Vector3(0, 3, 0), normal: Vector3(0, -1, 0)), texture: .solid(Vector3(0.9, 0.9, 0.88)), id: 2),
            SceneObject(shape: .plane(point: Vector3(-3, 0, 0), normal: Vector3(1, 0, 0)), texture: plaster, id: 3),
            SceneObject(shape: .plane(point: Vector3(3, 0, 0), normal: Vector3(-1, 0, 0)),
                        texture: .bricks(width: 0.3, height: 0.1, mortar: 0.015, normalAxis: 0, brick: Vector3(0.62, 0.28, 0.2), mortarColor: Vector3(0.85, 0.83, 0.8)), id: 4),
            SceneObject(shape: .plane(point: Vector3(0, 0, 4), normal: Vector3(0, 0, -1)),
                        texture: .checker(size: 0.4, a: Vector3(0.3, 0.45, 0.6), b: Vector3(0.8, 0.85, 0.9)), id: 5),
            SceneObject(shape: .plane(point: Vector3(0, 0, -4), normal: Vector3(0, 0, 1)), texture: plaster, id: 6),
            SceneObject(shape: .box(min: Vector3(-0.8, 0, 1.2), max: Vector3(0.8, 0.75, 2.2), yaw: 0),
                        texture: .noise(scale: 0.1, a: Vector3(0.35, 0.22, 0.12), b: Vector3(0.6, 0.4, 0.25)), id: 10),
            SceneObject(shape: .box(min: Vector3(1.6, 0, -3.2), max: Vector3(2.8, 1.9, -2.6), yaw: 25),
                        texture: .stripes(width: 0.1, axis: 1, a: Vector3(0.9, 0.9, 0.95), b: Vector3(0.5, 0.5, 0.55)), id: 11),
            SceneObject(shape: .box(min: Vector3(-2.9, 0, -1.5), max: Vector3(-2.0, 0.8, 1.0), yaw: 0),
                        texture: .checker(size: 0.2, a: Vector3(0.2, 0.35, 0.25), b: Vector3(0.3, 0.5, 0.35)), id: 12),
            SceneObject(shape: .sphere(center: Vector3(0, 1.05, 1.7), radius: 0.3), texture: .noise(scale: 0.05, a: Vector3(0.9, 0.7, 0.2), b: Vector3(1, 0.95, 0.6)), id: 13),
            SceneObject(shape: .cylinder(base: Vector3(2.2, 0, 2.8), radius: 0.25, height: 3), texture: .stripes(width: 0.25, axis: 1, a: Vector3(0.95, 0.95, 0.95), b: Vector3(0.7, 0.7, 0.7)), id: 14),
        ], light: Vector3(0.3, 1, 0.2), ambient: 0.45)
    }

    /// A street: ground with lane markings, buildings on both sides, poles and bushes, sky.
    public static var outdoorStreet: Scene {
        var objects = [
            SceneObject(shape: .plane(point: .zero, normal: Vector3(0, 1, 0)),
                        texture: .noise(scale: 0.08, a: Vector3(0.22, 0.22, 0.23), b: Vector3(0.42, 0.42, 0.43)), id: 1),
            SceneObject(shape: .box(min: Vector3(-0.08, -0.1, -200), max: Vector3(0.08, 0.005, 200), yaw: 0),
                        texture: .stripes(width: 1.5, axis: 2, a: Vector3(0.95, 0.95, 0.9), b: Vector3(0.3, 0.3, 0.3)), id: 2),
        ]
        for k in 0..<6 {
            let z = Double(k) * 9 - 12
            let height = 6 + Double((k * 7) % 5) * 2.5
            for side in [-1.0, 1.0] {
                let near = side * 6, far = side * 14
                objects.append(SceneObject(
                    shape: .box(min: Vector3(min(near, far), 0, z), max: Vector3(max(near, far), height + side, z + 7.5), yaw: 0),
                    texture: k % 2 == 0
                        ? .bricks(width: 0.5, height: 0.2, mortar: 0.03, normalAxis: 0, brick: Vector3(0.55, 0.3, 0.22), mortarColor: Vector3(0.75, 0.72, 0.68))
                        : .checker(size: 1.2, a: Vector3(0.7, 0.75, 0.8), b: Vector3(0.25, 0.3, 0.4)),
                    id: 20 + k * 2 + (side > 0 ? 1 : 0)))
            }
            objects.append(SceneObject(shape: .cylinder(base: Vector3(4.5, 0, z + 3), radius: 0.12, height: 5),
                                       texture: .solid(Vector3(0.3, 0.32, 0.35)), id: 40 + k))
            objects.append(SceneObject(shape: .sphere(center: Vector3(-4.6, 0.7, z + 5), radius: 0.8),
                                       texture: .noise(scale: 0.12, a: Vector3(0.1, 0.3, 0.08), b: Vector3(0.25, 0.55, 0.15)), id: 50 + k))
        }
        return Scene(objects: objects)
    }

    /// Ground truth for layer decomposition: a camera at (0, 1.5, 0) in a 24 × 12 × 24 m hall
    /// (the background, 6 m or more away), with objects floating in two shells around it: ids
    /// 20…25 between 3 and 4.2 m (the middle layer) and ids 10…15 between 1.4 and 2.4 m (the
    /// near layer). Render it ``without(ids:)`` a shell to see what the shell hides.
    public static var depthLayers: Scene {
        let hall: [SceneObject] = [
            SceneObject(shape: .plane(point: Vector3(0, -4.5, 0), normal: Vector3(0, 1, 0)),
                        texture: .checker(size: 1.5, a: Vector3(0.55, 0.5, 0.42), b: Vector3(0.35, 0.32, 0.28)), id: 1),
            SceneObject(shape: .plane(point: Vector3(0, 7.5, 0), normal: Vector3(0, -1, 0)),
                        texture: .noise(scale: 1.2, a: Vector3(0.8, 0.82, 0.85), b: Vector3(0.95, 0.95, 0.97)), id: 2),
            SceneObject(shape: .plane(point: Vector3(-12, 0, 0), normal: Vector3(1, 0, 0)),
                        texture: .bricks(width: 1.2, height: 0.4, mortar: 0.06, normalAxis: 0, brick: Vector3(0.6, 0.3, 0.22), mortarColor: Vector3(0.85, 0.83, 0.8)), id: 3),
            SceneObject(shape: .plane(point: Vector3(12, 0, 0), normal: Vector3(-1, 0, 0)),
                        texture: .stripes(width: 0.9, axis: 2, a: Vector3(0.3, 0.45, 0.6), b: Vector3(0.75, 0.8, 0.85)), id: 4),
            SceneObject(shape: .plane(point: Vector3(0, 0, 12), normal: Vector3(0, 0, -1)),
                        texture: .noise(scale: 0.8, a: Vector3(0.25, 0.45, 0.25), b: Vector3(0.6, 0.75, 0.45)), id: 5),
            SceneObject(shape: .plane(point: Vector3(0, 0, -12), normal: Vector3(0, 0, 1)),
                        texture: .checker(size: 1.0, a: Vector3(0.7, 0.6, 0.35), b: Vector3(0.9, 0.85, 0.6)), id: 6),
        ]
        var objects = hall
        let colours = [Vector3(0.85, 0.25, 0.2), Vector3(0.2, 0.6, 0.85), Vector3(0.9, 0.75, 0.2),
                       Vector3(0.5, 0.3, 0.7), Vector3(0.25, 0.7, 0.4), Vector3(0.9, 0.5, 0.6)]
        for k in 0..<6 {
            let colour = colours[k]
            // The middle shell: boxes, 3.5 m away at every 60°, alternately above and below eye level.
            let a = Double(k) * .pi / 3 + 0.3
            let centre = Vector3(3.5 * sin(a), 1.5 + (k % 2 == 0 ? 0.5 : -0.6), 3.5 * cos(a))
            objects.append(SceneObject(shape: .box(min: centre - Vector3(0.55, 0.45, 0.55), max: centre + Vector3(0.55, 0.45, 0.55), yaw: Double(k) * 17),
                                       texture: .stripes(width: 0.12, axis: 1, a: colour, b: colour * 0.6), id: 20 + k))
            // The near shell: spheres, 1.9 m away, each 14° beside a box and hiding about a
            // third of it (so the middle layer has a hidden part to fill, as the background does).
            let b = a + 0.25
            objects.append(SceneObject(shape: .sphere(center: Vector3(1.9 * sin(b), 1.5 + (k % 2 == 0 ? 0.15 : -0.2), 1.9 * cos(b)), radius: 0.45),
                                       texture: .noise(scale: 0.08, a: colour * 0.5, b: colour), id: 10 + k))
        }
        return Scene(objects: objects, light: Vector3(0.4, 1, 0.3), ambient: 0.5)
    }

    /// The scene without the objects whose ids are given (what they hide, as ground truth).
    public func without(ids: Set<Int>) -> Scene {
        var copy = self
        copy.objects.removeAll { ids.contains($0.id) }
        return copy
    }

    /// Land on one side and a flat water plane (marked fluid) on the other, with a pier.
    public static var waterfront: Scene {
        Scene(objects: [
            SceneObject(shape: .plane(point: Vector3(0, 0, 0), normal: Vector3(0, 1, 0)),
                        texture: .noise(scale: 0.4, a: Vector3(0.05, 0.22, 0.35), b: Vector3(0.15, 0.4, 0.55)), id: 1, isFluid: true),
            SceneObject(shape: .box(min: Vector3(-60, -1, -60), max: Vector3(60, 0.4, 2), yaw: 0),
                        texture: .noise(scale: 0.3, a: Vector3(0.45, 0.5, 0.25), b: Vector3(0.6, 0.62, 0.35)), id: 2),
            SceneObject(shape: .box(min: Vector3(-1, 0.2, 2), max: Vector3(1, 0.5, 14), yaw: 0),
                        texture: .stripes(width: 0.2, axis: 0, a: Vector3(0.55, 0.4, 0.25), b: Vector3(0.4, 0.28, 0.16)), id: 3),
            SceneObject(shape: .cylinder(base: Vector3(-4, 0.4, -3), radius: 0.3, height: 4), texture: .solid(Vector3(0.9, 0.9, 0.9)), id: 4),
            SceneObject(shape: .sphere(center: Vector3(5, 1.6, -4), radius: 1.2),
                        texture: .noise(scale: 0.15, a: Vector3(0.1, 0.35, 0.1), b: Vector3(0.3, 0.6, 0.2)), id: 5),
        ], light: Vector3(-0.5, 0.8, 0.6))
    }
}

/// A camera moving through keyframes, interpolated linearly in position and angles.
public struct CameraPath: Sendable, Equatable, Codable {
    /// A pose at a time.
    public struct Keyframe: Sendable, Equatable, Codable {
        public var time: Double
        public var position: Vector3
        public var yaw: Double, pitch: Double, roll: Double

        public init(time: Double, position: Vector3, yaw: Double = 0, pitch: Double = 0, roll: Double = 0) {
            (self.time, self.position, self.yaw, self.pitch, self.roll) = (time, position, yaw, pitch, roll)
        }
    }

    /// Keyframes in increasing time.
    public var keyframes: [Keyframe]

    public init(keyframes: [Keyframe]) {
        precondition(!keyframes.isEmpty, "a path needs a keyframe")
        self.keyframes = keyframes.sorted { $0.time < $1.time }
    }

    /// The pose at time `t` (clamped to the first and last keyframes).
    public func pose(at t: Double) -> Keyframe {
        guard let after = keyframes.firstIndex(where: { $0.time >= t }) else { return keyframes[keyframes.count - 1] }
        guard after > 0 else { return keyframes[0] }
        let a = keyframes[after - 1], b = keyframes[after]
        let s = b.time > a.time ? (t - a.time) / (b.time - a.time) : 0
        func mix(_ x: Double, _ y: Double) -> Double { x + (y - x) * s }
        return Keyframe(time: t, position: a.position + (b.position - a.position) * s,
                        yaw: mix(a.yaw, b.yaw), pitch: mix(a.pitch, b.pitch), roll: mix(a.roll, b.roll))
    }
}

extension CameraPath {
    /// A walk through ``Scene/indoorRoom``: 1.2 m forward from (0.3, 1.5, −3.2), swaying 10 cm
    /// sideways and 5 cm up, turning from −5° to 10° while looking a little down. Ground
    /// truth for camera motion and for depth from it.
    public static let roomWalk = CameraPath(keyframes: [
        .init(time: 0, position: Vector3(0.3, 1.5, -3.2), yaw: -5, pitch: -3),
        .init(time: 0.5, position: Vector3(0.4, 1.55, -2.6), yaw: 2, pitch: -5),
        .init(time: 1, position: Vector3(0.25, 1.5, -2.0), yaw: 10, pitch: -3),
    ])

    /// The camera of `model` at time `t` on the path.
    public func camera(at t: Double, model: Camera.Model) -> Camera {
        let pose = pose(at: t)
        return Camera(model: model, position: pose.position, rotation: Rotation(yaw: pose.yaw, pitch: pose.pitch, roll: pose.roll))
    }
}
