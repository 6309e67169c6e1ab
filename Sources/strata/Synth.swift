import ArgumentParser
import Foundation
import StrataCore
import StrataIO
import StrataSynth

struct Synth: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Render a procedural scene with exact ground truth (depth, normals, ids, fluid mask, poses).",
        discussion: """
        SCENE is a built-in scene (indoor, street, water) or a scene JSON file. A still \
        writes color.png, depth.png (16-bit millimetres) with depth.json, depth.npy (float \
        metres, unless --no-npy), normals.png, ids.png (16-bit), fluid.png and camera.json. \
        With --frames above 1 the camera walks --walk metres forward: color/%05d.png, \
        color.mp4, depth/%05d.png with depth/depth.json, and poses.json.

        Examples:
          strata synth indoor --camera equirect --width 2048 --height 1024 \\
              --position 0,1.5,0 --out pano
          strata synth street --camera pinhole --width 640 --height 480 --fov 70 \\
              --position 0,1.6,-14 --out street
          strata synth indoor --camera equirect --width 512 --height 256 \\
              --frames 36 --walk 2 --out walk
        """
    )

    @Argument(help: "indoor, street, water, or a scene JSON file.")
    var scene: String

    @Option(help: "pinhole or equirect.")
    var camera: String = "equirect"

    @Option(help: "Image width in pixels.")
    var width = 1024

    @Option(help: "Image height in pixels.")
    var height = 512

    @Option(help: "Horizontal field of view of a pinhole camera, degrees.")
    var fov = 90.0

    @Option(help: "Camera position x,y,z in metres (y up).")
    var position = "0,1.5,0"

    @Option(help: "Camera yaw, degrees (positive turns right).")
    var yaw = 0.0

    @Option(help: "Camera pitch, degrees (positive looks up).")
    var pitch = 0.0

    @Option(help: "Camera roll, degrees.")
    var roll = 0.0

    @Option(help: "Colour rays per pixel along each axis (2 casts 4 rays).")
    var supersampling = 2

    @Option(help: "Frames to render along the walk.")
    var frames = 1

    @Option(help: "Metres the camera walks forward over the frames.")
    var walk = 0.0

    @Option(help: "Frame rate of color.mp4.")
    var fps = 12.0

    @Flag(help: "Do not write depth.npy for stills.")
    var noNpy = false

    @Option(help: "Object ids to leave out, comma-separated (to render what they hide).")
    var without = ""

    @Option(help: "Output folder (created).")
    var out: String

    func validate() throws {
        guard ["pinhole", "equirect"].contains(camera) else { throw ValidationError("--camera must be pinhole or equirect") }
        guard width > 0, height > 0, width * height <= 64 << 20 else { throw ValidationError("--width and --height must be positive (at most 64 Mpx)") }
        guard fov > 0 && fov < 180 else { throw ValidationError("--fov must be between 0 and 180 degrees") }
        guard (1...8).contains(supersampling) else { throw ValidationError("--supersampling must be 1…8") }
        guard frames >= 1 else { throw ValidationError("--frames must be at least 1") }
        guard parsePosition() != nil else { throw ValidationError("--position must be three numbers, x,y,z") }
        guard parseWithout() != nil else { throw ValidationError("--without must be object ids, comma-separated (such as 10,11)") }
    }

    func parsePosition() -> Vector3? {
        let parts = position.split(separator: ",").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
        return parts.count == 3 ? Vector3(parts[0], parts[1], parts[2]) : nil
    }

    func parseWithout() -> Set<Int>? {
        let parts = without.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let ids = parts.compactMap { Int($0) }
        return ids.count == parts.count ? Set(ids) : nil
    }

    func loadScene() throws -> Scene {
        try loadFullScene().without(ids: parseWithout()!)
    }

    func loadFullScene() throws -> Scene {
        if let builtIn = Scene.builtIn(scene) { return builtIn }
        guard scene.hasSuffix(".json") else {
            throw UsageError(message: "unknown scene \"\(scene)\" (built in: \(Scene.builtInNames.joined(separator: ", ")), or a .json file)")
        }
        let data = try Data(contentsOf: URL(fileURLWithPath: scene))
        do {
            return try JSONDecoder().decode(Scene.self, from: data)
        } catch {
            throw MediaError(path: scene, .corrupt("not a valid scene: \(error)"))
        }
    }

    func run() throws {
        try reportingErrors {
            let scene = try loadScene()
            let model: Camera.Model = camera == "pinhole"
                ? .pinhole(PinholeIntrinsics(horizontalFOV: fov, width: width, height: height))
                : .equirectangular(width: width, height: height)
            let start = parsePosition()!
            let forward = Rotation(yaw: yaw).apply(Vector3(0, 0, 1))
            let path = CameraPath(keyframes: [
                .init(time: 0, position: start, yaw: yaw, pitch: pitch, roll: roll),
                .init(time: 1, position: start + forward * walk, yaw: yaw, pitch: pitch, roll: roll),
            ])
            let folder = URL(fileURLWithPath: out)
            try AtomicFile.createFolder(folder)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let still = Camera(model: model, position: start, rotation: Rotation(yaw: yaw, pitch: pitch, roll: roll))
            try AtomicFile.write(try encoder.encode(still), to: folder.appendingPathComponent("camera.json"))
            let sidecar = DepthSidecar(kind: .metric, quantity: camera == "pinhole" ? .zDepth : .rayDistance, encoding: .png16,
                                       scale: 1000, projection: still.projection)

            if frames == 1 {
                let render = Renderer.render(scene, camera: still, supersampling: supersampling)
                try PNG.write(render.color, to: folder.appendingPathComponent("color.png"))
                try DepthFile.writePNG16(render.depth, to: folder.appendingPathComponent("depth.png"))
                try sidecar.write(toFolder: folder)
                if !noNpy { try DepthFile.writeFloat(render.depth, to: folder.appendingPathComponent("depth.npy")) }
                var normals = render.normals
                for i in normals.pixels.indices { normals.pixels[i] = normals.pixels[i] * 0.5 + 0.5 }
                try PNG.write(normals, to: folder.appendingPathComponent("normals.png"))
                var ids = render.ids
                for i in ids.pixels.indices { ids.pixels[i] /= 65535 }
                try PNG.write(ids, to: folder.appendingPathComponent("ids.png"), bitDepth: 16)
                try PNG.write(render.fluidMask, to: folder.appendingPathComponent("fluid.png"))
                FileHandleStream.standardError.write("strata: rendered \(width)x\(height) \(self.scene) to \(out)\n")
                return
            }

            let colors = try FrameSequenceWriter(pattern: FramePattern(folder.appendingPathComponent("color/%05d.png").path))
            let depthFolder = folder.appendingPathComponent("depth")
            try AtomicFile.createFolder(depthFolder)
            try sidecar.write(toFolder: depthFolder)
            let video = try? VideoWriter(url: folder.appendingPathComponent("color.mp4"), width: width, height: height,
                                         options: .init(quality: 18, frameRate: fps))
            var poses: [CameraPath.Keyframe] = []
            for k in 0..<frames {
                var pose = path.pose(at: Double(k) / Double(frames - 1))
                pose.time = Double(k) / fps
                poses.append(pose)
                let render = Renderer.render(scene, camera: Camera(model: model, position: pose.position,
                                                                   rotation: Rotation(yaw: pose.yaw, pitch: pose.pitch, roll: pose.roll)),
                                             supersampling: supersampling)
                try colors.write(render.color, index: k)
                try DepthFile.writePNG16(render.depth, to: depthFolder.appendingPathComponent(String(format: "%05d.png", k + 1)))
                try video?.append(render.color)
            }
            try video?.finish()
            try AtomicFile.write(try encoder.encode(poses), to: folder.appendingPathComponent("poses.json"))
            FileHandleStream.standardError.write("strata: rendered \(frames) frames of \(self.scene) to \(out)\n")
        }
    }
}
