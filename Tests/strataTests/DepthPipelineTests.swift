import Foundation
import StrataCore
import StrataIO
import XCTest

/// Pipelines/video-depth.json from the binary: the sample walk-through to aligned 16-bit
/// depth, its sidecar, previews and the flicker report.
final class DepthPipelineTests: CommandTestCase {
    func testVideoDepthPipelineWritesAlignedDepthAndReportsFlicker() throws {
        let result = try strata("run", pipeline("video-depth.json"), "--output-dir", "vd", "--frames", "0-5", "--progress", "none")
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(files("vd/depth"), ["00001.png", "00002.png", "00003.png", "00004.png", "00005.png", "00006.png", "depth.json"])
        XCTAssertEqual(files("vd/depth-preview").count, 6)
        let sidecar = try XCTUnwrap(try DepthSidecar.read(inFolder: folder.appendingPathComponent("vd/depth")))
        XCTAssertEqual(sidecar.kind, .inverseRelative)
        XCTAssertEqual(sidecar.encoding, .png16Normalized)
        XCTAssertEqual(sidecar.range, [0, 2])
        XCTAssertEqual(sidecar.projection, .equirectangular)
        XCTAssertEqual(sidecar.quantity, .rayDistance)
        // The first frame is the reference: its depth spans 0…1 of the 0…2 range.
        let first = try DepthFile.read(folder.appendingPathComponent("vd/depth/00001.png"))
        XCTAssertEqual([first.width, first.height], [512, 256])
        let range = try XCTUnwrap(first.validRange())
        XCTAssertEqual(range.lowerBound, 0, accuracy: 1e-4)
        XCTAssertEqual(range.upperBound, 1, accuracy: 1e-4)
        // Near the floor below the camera (bottom rows) is nearer than the horizon ring.
        XCTAssertGreaterThan(first[250, 256], first[128, 256])
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("vd/depth-align.json"))) as! [String: Any]
        XCTAssertEqual(report["frames"] as? Int, 6)
        XCTAssertEqual(report["flickerFramePairs"] as? Int, 5)
        let flicker = try XCTUnwrap(report["flicker"] as? Double)
        XCTAssertGreaterThan(flicker, 0)
        XCTAssertLessThan(flicker, 0.05, "aligned depth of a slow walk changes by under 5% a frame where the image holds still")
    }

    func testABadModelFailsBeforeAnyFrameNamingTheFile() throws {
        let model = folder.appendingPathComponent("broken.onnx")
        try Data("not a model".utf8).write(to: model)
        let result = try strata("run", pipeline("video-depth.json"), "--output-dir", "bad", "--progress", "none",
                                "--set", "depth.model=\(model.path)", "--set", "depth.preset=midas-v21-small")
        XCTAssertEqual(result.status, 65, result.stderr)
        XCTAssertTrue(result.stderr.contains("broken.onnx"), result.stderr)
        XCTAssertTrue(result.stderr.contains("depth"), "names the node: \(result.stderr)")
        XCTAssertEqual(files("bad/depth"), [String](), "nothing written")

        let missing = try strata("run", pipeline("video-depth.json"), "--output-dir", "bad", "--progress", "none",
                                 "--set", "depth.model=/nonexistent/model.onnx", "--set", "depth.preset=midas-v21-small")
        XCTAssertEqual(missing.status, 66, missing.stderr)
        XCTAssertTrue(missing.stderr.contains("/nonexistent/model.onnx"), missing.stderr)

        let presetWithoutModel = try strata("run", pipeline("video-depth.json"), "--output-dir", "bad", "--progress", "none",
                                            "--set", "depth.preset=dpt-large")
        XCTAssertEqual(presetWithoutModel.status, 65, presetWithoutModel.stderr)
        XCTAssertTrue(presetWithoutModel.stderr.contains("preset"), presetWithoutModel.stderr)
    }
}
