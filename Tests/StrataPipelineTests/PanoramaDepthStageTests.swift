import Foundation
import StrataCore
import StrataIO
import StrataPipeline
import StrataStages
import XCTest

/// `depth.estimate` with the 360° strategies in a run.
final class PanoramaDepthStageTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("strata-pano-depth-\(UUID().uuidString)")
        addTeardownBlock { [folder] in try? FileManager.default.removeItem(at: folder!) }
    }

    func pipeline(width: Int, height: Int, depth: String) -> Data {
        Data("""
        { "version": 1, "nodes": [
          { "id": "render", "stage": "synth.render", "params": { "scene": "indoor", "camera": "equirect", "width": \(width), "height": \(height),
                                                                 "frames": 1, "supersampling": 1 } },
          { "id": "depth", "stage": "depth.estimate", "inputs": { "image": "render.image" }, "params": { \(depth) } },
          { "id": "save", "stage": "depth.write", "inputs": { "depth": "depth.depth" }, "params": { "pattern": "d/%05d.npy" } },
          { "id": "trust", "stage": "image.write", "inputs": { "image": "depth.confidence" }, "params": { "pattern": "c/%05d.npy" } }
        ] }
        """.utf8)
    }

    func testTangentAndCubeStrategiesWritePanoramaDepthAlongTheRay() throws {
        for strategy in ["tangent", "cube"] {
            let data = pipeline(width: 96, height: 48, depth: #""strategy": "\#(strategy)", "viewSize": 32, "grid": "2x2", "workingSize": 32"#)
            let summary = try PipelineRun(data: data, registry: StageLibrary.registry, options: RunOptions(outputDirectory: folder)).run()
            XCTAssertEqual(summary.processed, 1)
            let depth = try DepthFile.read(folder.appendingPathComponent("d/00001.npy"))
            XCTAssertEqual([depth.width, depth.height], [96, 48])
            XCTAssertEqual(depth.kind, .inverseRelative)
            XCTAssertEqual(depth.quantity, .rayDistance, strategy)
            XCTAssertEqual(depth.projection, .equirectangular)
            let values = depth.values.pixels
            XCTAssertEqual(values.filter { $0.isFinite && $0 > 0 }.count, 96 * 48,
                           "\(strategy): every direction has depth (NaN \(values.filter(\.isNaN).count), not positive \(values.filter { $0 <= 0 }.count))")
            let confidence = try NPY.read(folder.appendingPathComponent("c/00001.npy"))
            XCTAssertTrue(confidence.pixels.allSatisfy { $0 >= 0 && $0 <= 1.0001 }, strategy)
            try FileManager.default.removeItem(at: folder)
        }
    }

    func testBadStrategyParamsAndFramesAreRefusedByName() throws {
        XCTAssertThrowsError(try PipelineRun(data: pipeline(width: 96, height: 48, depth: #""strategy": "tangent", "grid": "8y7""#),
                                             registry: StageLibrary.registry, options: RunOptions(outputDirectory: folder))) { error in
            let diagnostics = (error as? PipelineError)?.diagnostics ?? []
            XCTAssertEqual(diagnostics.first?.code, .paramInvalid)
            XCTAssertEqual(diagnostics.first?.pointer, "/nodes/1/params/grid")
        }
        let run = try PipelineRun(data: pipeline(width: 64, height: 48, depth: #""strategy": "cube", "projection": "equirect", "viewSize": 16"#),
                                  registry: StageLibrary.registry, options: RunOptions(outputDirectory: folder))
        XCTAssertThrowsError(try run.run()) { error in
            XCTAssertTrue("\(error)".contains("the frame is 64x48, not a 2:1 equirect panorama"), "\(error)")
            XCTAssertEqual((error as? FrameFailure)?.node, "depth")
            XCTAssertEqual((error as? FrameFailure)?.exitCode, 65)
        }
    }
}

extension PanoramaDepthStageTests {
    var static32: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("StrataDepthTests/Fixtures/static32.onnx").path
    }

    /// What the stage tells the user before the first frame: views resized to a fixed-size
    /// model's input, and cube padding asked of a model with nothing to pad.
    func testTheRunSaysWhenViewsAreResizedOrCubePaddingChangesNothing() throws {
        let model = #""model": "\#(static32)", "preset": "midas-v21-small", "strategy": "cube", "grid": "1x1""#
        let resized = try PipelineRun(data: pipeline(width: 96, height: 48, depth: model + #", "viewSize": 24"#),
                                      registry: StageLibrary.registry, options: RunOptions(outputDirectory: folder))
        XCTAssertEqual(resized.notes, ["depth: cube views of 30x30 are resized to the network's 32x32 input"])
        let fitted = try PipelineRun(data: pipeline(width: 96, height: 48, depth: model), registry: StageLibrary.registry,
                                     options: RunOptions(outputDirectory: folder))
        XCTAssertEqual(fitted.notes, [], "by default a padded face fills the network's input: 26 + 2 × 3 = 32")
        let padded = try PipelineRun(data: pipeline(width: 96, height: 48, depth: model + #", "padding": "network""#),
                                     registry: StageLibrary.registry, options: RunOptions(outputDirectory: folder))
        XCTAssertEqual(padded.notes, ["depth: padding network: \(static32) has no padded convolution or pooling, so cube padding inside it changes nothing"])
        XCTAssertEqual(try padded.run().processed, 1, "a note, not an error")
    }

    func testCubePaddingInsideTheNetworkIsRefusedForTheBuiltInPrior() throws {
        XCTAssertThrowsError(try PipelineRun(data: pipeline(width: 96, height: 48, depth: #""strategy": "cube", "padding": "both""#),
                                             registry: StageLibrary.registry, options: RunOptions(outputDirectory: folder))) { error in
            let diagnostics = (error as? PipelineError)?.diagnostics ?? []
            XCTAssertEqual(diagnostics.first?.code, .paramInvalid)
            XCTAssertEqual(diagnostics.first?.pointer, "/nodes/1/params/padding")
            XCTAssertTrue(diagnostics.first?.message.contains("the built-in prior has none") == true, "\(diagnostics)")
        }
    }

    /// points.write on exact depth: each point lies at its pixel's distance along the pixel's
    /// ray, with the pixel's colour.
    func testPointCloudsPutEveryPixelAtItsDistanceAlongItsRay() throws {
        let data = Data("""
        { "version": 1, "nodes": [
          { "id": "render", "stage": "synth.render", "params": { "scene": "indoor", "camera": "equirect", "width": 32, "height": 16,
                                                                 "frames": 1, "supersampling": 1 } },
          { "id": "points", "stage": "points.write", "inputs": { "depth": "render.depth", "image": "render.image" }, "params": { "step": 1 } },
          { "id": "metres", "stage": "depth.write", "inputs": { "depth": "render.depth" }, "params": { "pattern": "d/%05d.npy" } },
          { "id": "colour", "stage": "image.write", "inputs": { "image": "render.image" }, "params": { "pattern": "c/%05d.npy" } }
        ] }
        """.utf8)
        _ = try PipelineRun(data: data, registry: StageLibrary.registry, options: RunOptions(outputDirectory: folder)).run()
        let depth = try DepthFile.read(folder.appendingPathComponent("d/00001.npy"))
        let colour = try NPY.read(folder.appendingPathComponent("c/00001.npy"))
        let ply = try Data(contentsOf: folder.appendingPathComponent("points/00001.ply"))
        let body = ply[try XCTUnwrap(ply.range(of: Data("end_header\n".utf8))).upperBound...]
        XCTAssertEqual(body.count, 32 * 16 * 15)
        let bytes = [UInt8](body)
        for i in 0..<(32 * 16) {
            let floats = (0..<3).map { k in Float(bitPattern: (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[i * 15 + 4 * k + $1]) << (8 * UInt32($1)) }) }
            let norm = (floats.map { Double($0) * Double($0) }.reduce(0, +)).squareRoot()
            XCTAssertEqual(norm, Double(depth.values.pixels[i]), accuracy: 1e-4 * Double(depth.values.pixels[i]), "pixel \(i)")
            XCTAssertEqual(Float(bytes[i * 15 + 12]), (colour.pixels[i] * 255).rounded(), "red of pixel \(i)")
        }
        // Rows go down from the top: the first point looks up, the last down.
        XCTAssertGreaterThan(Float(bitPattern: (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[4 + $1]) << (8 * UInt32($1)) }), 0)
    }
}
