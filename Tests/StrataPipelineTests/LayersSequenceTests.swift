import Foundation
import StrataCore
import StrataIO
import StrataPipeline
import StrataStages
import XCTest

/// Layers of a video: per layer PNG sequences, the id map, frame notes, the parallax video
/// encoded in order by `video.write`, and depth that does not fit the colour refused.
final class LayersSequenceTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("strata-layer-seq-\(UUID().uuidString)")
        addTeardownBlock { [folder] in try? FileManager.default.removeItem(at: folder!) }
    }

    func run(_ json: String, threads: Int = 2) throws -> PipelineRun {
        var options = RunOptions(outputDirectory: folder)
        options.threads = threads
        let run = try PipelineRun(data: Data(json.utf8), registry: StageLibrary.registry, options: options)
        _ = try run.run()
        return run
    }

    func testEachLayerIsAlsoAPNGSequenceBesideTheIdMap() throws {
        _ = try run("""
        { "version": 1, "nodes": [
          { "id": "walk", "stage": "synth.render", "params": { "scene": "layers", "width": 96, "height": 48, "frames": 3, "walk": 0.2, "supersampling": 1 } },
          { "id": "layers", "stage": "layers.write", "inputs": { "image": "walk.image", "depth": "walk.depth" },
            "params": { "layers": 3, "fillBand": 6, "sequence": "seq/{layer}/%05d.png", "ora": false, "points": false,
                        "splats": false, "meshes": false, "glb": false } } ] }
        """)
        for frame in 1...3 {
            let out = folder.appendingPathComponent(String(format: "layers/%05d", frame))
            let labels = try PNG.read(out.appendingPathComponent("labels.png"))
            let ids = labels.pixels.map { Int(($0 * 255).rounded()) }
            XCTAssertEqual(Set(ids), [0, 1, 2], "frame \(frame): the id map holds the three layers")
            for k in 0..<3 {
                let file = folder.appendingPathComponent(String(format: "seq/\(k)/%05d.png", frame))
                XCTAssertEqual(try Data(contentsOf: file), try Data(contentsOf: out.appendingPathComponent("layer-\(k).png")))
                // Where the id map says layer k, layer k is opaque or in its soft band.
                let layer = try PNG.read(file)
                let plane = 96 * 48
                for i in 0..<plane where ids[i] == k { XCTAssertGreaterThan(layer.pixels[3 * plane + i], 0) }
            }
        }
    }

    func testInvalidDepthIsSaidForTheFrame() throws {
        let image = folder.appendingPathComponent("in/color.png"), depth = folder.appendingPathComponent("in/depth.npy")
        try FileManager.default.createDirectory(at: image.deletingLastPathComponent(), withIntermediateDirectories: true)
        try PNG.write(Image(width: 32, height: 16, channels: 3, fill: 0.5), to: image)
        var values = Image(width: 32, height: 16, channels: 1, fill: 2)
        for i in 0..<8 { values.pixels[i] = .nan }
        try DepthFile.writeFloat(DepthMap(values: values, kind: .metric), to: depth)
        let done = try run("""
        { "version": 1, "inputs": { "image": { "type": "file", "default": "\(image.path)" }, "depth": { "type": "file", "default": "\(depth.path)" } },
          "nodes": [
          { "id": "color", "stage": "image.read", "inputs": { "source": "$inputs.image" } },
          { "id": "distance", "stage": "depth.read", "inputs": { "source": "$inputs.depth" } },
          { "id": "layers", "stage": "layers.write", "inputs": { "image": "color.image", "depth": "distance.depth" },
            "params": { "ora": false, "points": false, "splats": false, "meshes": false, "glb": false } } ] }
        """)
        XCTAssertEqual(done.frameNotes, ["layers: frame 1: 8 pixels without valid depth (NaN, zero or negative) taken as the farthest"])
    }

    func testDepthOfAnotherShapeOrProjectionIsRefusedNamingBoth() throws {
        let image = folder.appendingPathComponent("in/color.png"), depth = folder.appendingPathComponent("in/depth.npy")
        try FileManager.default.createDirectory(at: image.deletingLastPathComponent(), withIntermediateDirectories: true)
        try PNG.write(Image(width: 40, height: 30, channels: 3, fill: 0.5), to: image)
        for (w, h, projection, words) in [(64, 32, "equirect", ["equirect panorama (64x32)", "40x30, not 2:1"]),
                                          (64, 36, "perspective", ["64x36", "colour 40x30", "shapes differ"])] {
            try DepthFile.writeFloat(DepthMap(values: Image(width: w, height: h, channels: 1, fill: 2), kind: .metric), to: depth)
            XCTAssertThrowsError(try run("""
            { "version": 1, "inputs": { "image": { "type": "file", "default": "\(image.path)" }, "depth": { "type": "file", "default": "\(depth.path)" } },
              "nodes": [
              { "id": "color", "stage": "image.read", "inputs": { "source": "$inputs.image" } },
              { "id": "distance", "stage": "depth.read", "inputs": { "source": "$inputs.depth" }, "params": { "projection": "\(projection)" } },
              { "id": "layers", "stage": "layers.write", "inputs": { "image": "color.image", "depth": "distance.depth" } } ] }
            """)) { error in
                let text = "\(error)"
                for word in words { XCTAssertTrue(text.contains(word), "\(word) in \(text)") }
                XCTAssertEqual((error as? FrameFailure)?.exitCode, 65)
            }
            XCTAssertFalse(FileManager.default.fileExists(atPath: folder.appendingPathComponent("layers/00001").path), "nothing written")
        }
        // The same view at half the resolution is resampled.
        try DepthFile.writeFloat(DepthMap(values: Image(width: 20, height: 15, channels: 1, fill: 2), kind: .metric), to: depth)
        _ = try run("""
        { "version": 1, "inputs": { "image": { "type": "file", "default": "\(image.path)" }, "depth": { "type": "file", "default": "\(depth.path)" } },
          "nodes": [
          { "id": "color", "stage": "image.read", "inputs": { "source": "$inputs.image" } },
          { "id": "distance", "stage": "depth.read", "inputs": { "source": "$inputs.depth" }, "params": { "projection": "perspective" } },
          { "id": "layers", "stage": "layers.write", "inputs": { "image": "color.image", "depth": "distance.depth" },
            "params": { "ora": false, "points": false, "splats": false, "meshes": false, "glb": false } } ] }
        """)
        XCTAssertEqual(try PNG.read(folder.appendingPathComponent("layers/00001/layer-0.png")).width, 40)
    }

    /// Frames reach sinks out of order with two workers; the video holds them in order (each
    /// decoded frame is nearest to the PNG of its own number) and appears only at the end.
    func testVideoWriteEncodesEveryFrameInOrder() throws {
        _ = try run("""
        { "version": 1, "nodes": [
          { "id": "walk", "stage": "synth.render", "params": { "scene": "indoor", "width": 64, "height": 32, "frames": 6, "walk": 2, "supersampling": 1 } },
          { "id": "stills", "stage": "image.write", "inputs": { "image": "walk.image" }, "params": { "pattern": "png/%05d.png" } },
          { "id": "clip", "stage": "video.write", "inputs": { "image": "walk.image" }, "params": { "path": "clip/walk.mp4", "fps": 12, "codec": "mpeg4", "quality": 2 } } ] }
        """)
        let reader = try VideoReader(url: folder.appendingPathComponent("clip/walk.mp4"))
        XCTAssertEqual([reader.info.width, reader.info.height], [64, 32])
        let stills = try (1...6).map { try PNG.read(folder.appendingPathComponent(String(format: "png/%05d.png", $0))) }
        var decoded = 0
        while let frame = try reader.nextFrame() {
            let errors = stills.map { still in zip(still.pixels, frame.image.pixels).reduce(Float(0)) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } }
            XCTAssertEqual(errors.indices.min { errors[$0] < errors[$1] }, decoded, "frame \(decoded) of the video")
            decoded += 1
        }
        XCTAssertEqual(decoded, 6)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("clip").path), ["walk.mp4"], "no temporary file left")
    }

    func testVideoWriteRefusesOddFramesAndLeavesNothing() throws {
        XCTAssertThrowsError(try run("""
        { "version": 1, "nodes": [
          { "id": "walk", "stage": "synth.render", "params": { "scene": "indoor", "width": 63, "height": 32, "frames": 2, "supersampling": 1 } },
          { "id": "clip", "stage": "video.write", "inputs": { "image": "walk.image" }, "params": { "path": "walk.mp4" } } ] }
        """)) { error in
            XCTAssertTrue("\(error)".contains("even width and height"), "\(error)")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasPrefix("walk") || $0.hasPrefix(".walk") }, [])
    }
}
