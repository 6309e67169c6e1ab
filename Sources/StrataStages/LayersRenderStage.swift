import Foundation
import StrataCore
import StrataLayers
import StrataPipeline
import StrataSphere

/// `layers.render`: the layered scene seen from a moved camera, to an equirect or a
/// perspective view: each layer's pixels splatted forward at their depth with a depth
/// test, the layers composited back to front with their alpha. What no layer covers (past
/// the fill band) takes its neighbours' colour.
final class LayersRenderStage: FrameProcessor, @unchecked Sendable {
    static let descriptor = StageDescriptor(
        name: "layers.render", kind: .perFrame,
        doc: "The scene's depth layers rendered from a moved camera (forward splatting with a depth test, layers composited back to front).",
        inputs: [PortSpec("image", .image), PortSpec("depth", .depth),
                 PortSpec("x", .number, required: false, doc: "Camera right, metres (depth units)."),
                 PortSpec("y", .number, required: false, doc: "Camera up."), PortSpec("z", .number, required: false, doc: "Camera forward."),
                 PortSpec("yaw", .number, required: false, doc: "Degrees, positive to the right."),
                 PortSpec("pitch", .number, required: false, doc: "Degrees, positive up.")],
        outputs: [PortSpec("image", .image, doc: "RGB.")],
        params: [ParamSpec("projection", .choice(["auto", "equirect", "perspective"]), default: .string("auto"),
                           doc: "The view rendered: auto is the input's (an equirect stays one)."),
                 ParamSpec("width", .integer(min: 0, max: 16384), default: .number(0), unit: "px", doc: "0: the input's width."),
                 ParamSpec("height", .integer(min: 0, max: 16384), default: .number(0), unit: "px", doc: "0: the input's height."),
                 ParamSpec("fov", .number(min: 1, max: 179), default: .number(90), unit: "deg", doc: "Perspective views: horizontal field of view.")]
                + LayerInputs.params)

    private let decomposition: LayerDecomposition
    private let projection: String
    private let size: (width: Int, height: Int)
    private let fov: Double
    /// The last input and its layers: a still scene rendered along a path is decomposed once.
    private var cached: (image: Image, depth: DepthMap, scene: LayeredScene)?
    private let lock = NSLock()

    init(_ context: StageContext) throws {
        decomposition = try LayerInputs.decomposition(context)
        projection = try context.string("projection")
        size = (try context.int("width"), try context.int("height"))
        fov = try context.double("fov")
    }

    func scene(_ image: Image, _ depth: DepthMap) throws -> LayeredScene {
        try lock.withLock {
            if let cached, cached.image == image, cached.depth.values == depth.values { return cached.scene }
            var settings = decomposition
            settings.wrap = depth.projection == .equirectangular
            let scene = try settings.decompose(color: image, depth: depth)
            cached = (image, depth, scene)
            return scene
        }
    }

    func process(_ inputs: consuming PortValues, frame: FrameInfo) throws -> PortValues {
        let image: Image = try inputs.get("image")
        let depth = try LayerInputs.depth(try inputs.get("depth"), matching: image)
        func number(_ port: String) throws -> Double { inputs[port] == nil ? 0 : try inputs.get(port) as Double }
        let scene = try self.scene(image, depth)
        let equirect = projection == "equirect" || (projection == "auto" && depth.projection == .equirectangular)
        let (w, h) = (size.width > 0 ? size.width : image.width, size.height > 0 ? size.height : image.height)
        let camera = LayerRenderer.Camera(position: Vector3(try number("x"), try number("y"), try number("z")),
                                          rotation: Rotation(yaw: try number("yaw"), pitch: try number("pitch")),
                                          equirect: equirect, width: w, height: h, fov: fov)
        let rays = LayerExports.Rays(depth.projection, quantity: depth.quantity, width: image.width, height: image.height)
        return PortValues(["image": LayerRenderer.render(scene, kind: depth.kind, rays: rays, camera: camera)])
    }
}

/// Forward splatting of a layered scene into a new camera.
enum LayerRenderer {
    struct Camera {
        var position: Vector3
        /// Camera to world.
        var rotation: Rotation
        var equirect: Bool
        var width: Int, height: Int
        /// Perspective: horizontal field of view in degrees.
        var fov: Double

        /// Where world point `p` lands (sample position, pixel centres at integers), its
        /// distance, and the angle one output pixel spans there; nil behind a perspective view.
        func project(_ p: Vector3) -> (x: Double, y: Double, distance: Double, pixelAngle: Double)? {
            let q = rotation.applyInverse(p - position)
            let distance = (q * q).sum().squareRoot()
            guard distance > 0 else { return nil }
            if equirect {
                let lon = atan2(q.x, q.z), lat = asin(max(-1, min(1, q.y / distance)))
                return ((lon / (2 * .pi) + 0.5) * Double(width) - 0.5, (0.5 - lat / .pi) * Double(height) - 0.5, distance, .pi / Double(height))
            }
            guard q.z > 1e-6 else { return nil }
            let f = Double(width) / 2 / tan(fov * .pi / 360)
            return (q.x / q.z * f + Double(width) / 2 - 0.5, -q.y / q.z * f + Double(height) / 2 - 0.5, distance, 1 / f)
        }
    }

    static func render(_ scene: LayeredScene, kind: DepthKind, rays: LayerExports.Rays, camera: Camera) -> Image {
        let (w, h) = (camera.width, camera.height)
        let count = w * h
        var out = [Float](repeating: 0, count: 3 * count), covered = [Float](repeating: 0, count: count)
        let plane = scene.width * scene.height
        for layer in scene.layers.reversed() {
            // The layer alone, nearest splat winning, then over what lies behind it.
            var colour = [Float](repeating: 0, count: 4 * count), nearest = [Float](repeating: .infinity, count: count)
            for y in 0..<scene.height {
                for x in 0..<scene.width {
                    let i = y * scene.width + x
                    guard let (p, along, a) = LayerExports.lift(layer, x: x, y: y, width: scene.width, kind: kind, rays: rays) else { continue }
                    guard let target = camera.project(p) else { continue }
                    // The source pixel's footprint seen from the new camera, in output pixels.
                    let span = along * rays.pixelAngle(x, y) / target.distance / target.pixelAngle
                    // (A footprint of about one pixel is one pixel: where nothing moved, the
                    // render is the input.)
                    let r = span <= 1.05 ? 0 : Int((span / 2).rounded(.up))
                    let (cx, cy) = (Int(target.x.rounded()), Int(target.y.rounded()))
                    for oy in (cy - r)...(cy + r) where oy >= 0 && oy < h {
                        for ox in (cx - r)...(cx + r) {
                            let px = camera.equirect ? ((ox % w) + w) % w : ox
                            guard px >= 0, px < w else { continue }
                            let o = oy * w + px
                            // The depth test, off-centre coverage losing ties to a splat centred
                            // there, so neighbours at one depth do not smear into each other.
                            let offset = Double((ox - cx) * (ox - cx) + (oy - cy) * (oy - cy))
                            let key = Float(target.distance * (1 + 0.01 * offset))
                            guard key < nearest[o] else { continue }
                            nearest[o] = key
                            for c in 0..<3 { colour[c * count + o] = layer.color.pixels[c * plane + i] }
                            colour[3 * count + o] = a
                        }
                    }
                }
            }
            for o in 0..<count where colour[3 * count + o] > 0 {
                let a = colour[3 * count + o]
                for c in 0..<3 { out[c * count + o] = a * colour[c * count + o] + (1 - a) * out[c * count + o] }
                covered[o] = a + (1 - a) * covered[o]
            }
        }
        // What no layer reached: the mean of covered neighbours, a ring at a time.
        for _ in 0..<16 {
            var changed = false
            let before = covered
            for y in 0..<h {
                for x in 0..<w where before[y * w + x] == 0 {
                    var (sum, n) = ([Float](repeating: 0, count: 3), Float(0))
                    for (dx, dy) in [(-1, 0), (1, 0), (0, -1), (0, 1)] {
                        let (xx, yy) = (camera.equirect ? (x + dx + w) % w : x + dx, y + dy)
                        guard xx >= 0, xx < w, yy >= 0, yy < h, before[yy * w + xx] > 0 else { continue }
                        for c in 0..<3 { sum[c] += out[c * count + yy * w + xx] / before[yy * w + xx] }
                        n += 1
                    }
                    guard n > 0 else { continue }
                    for c in 0..<3 { out[c * count + y * w + x] = sum[c] / n }
                    covered[y * w + x] = 1
                    changed = true
                }
            }
            if !changed { break }
        }
        // Partly covered pixels were composited over black: bring them to full strength.
        for o in 0..<count where covered[o] > 0 && covered[o] < 1 { for c in 0..<3 { out[c * count + o] /= covered[o] } }
        return Image(width: w, height: h, channels: 3, pixels: out)
    }
}
