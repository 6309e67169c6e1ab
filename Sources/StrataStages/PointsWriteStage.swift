import Foundation
import StrataCore
import StrataIO
import StrataPipeline
import StrataSphere

/// `points.write`: a frame's depth as a coloured point cloud (binary PLY), to look at the
/// result in 3D (MeshLab, CloudCompare, Blender, Open3D).
final class PointsWriteStage: FrameSink {
    static let descriptor = StageDescriptor(
        name: "points.write", kind: .sink,
        doc: "Depth and colour as a coloured point cloud, binary PLY (atomic), for every n-th frame.",
        inputs: [PortSpec("depth", .depth), PortSpec("image", .image, doc: "The colours, the depth's size.")],
        params: [ParamSpec("pattern", .string, default: .string("points/%05d.ply"), doc: "printf pattern under the output folder, .ply."),
                 ParamSpec("every", .integer(min: 1, max: nil), default: .number(1), doc: "Write frames 1, 1 + every, 1 + 2·every… of the run."),
                 ParamSpec("step", .integer(min: 1, max: 64), default: .number(2), unit: "px", doc: "Take every step-th pixel in each direction (4× fewer points at 2).")])

    let files: FramePattern
    private let every: Int
    private let step: Int

    init(_ context: StageContext) throws {
        files = try numberedPattern(context, extensions: ["ply"])
        every = try context.int("every")
        step = try context.int("step")
    }

    private func chosen(_ frame: FrameInfo) -> Bool { frame.position % every == 0 }

    func outputs(for frame: FrameInfo) -> [URL]? { chosen(frame) ? [URL(fileURLWithPath: files.path(frame.number))] : [] }

    func prepare() throws { try prepareFolder(of: files) }

    func write(_ inputs: consuming PortValues, frame: FrameInfo) throws {
        guard chosen(frame) else { return }
        let depth: DepthMap = try inputs.get("depth")
        let image: Image = try inputs.get("image")
        guard image.width == depth.width, image.height == depth.height else {
            throw StageError("points.write: depth \(depth.width)x\(depth.height) and image \(image.width)x\(image.height) differ in size")
        }
        let (points, colors) = try Self.cloud(depth, image: image, step: step)
        try PLY.write(points: points, colors: colors, to: URL(fileURLWithPath: files.path(frame.number)))
    }

    /// Distance along the ray (relative depth: 1 / disparity) times each pixel's direction:
    /// on the sphere for an equirect, through the intrinsics for a pinhole view.
    static func cloud(_ depth: DepthMap, image: Image, step: Int) throws -> ([SIMD3<Float>], [SIMD3<Float>]) {
        let (w, h) = (depth.width, depth.height)
        var points: [SIMD3<Float>] = [], colors: [SIMD3<Float>] = []
        for y in stride(from: 0, to: h, by: step) {
            for x in stride(from: 0, to: w, by: step) {
                var d = Double(depth[y, x])
                if depth.kind == .inverseRelative { d = d > 0 ? 1 / d : .nan }
                guard d.isFinite, d > 0 else { continue }
                let direction: Vector3
                switch depth.projection {
                case .equirectangular:
                    direction = Equirect.direction(x: Double(x), y: Double(y), width: w, height: h)
                case .pinhole(let k):
                    let ray = PerspectiveView(yaw: 0, pitch: 0, intrinsics: k).localRay(x: Double(x), y: Double(y))
                    // z-depth scales the ray with z = 1; a distance along the ray, its unit vector.
                    direction = depth.quantity == .zDepth ? ray : ray / (ray * ray).sum().squareRoot()
                default:
                    throw StageError("points.write needs an equirect or pinhole depth map, not \(depth.projection)")
                }
                let p = direction * d
                points.append(SIMD3<Float>(Float(p.x), Float(p.y), Float(p.z)))
                let c = image.channels >= 3 ? (image[0, y, x], image[1, y, x], image[2, y, x]) : (image[0, y, x], image[0, y, x], image[0, y, x])
                colors.append(SIMD3<Float>(c.0, c.1, c.2))
            }
        }
        return (points, colors)
    }
}
