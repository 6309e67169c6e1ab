import Foundation
import StrataCore

/// A rendered view with its exact ground truth.
public struct SynthRender: Sendable {
    /// RGB, 0…1, antialiased by supersampling.
    public var color: Image
    /// Exact depth of the pixel-centre ray: z-depth for pinhole cameras, distance along the
    /// ray for equirectangular ones; NaN where the ray sees sky.
    public var depth: DepthMap
    /// World-space unit normals (3 channels), 0 for sky.
    public var normals: Image
    /// Object ids (0 for sky).
    public var ids: Image
    /// 1 where the pixel-centre ray hits a fluid object.
    public var fluidMask: Image
}

/// Ray casting of procedural scenes: Lambert shading with one directional light.
public enum Renderer {
    /// Renders `scene` as `camera` sees it; `supersampling` n casts n × n colour rays per
    /// pixel (the ground-truth maps always use the pixel centre, so they stay exact).
    public static func render(_ scene: Scene, camera: Camera, supersampling: Int = 2) -> SynthRender {
        let (w, h) = (camera.width, camera.height)
        let n = max(1, supersampling)
        let plane = w * h
        var color = [Float](repeating: 0, count: 3 * plane)
        var depth = [Float](repeating: .nan, count: plane)
        var normals = [Float](repeating: 0, count: 3 * plane)
        var ids = [Float](repeating: 0, count: plane)
        var fluid = [Float](repeating: 0, count: plane)
        let light = normalize(scene.light)
        let isPinhole: Bool = { if case .pinhole = camera.model { return true } else { return false } }()
        color.withUnsafeMutableBufferPointer { colorBuffer in
            depth.withUnsafeMutableBufferPointer { depthBuffer in
                normals.withUnsafeMutableBufferPointer { normalBuffer in
                    ids.withUnsafeMutableBufferPointer { idBuffer in
                        fluid.withUnsafeMutableBufferPointer { fluidBuffer in
                            let out = UncheckedSendable((colorBuffer.baseAddress!, depthBuffer.baseAddress!, normalBuffer.baseAddress!,
                                                         idBuffer.baseAddress!, fluidBuffer.baseAddress!))
                            Parallel.forEachBand(h, minimumBand: 4) { rows in
                                let (c, d, nm, id, fl) = out.value
                                for y in rows {
                                    for x in 0..<w {
                                        let i = y * w + x
                                        // Ground truth from the pixel centre.
                                        let local = camera.localDirection(u: Double(x) + 0.5, v: Double(y) + 0.5)
                                        let direction = camera.rotation.apply(local)
                                        if let (hit, object) = trace(scene, origin: camera.position, direction: direction) {
                                            d[i] = Float(isPinhole ? hit.distance * local.z : hit.distance)
                                            nm[i] = Float(hit.normal.x); nm[plane + i] = Float(hit.normal.y); nm[2 * plane + i] = Float(hit.normal.z)
                                            id[i] = Float(object.id)
                                            fl[i] = object.isFluid ? 1 : 0
                                        }
                                        // Colour from n × n stratified samples.
                                        var sum = Vector3.zero
                                        for sy in 0..<n {
                                            for sx in 0..<n {
                                                let u = Double(x) + (Double(sx) + 0.5) / Double(n)
                                                let v = Double(y) + (Double(sy) + 0.5) / Double(n)
                                                let ray = camera.rotation.apply(camera.localDirection(u: u, v: v))
                                                sum += shade(scene, origin: camera.position, direction: ray, light: light)
                                            }
                                        }
                                        let mean = sum / Double(n * n)
                                        c[i] = Float(mean.x); c[plane + i] = Float(mean.y); c[2 * plane + i] = Float(mean.z)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return SynthRender(
            color: Image(width: w, height: h, channels: 3, pixels: color),
            depth: DepthMap(values: Image(width: w, height: h, channels: 1, pixels: depth), kind: .metric,
                            quantity: isPinhole ? .zDepth : .rayDistance, projection: camera.projection),
            normals: Image(width: w, height: h, channels: 3, pixels: normals),
            ids: Image(width: w, height: h, channels: 1, pixels: ids),
            fluidMask: Image(width: w, height: h, channels: 1, pixels: fluid))
    }

    /// The nearest surface along the ray.
    static func trace(_ scene: Scene, origin: Vector3, direction: Vector3) -> (Hit, SceneObject)? {
        var best: (Hit, SceneObject)?
        for object in scene.objects {
            if let hit = object.shape.intersect(origin: origin, direction: direction),
               hit.distance < (best?.0.distance ?? .infinity) {
                best = (hit, object)
            }
        }
        return best
    }

    static func shade(_ scene: Scene, origin: Vector3, direction: Vector3, light: Vector3) -> Vector3 {
        guard let (hit, object) = trace(scene, origin: origin, direction: direction) else {
            let up = max(0, direction.y)
            return scene.horizon + (scene.zenith - scene.horizon) * up
        }
        let point = origin + direction * hit.distance
        let lambert = max(0, dot(hit.normal, light))
        let albedo = object.texture.color(at: point)
        let lit = albedo * (scene.ambient + (1 - scene.ambient) * lambert)
        return Vector3(min(lit.x, 1), min(lit.y, 1), min(lit.z, 1))
    }
}
