import Foundation
import StrataCore
import StrataIO
import StrataPipeline
import StrataStages
import XCTest

/// `layers.render` along `camera.path`: a near square over a far striped wall, seen from
/// the original viewpoint and from 10 cm to the right, where closed-form parallax says
/// where the square must be.
final class LayersRenderTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("strata-render-\(UUID().uuidString)")
        addTeardownBlock { [folder] in try? FileManager.default.removeItem(at: folder!) }
    }

    /// A still's layers beside a camera path of four frames: decomposed and written once (as
    /// the first frame), while the views are written for every frame; under --shard only the
    /// shard holding the first frame writes them, and --resume finds every frame done.
    func testAStillsLayersAreWrittenOnceBesideACameraPath() throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let color = Image(width: 48, height: 32, channels: 3) { c, y, x in Float((x / 4 + y / 8 + c) % 3) / 2 }
        try PNG.write(color, to: folder.appendingPathComponent("color.png"))
        let depth = DepthMap(values: Image(width: 48, height: 32, channels: 1) { _, y, x in (16..<32).contains(x) && (8..<24).contains(y) ? 1.5 : 6 }, kind: .metric)
        try DepthFile.writePNG16(depth, to: folder.appendingPathComponent("depth.png"))
        let data = Data("""
        { "version": 1, "nodes": [
          { "id": "color", "stage": "image.read", "inputs": { "source": "$inputs.image" } },
          { "id": "distance", "stage": "depth.read", "inputs": { "source": "$inputs.depth" } },
          { "id": "layers", "stage": "layers.write", "inputs": { "image": "color.image", "depth": "distance.depth" },
            "params": { "layers": 2, "fillBand": 8, "points": false, "splats": false, "meshes": false, "glb": false } },
          { "id": "path", "stage": "camera.path", "params": { "path": "swing", "frames": 4, "radius": 0.1 } },
          { "id": "view", "stage": "layers.render", "inputs": { "image": "color.image", "depth": "distance.depth", "x": "path.x", "y": "path.y", "z": "path.z" },
            "params": { "projection": "perspective", "fov": 60, "layers": 2, "fillBand": 8 } },
          { "id": "save", "stage": "image.write", "inputs": { "image": "view.image" }, "params": { "pattern": "r/%05d.png" } }
        ],
          "inputs": { "image": { "type": "file" }, "depth": { "type": "file" } } }
        """.utf8)
        func options(_ out: String, _ change: (inout RunOptions) -> Void = { _ in }) -> RunOptions {
            var options = RunOptions(outputDirectory: folder.appendingPathComponent(out))
            options.inputs = ["image": folder.appendingPathComponent("color.png").path, "depth": folder.appendingPathComponent("depth.png").path]
            change(&options)
            return options
        }
        let exists = { (path: String) in FileManager.default.fileExists(atPath: self.folder.appendingPathComponent(path).path) }
        XCTAssertEqual(try PipelineRun(data: data, registry: StageLibrary.registry, options: options("whole")).run().processed, 4)
        XCTAssertTrue(exists("whole/layers/00001/layers.json"))
        XCTAssertTrue(exists("whole/layers/00001.ora"))
        XCTAssertFalse(exists("whole/layers/00002"), "the still's layers are written once")
        for n in 1...4 { XCTAssertTrue(exists("whole/r/0000\(n).png"), "view \(n)") }

        let resumed = try PipelineRun(data: data, registry: StageLibrary.registry, options: options("whole") { $0.resume = true })
        XCTAssertEqual(resumed.plan.pending.count, 0, "every frame is done, the layers with the first")

        for index in 0..<2 {
            let run = try PipelineRun(data: data, registry: StageLibrary.registry, options: options("shards") { $0.shard = Shard(index: index, count: 2, chunk: 2) })
            XCTAssertEqual(try run.run().processed, 2)
        }
        for n in 1...4 { XCTAssertEqual(try Data(contentsOf: folder.appendingPathComponent("shards/r/0000\(n).png")),
                                        try Data(contentsOf: folder.appendingPathComponent("whole/r/0000\(n).png"))) }
        XCTAssertEqual(try Data(contentsOf: folder.appendingPathComponent("shards/layers/00001/layer-1.png")),
                       try Data(contentsOf: folder.appendingPathComponent("whole/layers/00001/layer-1.png")))
        XCTAssertFalse(exists("shards/layers/00003"), "the second shard does not write the still's layers")
    }

    func testAMovedCameraSeesTheNearLayerShiftByItsParallax() throws {
        let (w, h) = (96, 64)
        let square = { (x: Int, y: Int) in (40..<56).contains(x) && (24..<40).contains(y) }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let color = Image(width: w, height: h, channels: 3) { c, y, x in square(x, y) ? [1, 0, 0][c] : Float((x / 4 + c) % 3) / 4 }
        try PNG.write(color, to: folder.appendingPathComponent("color.png"))
        let depth = DepthMap(values: Image(width: w, height: h, channels: 1) { _, y, x in square(x, y) ? 1.5 : 6 }, kind: .metric)
        try DepthFile.writePNG16(depth, to: folder.appendingPathComponent("depth.png"))
        let data = Data("""
        { "version": 1, "nodes": [
          { "id": "color", "stage": "image.read", "inputs": { "source": "$inputs.image" } },
          { "id": "distance", "stage": "depth.read", "inputs": { "source": "$inputs.depth" } },
          { "id": "path", "stage": "camera.path", "params": { "path": "swing", "frames": 4, "radius": 0.1 } },
          { "id": "view", "stage": "layers.render", "inputs": { "image": "color.image", "depth": "distance.depth", "x": "path.x", "y": "path.y",
                                                               "z": "path.z", "yaw": "path.yaw", "pitch": "path.pitch" },
            "params": { "projection": "perspective", "fov": 60, "layers": 2, "fillBand": 16, "softness": 0 } },
          { "id": "save", "stage": "image.write", "inputs": { "image": "view.image" }, "params": { "pattern": "r/%05d.npy" } }
        ],
          "inputs": { "image": { "type": "file" }, "depth": { "type": "file" } } }
        """.utf8)
        var options = RunOptions(outputDirectory: folder.appendingPathComponent("out"))
        options.inputs = ["image": folder.appendingPathComponent("color.png").path, "depth": folder.appendingPathComponent("depth.png").path]
        XCTAssertEqual(try PipelineRun(data: data, registry: StageLibrary.registry, options: options).run().processed, 4)
        func centroid(_ frame: Int) throws -> (x: Double, count: Int) {
            let image = try NPY.read(folder.appendingPathComponent("out/r/\(String(format: "%05d", frame)).npy"))
            var (sum, n) = (0.0, 0)
            for y in 0..<h { for x in 0..<w where image[0, y, x] > 0.9 && image[1, y, x] < 0.1 { sum += Double(x); n += 1 } }
            return (sum / Double(max(n, 1)), n)
        }
        let still = try centroid(1), moved = try centroid(2)
        // From the original viewpoint the square is where it was, whole.
        XCTAssertEqual(still.x, 47.5, accuracy: 1e-9)
        XCTAssertEqual(still.count, 16 * 16)
        let original = try NPY.read(folder.appendingPathComponent("out/r/00001.npy"))
        var worst: Float = 0
        for i in 0..<(w * h) where !(square(i % w, i / w)) { worst = max(worst, abs(original.pixels[i] - color.pixels[i])) }
        XCTAssertLessThan(worst, 0.5 / 255 + 1e-6, "the wall is unchanged from the original viewpoint (up to the 8-bit input)")
        // 10 cm to the right: the square at 1.5 m moves left by f · 0.1 / 1.5 pixels.
        let f = Double(w) / 2 / tan(Double.pi / 6)
        XCTAssertEqual(moved.x - still.x, -f * 0.1 / 1.5, accuracy: 0.5)
        XCTAssertGreaterThan(moved.count, 16 * 16 * 9 / 10, "the square stays whole")
    }
}
