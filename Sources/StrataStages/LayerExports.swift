import Foundation
import StrataCore
import StrataIO
import StrataLayers
import StrataSphere

/// A layered scene lifted to 3D for the point-cloud and splat exports: each pixel a layer
/// holds, at its distance along its ray (x right, y up, z forward, Strata's camera frame).
enum LayerExports {
    /// A pixel's ray and how wide one pixel is at unit distance along it.
    struct Rays {
        let ray: (Int, Int) -> (direction: Vector3, zScaled: Bool)
        let pixelAngle: (Int, Int) -> Double

        init(_ projection: Projection, quantity: DepthQuantity, width: Int, height: Int) {
            switch projection {
            case .equirectangular:
                ray = { x, y in (Equirect.direction(x: Double(x), y: Double(y), width: width, height: height), false) }
                pixelAngle = { _, _ in Double.pi / Double(height) }
            default:
                // A pinhole; a photo that says nothing is taken at 60° across, as depth.estimate does.
                var k = PinholeIntrinsics(horizontalFOV: 60, width: width, height: height)
                if case .pinhole(let given) = projection { k = given }
                let view = PerspectiveView(yaw: 0, pitch: 0, intrinsics: k)
                ray = { x, y in
                    let r = view.localRay(x: Double(x), y: Double(y))
                    return quantity == .zDepth ? (r, true) : (r / (r * r).sum().squareRoot(), false)
                }
                pixelAngle = { _, _ in 1 / k.fx }
            }
        }
    }

    /// Every `step`-th pixel of each layer with alpha above 0: position, colour, alpha and
    /// the pixel's footprint there (its width at that distance).
    static func samples(_ scene: LayeredScene, kind: DepthKind, rays: Rays, step: Int) -> [(layer: Int, position: SIMD3<Float>, color: SIMD3<Float>, alpha: Float, footprint: Float, direction: SIMD3<Float>)] {
        let (w, h) = (scene.width, scene.height)
        let plane = w * h
        var out: [(Int, SIMD3<Float>, SIMD3<Float>, Float, Float, SIMD3<Float>)] = []
        for (k, layer) in scene.layers.enumerated() {
            for y in stride(from: 0, to: h, by: step) {
                for x in stride(from: 0, to: w, by: step) {
                    let i = y * w + x
                    let a = layer.color.pixels[3 * plane + i]
                    var d = Double(layer.depth.pixels[i])
                    if kind == .inverseRelative { d = d > 0 ? 1 / d : .nan }
                    guard a > 0, d.isFinite, d > 0 else { continue }
                    let (direction, zScaled) = rays.ray(x, y)
                    let p = direction * d
                    let distance = zScaled ? (p * p).sum().squareRoot() : d
                    let unit = p / (p * p).sum().squareRoot()
                    out.append((k, SIMD3<Float>(Float(p.x), Float(p.y), Float(p.z)),
                                SIMD3<Float>(layer.color.pixels[i], layer.color.pixels[plane + i], layer.color.pixels[2 * plane + i]),
                                a, Float(distance * rays.pixelAngle(x, y) * Double(step)),
                                SIMD3<Float>(Float(unit.x), Float(unit.y), Float(unit.z))))
                }
            }
        }
        return out
    }

    /// Splats facing the camera: flat discs across the ray, as wide as a pixel's footprint
    /// (σ 0.6 of it, so neighbours blend), a tenth of that deep, the layer's alpha as opacity.
    static func splats(_ samples: [(layer: Int, position: SIMD3<Float>, color: SIMD3<Float>, alpha: Float, footprint: Float, direction: SIMD3<Float>)]) -> [SplatPLY.Splat] {
        samples.map { s in
            let u = s.direction
            // The rotation taking the splat's z axis onto the ray.
            var q = SIMD4<Float>(1 + u.z, -u.y, u.x, 0)
            let n = (q * q).sum().squareRoot()
            q = n > 1e-6 ? q / n : SIMD4<Float>(0, 1, 0, 0)
            return SplatPLY.Splat(position: s.position, color: s.color, opacity: s.alpha,
                                  scale: SIMD3<Float>(0.6 * s.footprint, 0.6 * s.footprint, 0.1 * s.footprint), rotation: q)
        }
    }
}
