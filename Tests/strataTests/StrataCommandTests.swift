import Foundation
import StrataCore
import StrataIO
import XCTest

/// Runs the built `strata` binary end to end and checks stdout, stderr and the exit code.
final class StrataCommandTests: CommandTestCase {
    func testHelpListsTheCommands() throws {
        let result = try strata("--help")
        XCTAssertEqual(result.status, 0)
        XCTAssertTrue(result.stdout.contains("info"))
        XCTAssertTrue(result.stdout.contains("convert"))
    }

    func testInfoDescribesImagesVideosAndSequences() throws {
        try PNG.write(indexFrame(3), to: folder.appendingPathComponent("a.png"), bitDepth: 16)
        var result = try strata("info", "a.png")
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stdout.split(separator: "\n").first, "a.png: PNG image, 64x48, 3 channels, 16-bit")

        _ = try makeVideo()
        result = try strata("info", "clip.mp4", "--json", "--count-frames")
        XCTAssertEqual(result.status, 0, result.stderr)
        let info = try JSONDecoder().decode(VideoInfo.self, from: Data(result.stdout.utf8))
        XCTAssertEqual([info.width, info.height, info.frameCount], [64, 48, 20])
        XCTAssertEqual(info.frameRate, 10, accuracy: 1e-9)
        XCTAssertFalse(info.frameCountIsEstimate)

        result = try strata("convert", "clip.mp4", "seq/%03d.png", "--start-number", "0")
        XCTAssertEqual(result.status, 0, result.stderr)
        result = try strata("info", "seq/%03d.png")
        XCTAssertEqual(result.stdout, "seq/%03d.png: sequence of 20 frames from number 0, PNG 64x48\n")
    }

    func testVideoToSequenceWithRangeAndBack() throws {
        _ = try makeVideo()
        var result = try strata("convert", "clip.mp4", "frames/f_%04d.png", "--frames", "3-15x4", "--start-number", "10")
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stdout, "", "stdout is for data only")
        XCTAssertEqual(result.stderr, "strata: wrote 4 frames to frames/f_%04d.png\n")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("frames").path).sorted()
        XCTAssertEqual(names, ["f_0010.png", "f_0011.png", "f_0012.png", "f_0013.png"])
        for (k, expected) in [3, 7, 11, 15].enumerated() {
            let image = try PNG.read(folder.appendingPathComponent("frames/f_\(String(format: "%04d", 10 + k)).png"))
            XCTAssertEqual(readIndex(image), expected)
        }

        result = try strata("convert", "frames/f_%04d.png", "back.mkv", "--fps", "5", "--input-start-number", "10")
        XCTAssertEqual(result.status, 0, result.stderr)
        let reader = try VideoReader(url: folder.appendingPathComponent("back.mkv"))
        XCTAssertEqual(reader.info.frameRate, 5, accuracy: 1e-9)
        var indices: [Int] = []
        while let frame = try reader.nextFrame() { indices.append(readIndex(frame.image)) }
        XCTAssertEqual(indices, [3, 7, 11, 15])
    }

    func testSingleFramesAndImageConversion() throws {
        _ = try makeVideo()
        var result = try strata("convert", "clip.mp4", "still.jpg", "--frames", "9", "--jpeg-quality", "95")
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(readIndex(try ImageFile.read(folder.appendingPathComponent("still.jpg"))), 9)
        result = try strata("convert", "still.jpg", "still.png", "--bit-depth", "16", "--compression-level", "9")
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(try ImageFile.info(folder.appendingPathComponent("still.png")).bitDepth, 16)
        result = try strata("convert", "still.png", "still.npy")
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(try NPY.read(folder.appendingPathComponent("still.npy")).width, 64)
    }

    func testBadInputsExitWithSysexitsCodes() throws {
        _ = try makeVideo()
        var result = try strata("info", "missing.mp4")
        XCTAssertEqual(result.status, 66)
        XCTAssertEqual(result.stderr, "strata: error: \(folder.path)/missing.mp4: no such file\n")

        result = try strata("convert", "clip.mp4", "out/%05d.png", "--frames", "20-10")
        XCTAssertEqual(result.status, 64)
        XCTAssertTrue(result.stderr.contains("the last frame 10 comes before the first 20"), result.stderr)

        result = try strata("convert", "clip.mp4", "out.png", "--bit-depth", "12")
        XCTAssertEqual(result.status, 64)

        result = try strata("convert", "clip.mp4", "one.png")
        XCTAssertEqual(result.status, 64)
        XCTAssertTrue(result.stderr.contains("one.png holds one image"), result.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.appendingPathComponent("one.png").path))

        try Data("garbage".utf8).write(to: folder.appendingPathComponent("broken.png"))
        result = try strata("convert", "broken.png", "x.png")
        XCTAssertEqual(result.status, 65)
        XCTAssertTrue(result.stderr.contains("broken.png: not a PNG, JPEG, PFM or NPY image"), result.stderr)

        var wav = Data("RIFF".utf8)
        wav.append(contentsOf: [36, 0, 0, 0] + Array("WAVEfmt ".utf8) + [16, 0, 0, 0, 1, 0, 1, 0, 0x40, 0x1F, 0, 0, 0x80, 0x3E, 0, 0, 2, 0, 16, 0])
        wav.append(contentsOf: Array("data".utf8) + [0, 0, 0, 0])
        try wav.write(to: folder.appendingPathComponent("sound.wav"))
        result = try strata("convert", "sound.wav", "out/%05d.png")
        XCTAssertEqual(result.status, 65)
        XCTAssertTrue(result.stderr.hasSuffix("sound.wav: has no video stream\n"), result.stderr)

        result = try strata("convert", "clip.mp4", "/sys/strata/%05d.png")
        XCTAssertEqual(result.status, 73, result.stderr)
        result = try strata("convert", "clip.mp4", "big/%05d.png", "--max-pixels", "100")
        XCTAssertEqual(result.status, 65)
        XCTAssertTrue(result.stderr.contains("64x48 is 3072 pixels, above the limit of 100"), result.stderr)
    }

    func testEvalDepthScoresAndAligns() throws {
        let truth = DepthMap(values: Image(width: 8, height: 4, channels: 1) { _, y, x in 1 + Float(x + 3 * y) * 0.25 }, kind: .metric)
        try AtomicFile.createFolder(folder.appendingPathComponent("gt"))
        try DepthFile.writePNG16(truth, to: folder.appendingPathComponent("gt/000001.png"))
        var half = truth.values
        for i in half.pixels.indices { half.pixels[i] *= 0.5 }
        try NPY.write(half, to: folder.appendingPathComponent("pred.npy"))

        var result = try strata("eval-depth", "pred.npy", "gt/000001.png", "--json")
        XCTAssertEqual(result.status, 0, result.stderr)
        struct Metrics: Decodable { var absRel: Double; var delta1: Double; var scale: Double; var validPixels: Int }
        var metrics = try JSONDecoder().decode(Metrics.self, from: Data(result.stdout.utf8))
        XCTAssertEqual(metrics.absRel, 0.5, accuracy: 1e-6)
        XCTAssertEqual(metrics.validPixels, 32)

        result = try strata("eval-depth", "pred.npy", "gt/000001.png", "--align", "median", "--json")
        metrics = try JSONDecoder().decode(Metrics.self, from: Data(result.stdout.utf8))
        XCTAssertEqual(metrics.scale, 2, accuracy: 1e-6)
        XCTAssertEqual(metrics.absRel, 0, accuracy: 1e-6)
        XCTAssertEqual(metrics.delta1, 1)

        result = try strata("eval-depth", "pred.npy", "gt/000001.png", "--align", "median")
        XCTAssertTrue(result.stdout.contains("AbsRel   0.0000"), result.stdout)

        try NPY.write(Image(width: 3, height: 3, channels: 1, fill: 1), to: folder.appendingPathComponent("small.npy"))
        result = try strata("eval-depth", "small.npy", "gt/000001.png")
        XCTAssertEqual(result.status, 65)
        XCTAssertTrue(result.stderr.contains("the prediction is 3x3, the ground truth 8x4"), result.stderr)
        result = try strata("eval-depth", "pred.npy", "gt/000001.png", "--align", "sideways")
        XCTAssertEqual(result.status, 64)
    }

    func testSynthWritesGroundTruthThatReadsBack() throws {
        var result = try strata("synth", "indoor", "--camera", "pinhole", "--width", "48", "--height", "32", "--fov", "90",
                                "--position", "0,1.5,0", "--pitch=-90", "--supersampling", "1", "--out", "still")
        XCTAssertEqual(result.status, 0, result.stderr)
        // Looking straight down from 1.5 m at the floor: z-depth 1.5 m everywhere.
        let depth = try DepthFile.read(folder.appendingPathComponent("still/depth.png"))
        XCTAssertEqual(depth.quantity, .zDepth)
        for v in depth.values.pixels { XCTAssertEqual(v, 1.5, accuracy: 1e-3) }
        let npy = try NPY.read(folder.appendingPathComponent("still/depth.npy"))
        XCTAssertEqual(npy.pixels[0], 1.5, accuracy: 1e-5)
        for name in ["color.png", "normals.png", "ids.png", "fluid.png", "camera.json", "depth.json"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: folder.appendingPathComponent("still/\(name)").path), name)
        }

        result = try strata("synth", "street", "--width", "32", "--height", "16", "--frames", "3", "--walk", "1",
                            "--supersampling", "1", "--out", "walk")
        XCTAssertEqual(result.status, 0, result.stderr)
        struct Pose: Decodable { var time: Double; var position: [Double] }
        let poses = try JSONDecoder().decode([Pose].self, from: Data(contentsOf: folder.appendingPathComponent("walk/poses.json")))
        XCTAssertEqual(poses.map(\.position[2]), [0, 0.5, 1])
        XCTAssertEqual(try VideoReader(url: folder.appendingPathComponent("walk/color.mp4")).info.frameCount, 3)
        XCTAssertEqual(try DepthFile.read(folder.appendingPathComponent("walk/depth/00003.png")).quantity, .rayDistance)

        result = try strata("synth", "castle", "--out", "x")
        XCTAssertEqual(result.status, 64)
        XCTAssertTrue(result.stderr.contains("unknown scene \"castle\""), result.stderr)
    }

    func testValidateStagesAndSchema() throws {
        let valid = #"""
        { "version": 1, "name": "frames", "inputs": { "video": { "type": "video" } },
          "nodes": [
            { "id": "frames", "stage": "video.decode", "inputs": { "source": "$inputs.video" }, "params": { "step": 2 } },
            { "id": "small", "stage": "image.resize", "inputs": { "image": "frames.image" }, "params": { "width": 320, "height": 180 } },
            { "id": "save", "stage": "image.write", "inputs": { "image": "small.image" } }
          ] }
        """#
        try Data(valid.utf8).write(to: folder.appendingPathComponent("ok.json"))
        var result = try strata("validate", "ok.json")
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stderr, "")

        try Data(valid.replacingOccurrences(of: "small.image", with: "small.img").utf8).write(to: folder.appendingPathComponent("bad.json"))
        result = try strata("validate", "bad.json")
        XCTAssertEqual(result.status, 65)
        XCTAssertEqual(result.stderr.split(separator: "\n"), [
            #"bad.json:/nodes/2/inputs/image: error[unknown_port]: node "small" has no output "img" (available: image)"#,
            #"bad.json:/nodes/1: warning[unused_output]: output "image" of node "small" is not used"#,
        ])
        result = try strata("validate", "bad.json", "--diagnostics", "json")
        struct Problem: Decodable { var code: String; var pointer: String; var node: String? }
        let problems = try JSONDecoder().decode([Problem].self, from: Data(result.stdout.utf8))
        XCTAssertEqual(problems.map(\.code), ["unknown_port", "unused_output"])
        XCTAssertEqual(problems.first?.node, "save")
        XCTAssertEqual(try strata("validate", "missing.json").status, 66)

        result = try strata("stages", "list")
        // Columns line up past the longest name.
        XCTAssertTrue(result.stdout.contains("video.decode          source"), result.stdout)
        XCTAssertTrue(result.stdout.contains("sphere.toPerspective  perFrame"), result.stdout)
        result = try strata("stages", "describe", "image.write")
        XCTAssertTrue(result.stdout.contains("image: image|cube"), result.stdout)
        XCTAssertTrue(result.stdout.contains("sharding: per-frame"), result.stdout)
        result = try strata("stages", "describe", "depth.align")
        XCTAssertTrue(result.stdout.contains("sharding: needs-finalize"), result.stdout)
        result = try strata("stages", "describe", "depth.colorize")
        XCTAssertTrue(result.stdout.contains("colormap: turbo|inferno|gray, default \"turbo\""), result.stdout)
        result = try strata("stages", "describe", "video.decod")
        XCTAssertEqual(result.status, 64)
        XCTAssertTrue(result.stderr.contains("did you mean \"video.decode\""), result.stderr)

        // The committed schema is what the registry generates: regenerate with `strata schema > Assets/pipeline.schema.json`.
        let committed = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Assets/pipeline.schema.json")
        result = try strata("schema")
        XCTAssertEqual(result.stdout, try String(contentsOf: committed, encoding: .utf8), "Assets/pipeline.schema.json is stale")
    }
}

