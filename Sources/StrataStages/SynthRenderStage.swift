import Foundation
import StrataCore
import StrataIO
import StrataPipeline
import StrataSynth

/// `synth.render`: a StrataSynth scene along a straight walk, with exact depth.
final class SynthRenderStage: FrameSource, Sendable {
    static let descriptor = StageDescriptor(
        name: "synth.render", kind: .source, doc: "Render a StrataSynth scene with exact ground truth.",
        outputs: [PortSpec("image", .image, doc: "Colour, RGB 0…1."),
                  PortSpec("depth", .depth, doc: "Metric depth: ray distance (equirect) or z-depth (pinhole)."),
                  PortSpec("fluid", .mask, doc: "1 where the surface is water or sky.")],
        params: [ParamSpec("scene", .string, default: .string("indoor"), doc: "indoor, street, water or a scene JSON file."),
                 ParamSpec("camera", .choice(["equirect", "pinhole"]), default: .string("equirect"), doc: "Camera model."),
                 ParamSpec("width", .integer(min: 1, max: 16384), default: .number(1024), unit: "px", doc: "Image width."),
                 ParamSpec("height", .integer(min: 1, max: 16384), default: .number(512), unit: "px", doc: "Image height."),
                 ParamSpec("fov", .number(min: 1, max: 179), default: .number(90), unit: "°", doc: "Pinhole horizontal field of view."),
                 ParamSpec("position", .string, default: .string("0,1.5,0"), unit: "m", doc: "Camera start x,y,z (y up)."),
                 ParamSpec("yaw", .number(min: -360, max: 360), default: .number(0), unit: "°", doc: "Heading; the walk goes this way."),
                 ParamSpec("frames", .integer(min: 1, max: nil), default: .number(1), doc: "Frames along the walk."),
                 ParamSpec("walk", .number(min: nil, max: nil), default: .number(0), unit: "m", doc: "Distance walked forward."),
                 ParamSpec("supersampling", .integer(min: 1, max: 8), default: .number(2), doc: "Colour rays per pixel along each axis.")])

    private let scene: Scene
    private let model: Camera.Model
    private let path: CameraPath
    let frameCount: Int

    init(_ context: StageContext) throws {
        let name = try context.string("scene")
        if let builtIn = Scene.builtIn(name) {
            scene = builtIn
        } else if name.hasSuffix(".json") {
            let data = try Data(contentsOf: URL(fileURLWithPath: name))
            do { scene = try JSONDecoder().decode(Scene.self, from: data) } catch {
                throw context.invalid("scene", "\(name) is not a valid scene: \(error)")
            }
        } else {
            throw context.invalid("scene", "\"\(name)\" is neither a built-in scene (\(Scene.builtInNames.joined(separator: ", "))) nor a .json file")
        }
        let width = try context.int("width"), height = try context.int("height")
        guard width * height <= 64 << 20 else { throw context.invalid("width", "\(width)x\(height) is above 64 Mpx") }
        model = try context.string("camera") == "pinhole"
            ? .pinhole(PinholeIntrinsics(horizontalFOV: try context.double("fov"), width: width, height: height))
            : .equirectangular(width: width, height: height)
        let parts = try context.string("position").split(separator: ",").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 3 else { throw context.invalid("position", "expected three numbers x,y,z") }
        let start = Vector3(parts[0], parts[1], parts[2])
        let yaw = try context.double("yaw")
        let end = start + Rotation(yaw: yaw).apply(Vector3(0, 0, 1)) * (try context.double("walk"))
        path = CameraPath(keyframes: [.init(time: 0, position: start, yaw: yaw), .init(time: 1, position: end, yaw: yaw)])
        frameCount = try context.int("frames")
        supersampling = try context.int("supersampling")
    }

    private let supersampling: Int

    var isRandomAccess: Bool { true }

    func read(_ index: Int) throws -> PortValues {
        let pose = path.pose(at: frameCount > 1 ? Double(index) / Double(frameCount - 1) : 0)
        let camera = Camera(model: model, position: pose.position, rotation: Rotation(yaw: pose.yaw, pitch: pose.pitch, roll: pose.roll))
        let render = Renderer.render(scene, camera: camera, supersampling: supersampling)
        return PortValues(["image": render.color, "depth": render.depth, "fluid": render.fluidMask])
    }
}
