import Foundation
import StrataCore
import StrataIO
import StrataLayers
import StrataSphere

/// A layered scene lifted to 3D for the point-cloud and splat exports: each pixel a layer
/// holds, at its distance along its ray (x right, y up, z forward, Strata's camera frame).
enum LayerExports {
    /// One layer's triangles: positions, colours with alpha, texture coordinates into the
    /// layer's image (u right, v down), and counter-clockwise triangles seen from the camera.
    struct Mesh {
        var vertices: [SIMD3<Float>]
        var colors: [SIMD4<Float>]
        var uvs: [SIMD2<Float>]
        var triangles: [SIMD3<UInt32>]
    }

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

    /// Pixel (x, y) of `layer` in 3D when the layer holds it (alpha above 0, valid depth):
    /// its position at its depth along its ray, its distance from the camera, its alpha.
    static func lift(_ layer: Layer, x: Int, y: Int, width: Int, kind: DepthKind, rays: Rays)
        -> (position: Vector3, distance: Double, alpha: Float)? {
        let i = y * width + x
        let plane = layer.depth.pixels.count
        let a = layer.color.pixels[3 * plane + i]
        var d = Double(layer.depth.pixels[i])
        if kind == .inverseRelative { d = d > 0 ? 1 / d : .nan }
        guard a > 0, d.isFinite, d > 0 else { return nil }
        let (direction, zScaled) = rays.ray(x, y)
        let p = direction * d
        return (p, zScaled ? (p * p).sum().squareRoot() : d, a)
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
                    guard let (p, distance, a) = lift(layer, x: x, y: y, width: w, kind: kind, rays: rays) else { continue }
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

    /// One triangle mesh per layer: a grid over the pixels the layer holds, every `step`
    /// pixels (the smallest step that keeps the whole scene within `budget` triangles),
    /// each vertex at its distance along its ray with the layer's colour and alpha; a
    /// triangle is dropped where its corners' distances differ by more than 4% per pixel
    /// of spacing, so the mesh is cut at depth discontinuities rather than stretched
    /// across them. An equirect's grid closes across the 0°/360° seam.
    static func meshes(_ scene: LayeredScene, kind: DepthKind, rays: Rays, budget: Int, wrap: Bool)
        -> (step: Int, meshes: [Mesh]) {
        let (w, h) = (scene.width, scene.height)
        let plane = w * h
        let held = scene.layers.reduce(0) { total, layer in total + (0..<plane).filter { layer.color.pixels[3 * plane + $0] > 0 }.count }
        let step = max(1, Int((2 * Double(held) / Double(max(budget, 1))).squareRoot().rounded(.up)))
        let xs = Array(stride(from: 0, to: w, by: step)), ys = Array(stride(from: 0, to: h, by: step))
        let jump = 1 + 0.04 * Float(step)
        var out: [Mesh] = []
        // An equirect's grid gets the first column again at its end (texture u = 1), so
        // the triangles across the seam read the texture's edges, not all of it.
        let columns = xs.count + (wrap ? 1 : 0)
        for layer in scene.layers {
            var index = [Int32](repeating: -1, count: columns * ys.count)
            var distance: [Float] = []
            var vertices: [SIMD3<Float>] = [], colors: [SIMD4<Float>] = [], uvs: [SIMD2<Float>] = []
            for (j, y) in ys.enumerated() {
                for i in 0..<columns {
                    let x = xs[i % xs.count]
                    let p = y * w + x
                    guard let (position, along, a) = lift(layer, x: x, y: y, width: w, kind: kind, rays: rays) else { continue }
                    index[j * columns + i] = Int32(vertices.count)
                    uvs.append(SIMD2<Float>(i == xs.count ? 1 : (Float(x) + 0.5) / Float(w), (Float(y) + 0.5) / Float(h)))
                    vertices.append(SIMD3<Float>(Float(position.x), Float(position.y), Float(position.z)))
                    distance.append(Float(along))
                    colors.append(SIMD4<Float>(layer.color.pixels[p], layer.color.pixels[plane + p], layer.color.pixels[2 * plane + p], a))
                }
            }
            var triangles: [SIMD3<UInt32>] = []
            func add(_ a: Int32, _ b: Int32, _ c: Int32) {
                guard a >= 0, b >= 0, c >= 0 else { return }
                let ds = [distance[Int(a)], distance[Int(b)], distance[Int(c)]]
                guard ds.max()! <= ds.min()! * jump else { return }
                triangles.append(SIMD3<UInt32>(UInt32(a), UInt32(b), UInt32(c)))
            }
            for j in 0..<(ys.count - 1) {
                for i in 0..<(columns - 1) {
                    let (a, b) = (index[j * columns + i], index[j * columns + i + 1])
                    let (c, d) = (index[(j + 1) * columns + i], index[(j + 1) * columns + i + 1])
                    // Counter-clockwise seen from the camera (the image's rows run down, its
                    // y up): the front faces face it.
                    add(a, b, c)
                    add(b, d, c)
                }
            }
            out.append(Mesh(vertices: vertices, colors: colors, uvs: uvs, triangles: triangles))
        }
        return (step, out)
    }
}
