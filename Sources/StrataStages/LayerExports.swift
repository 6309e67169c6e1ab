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

    /// Triangle meshes per layer over the pixels it holds, each vertex at its distance
    /// along its ray with the layer's colour and alpha, simplified to `budget` triangles for
    /// the whole scene by a restricted quadtree (``QuadtreeMesh``): cells merge where the
    /// disparity (and, for a variant with `colour`, the vertex colours) stays bilinear
    /// within one tolerance shared by every layer, the smallest that fits. One set of
    /// meshes per entry of `colour`. The finest cells are `step` pixels across (a quarter
    /// of the uniform grid that would fit, doubled until the coarsest mesh fits), and there
    /// a triangle is dropped where its corners' distances differ by more than 4% per pixel
    /// of spacing: the mesh is cut at depth discontinuities rather than stretched across
    /// them. An equirect's grid closes across the 0°/360° seam.
    static func meshes(_ scene: LayeredScene, kind: DepthKind, rays: Rays, budget: Int, wrap: Bool, colour variants: [Bool])
        -> (step: Int, sets: [(tolerance: Float, meshes: [Mesh])]) {
        let (w, h) = (scene.width, scene.height)
        let plane = w * h
        let held = scene.layers.reduce(0) { total, layer in total + (0..<plane).filter { layer.color.pixels[3 * plane + $0] > 0 }.count }
        let uniform = max(1, Int((2 * Double(held) / Double(max(budget, 1))).squareRoot().rounded(.up)))
        var step = max(1, (uniform + 3) / 4)
        while true {
            let grids = Parallel.map(scene.layers) { grid($0, width: w, height: h, step: step, kind: kind, rays: rays, wrap: wrap) }
            // Disparity over the scene's largest, so one tolerance means the same parallax
            // error in every layer; colour deviations count a tenth as much (0.02 ≈ 5 levels
            // in 255 weighs as 0.2% of the largest disparity).
            let largest = grids.flatMap(\.distance).reduce(Float(0)) { $1 > 0 && $1.isFinite ? max($0, 1 / $1) : $0 }
            let jump = 1 + 0.04 * Float(step)
            let geometry = Parallel.map(grids) { g in
                QuadtreeMesh(columns: g.columns, rows: g.rows, held: g.held, distance: g.distance,
                             channels: [g.distance.map { $0 > 0 && $0.isFinite ? 1 / $0 / max(largest, .leastNormalMagnitude) : 0 }], jump: jump)
            }
            var sets: [(Float, [Mesh])] = []
            for colour in variants {
                let trees = colour ? Parallel.map(Array(zip(geometry, grids))) { tree, g in tree.adding((0..<4).map { c in g.colors.map { 0.1 * $0[c] } }) } : geometry
                guard let (triangles, tolerance) = QuadtreeMesh.triangles(trees, budget: budget) else { break }
                sets.append((tolerance, zip(grids, triangles).map { g, t in g.mesh(t) }))
            }
            if sets.count == variants.count { return (step, sets) }
            // A grid of one cell is two triangles a layer; a budget below that gets none.
            guard step < max(w, h) else { return (step, variants.map { _ in (.infinity, grids.map { _ in Mesh(vertices: [], colors: [], uvs: [], triangles: []) }) }) }
            step *= 2
        }
    }

    /// A layer's samples every `step` pixels: per node whether the layer holds it, its
    /// distance, colour, position and texture coordinate. An equirect's grid gets the first
    /// column again at its end (texture u = 1), so the cells across the seam read the
    /// texture's edges, not all of it.
    struct Grid {
        var columns: Int, rows: Int
        var held: [Bool], distance: [Float], colors: [SIMD4<Float>], positions: [SIMD3<Float>], uvs: [SIMD2<Float>]

        /// The nodes the triangles use, renumbered.
        func mesh(_ triangles: [SIMD3<Int32>]) -> Mesh {
            var index = [Int32](repeating: -1, count: held.count)
            var mesh = Mesh(vertices: [], colors: [], uvs: [], triangles: [])
            mesh.triangles.reserveCapacity(triangles.count)
            for t in triangles {
                var corners = SIMD3<UInt32>()
                for c in 0..<3 {
                    let node = Int(t[c])
                    if index[node] < 0 {
                        index[node] = Int32(mesh.vertices.count)
                        mesh.vertices.append(positions[node])
                        mesh.colors.append(colors[node])
                        mesh.uvs.append(uvs[node])
                    }
                    corners[c] = UInt32(index[node])
                }
                mesh.triangles.append(corners)
            }
            return mesh
        }
    }

    static func grid(_ layer: Layer, width w: Int, height h: Int, step: Int, kind: DepthKind, rays: Rays, wrap: Bool) -> Grid {
        let plane = w * h
        let xs = Array(stride(from: 0, to: w, by: step)), ys = Array(stride(from: 0, to: h, by: step))
        let columns = xs.count + (wrap ? 1 : 0)
        let count = columns * ys.count
        var g = Grid(columns: columns, rows: ys.count, held: [Bool](repeating: false, count: count), distance: [Float](repeating: .nan, count: count),
                     colors: [SIMD4<Float>](repeating: .zero, count: count), positions: [SIMD3<Float>](repeating: .zero, count: count),
                     uvs: [SIMD2<Float>](repeating: .zero, count: count))
        for (j, y) in ys.enumerated() {
            for i in 0..<columns {
                let x = xs[i % xs.count]
                let (node, p) = (j * columns + i, y * w + x)
                g.uvs[node] = SIMD2<Float>(i == xs.count ? 1 : (Float(x) + 0.5) / Float(w), (Float(y) + 0.5) / Float(h))
                guard let (position, along, a) = lift(layer, x: x, y: y, width: w, kind: kind, rays: rays) else { continue }
                g.held[node] = true
                g.distance[node] = Float(along)
                g.positions[node] = SIMD3<Float>(Float(position.x), Float(position.y), Float(position.z))
                g.colors[node] = SIMD4<Float>(layer.color.pixels[p], layer.color.pixels[plane + p], layer.color.pixels[2 * plane + p], a)
            }
        }
        return g
    }
}
