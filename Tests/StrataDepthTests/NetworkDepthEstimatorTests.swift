import Foundation
import StrataCore
import StrataIO
import StrataNN
import XCTest
@testable import StrataDepth

/// Networks through DepthEstimator, against the reference preprocessing and onnxruntime
/// (fixtures by Tools/make_depth_fixtures.py).
final class NetworkDepthEstimatorTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized
    static let fixtures = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!

    func fixture(_ name: String) -> URL { Self.fixtures.appendingPathComponent(name) }

    func npy(_ name: String) throws -> (shape: [Int], values: [Float]) {
        let array = try NPYArray.read(fixture(name))
        guard case .float(let values) = array.elements else { throw XCTSkip("\(name) is not float32") }
        return (array.shape, values)
    }

    var manifest: [String: Any] {
        get throws { try JSONSerialization.jsonObject(with: Data(contentsOf: fixture("manifest.json"))) as! [String: Any] }
    }

    /// A scratch folder holding a copy of `model` (so a sidecar can be put beside it).
    func scratch(copying model: URL, as name: String = "model.onnx") throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("strata-depth-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
        let copy = folder.appendingPathComponent(name)
        try FileManager.default.copyItem(at: model, to: copy)
        return copy
    }

    func testInputSizingFollowsTheReferenceResizeRules() {
        // Depth Anything: the short side becomes 518, both sides multiples of 14.
        let dav2 = NetworkPreset.depthAnythingV2Small.network.sizing
        XCTAssertTrue(dav2.size(width: 640, height: 480) == (686, 518))
        XCTAssertTrue(dav2.size(width: 1920, height: 1080) == (924, 518))
        // MiDaS small: the long side at most 256, multiples of 32.
        XCTAssertTrue(NetworkPreset.midasSmall.network.sizing.size(width: 1920, height: 1080) == (256, 128), "144 rounds half to even, as numpy does")
        // DPT: the side closer to 384 decides, multiples of 32.
        XCTAssertTrue(NetworkPreset.dptLarge.network.sizing.size(width: 640, height: 480) == (512, 384))
        // A frame far smaller than a patch still gets a patch's worth (it is scaled up, not refused).
        XCTAssertTrue(InputSizing.keepAspect(target: 14, multiple: 14, method: .upperBound).size(width: 3, height: 2) == (14, 14))
        XCTAssertTrue(InputSizing.fixed(width: 64, height: 48).size(width: 5, height: 900) == (64, 48))
        XCTAssertEqual(NetworkPreset.depthAnythingV2MetricIndoorSmall.network.output, .metric)
        XCTAssertEqual(NetworkPreset.dptHybrid.network.mean, [0.5, 0.5, 0.5])
    }

    func testPresetPreprocessingMatchesTheReferenceNumbers() throws {
        let frame = try ImageFile.read(Self.root.appendingPathComponent("samples/street/color.png"))
        let cases = try manifest["preprocessing"] as! [[String: Any]]
        XCTAssertEqual(cases.count, 3)
        for entry in cases {
            let preset = NetworkPreset(rawValue: entry["preset"] as! String)!
            let (w, h, stride) = (entry["width"] as! Int, entry["height"] as! Int, entry["stride"] as! Int)
            let tensor = preset.network.tensor(for: frame)
            XCTAssertEqual(tensor.shape, [1, 3, h, w], preset.rawValue)
            let expected = try npy("preprocess_\(preset.rawValue).npy")
            let values = tensor.floats!
            var worst: Float = 0
            var k = 0
            for c in 0..<3 {
                for y in Swift.stride(from: 0, to: h, by: stride) {
                    for x in Swift.stride(from: 0, to: w, by: stride) {
                        worst = max(worst, abs(values[(c * h + y) * w + x] - expected.values[k]))
                        k += 1
                    }
                }
            }
            XCTAssertEqual(k, expected.values.count)
            XCTAssertLessThan(worst, 1e-4, "\(preset.rawValue): largest difference from the reference preprocessing")
        }
    }

    func testWholeNetworksMatchOnnxruntimeWithReferencePostprocessing() throws {
        let crop = try ImageFile.read(fixture("crop.png"))
        let networks = try manifest["networks"] as! [[String: Any]]
        for entry in networks {
            let name = entry["name"] as! String
            let model = try scratch(copying: Self.root.appendingPathComponent(entry["model"] as! String))
            let estimator: NetworkDepthEstimator
            if name == "midas_small" {
                // A static 64×64 export: the preset's rule gives way to the model's own size.
                estimator = try NetworkDepthEstimator(model: model, preset: .midasSmall, threads: 2)
                XCTAssertEqual(estimator.network.sizing, .fixed(width: 64, height: 64))
            } else {
                // A dynamic export described by a sidecar: the preset, at a smaller target.
                try Data(#"{ "preset": "depth-anything-v2-small", "input": { "target": 56, "multiple": 14, "method": "lower-bound" } }"#.utf8)
                    .write(to: model.deletingPathExtension().appendingPathExtension("json"))
                estimator = try NetworkDepthEstimator(model: model, threads: 2)
                XCTAssertEqual(estimator.name, "depth-anything-v2-small")
            }
            XCTAssertTrue(estimator.network.sizing.size(width: crop.width, height: crop.height) == (entry["width"] as! Int, entry["height"] as! Int), name)
            let estimate = try estimator.estimate(crop, projection: .unknown)
            let expected = try npy("network_\(name).npy")
            XCTAssertEqual(estimate.depth.width, crop.width)
            XCTAssertEqual(estimate.depth.height, crop.height)
            XCTAssertEqual(estimate.depth.kind, .inverseRelative)
            let range = (expected.values.max()! - expected.values.min()!)
            XCTAssertGreaterThan(range, 0)
            let worst = zip(estimate.depth.values.pixels, expected.values).map { abs($0 - $1) }.max()!
            XCTAssertLessThan(worst, 1e-4 * range, "\(name): largest difference from onnxruntime + bilinear back to the frame")
            // Guided upsampling keeps the values near and the output the frame's size.
            let guided = try NetworkDepthEstimator(model: model, preset: name == "midas_small" ? .midasSmall : nil, threads: 2, upsampling: .guided)
            let edged = try guided.estimate(crop, projection: .unknown)
            XCTAssertEqual(edged.depth.values.pixels.count, crop.width * crop.height)
            let mean = expected.values.reduce(0, +) / Float(expected.values.count)
            let guidedMean = edged.depth.values.pixels.reduce(0, +) / Float(expected.values.count)
            XCTAssertEqual(guidedMean, mean, accuracy: 0.05 * range)
        }
    }

    func testAFrameSmallerThanTheNetworkInputIsScaledUpNotRefused() throws {
        let model = try scratch(copying: fixture("static32.onnx"))
        let estimator = try NetworkDepthEstimator(model: model, preset: .depthAnythingV2Small)
        let tiny = Image(width: 5, height: 3, channels: 3) { c, y, x in Float(c + y + x) / 10 }
        let estimate = try estimator.estimate(tiny, projection: .unknown)
        XCTAssertEqual(estimate.depth.width, 5)
        XCTAssertEqual(estimate.depth.height, 3)
        XCTAssertTrue(estimate.depth.values.pixels.allSatisfy(\.isFinite))
        // The static "network" is the mean of the normalised planes: check one pixel's order.
        XCTAssertLessThan(estimate.depth[0, 0], estimate.depth[2, 4])
    }

    /// A network through the tangent and cube strategies: every view goes through the
    /// model at its fixed input size and back, and the panorama comes out whole.
    func testANetworkSeesAPanoramaThroughItsViews() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("StrataNNTests/Fixtures/networks/midas_small_opset17/model.onnx")
        let network = try NetworkDepthEstimator(model: try scratch(copying: url), preset: .midasSmall, threads: 2)
        let pano = Image(width: 128, height: 64, channels: 3) { c, y, x in Float((x * 3 + y * 5 + c * 7) % 64) / 64 }
        for strategy in [PanoramaStrategy.tangent, .cube] {
            let estimator = try PanoramaDepthEstimator(base: network, panorama: PanoramaDepth(strategy: strategy, viewSize: 48,
                                                                                         alignment: ViewAlignment(columns: 2, rows: 2, sampleRows: 32)))
            let (estimate, timing) = try estimator.estimateTimed(pano, projection: .equirectangular)
            XCTAssertEqual([estimate.depth.width, estimate.depth.height], [128, 64], "\(strategy)")
            XCTAssertEqual(estimate.depth.quantity, .rayDistance)
            XCTAssertEqual(estimate.depth.projection, .equirectangular)
            XCTAssertTrue(estimate.depth.values.pixels.allSatisfy(\.isFinite), "\(strategy): a direction without depth")
            XCTAssertGreaterThan(timing.inference, 0)
            XCTAssertEqual(estimator.name, "\(network.name) (\(strategy.rawValue))")
        }
        // A perspective frame goes to the network as it is.
        let photo = Image(width: 64, height: 48, channels: 3, fill: 0.5)
        let direct = try PanoramaDepthEstimator(base: network, panorama: PanoramaDepth(strategy: .tangent)).estimate(photo, projection: .unknown)
        XCTAssertEqual(direct.depth.quantity, try network.estimate(photo, projection: .unknown).depth.quantity)
        XCTAssertEqual(direct.depth.values, try network.estimate(photo, projection: .unknown).depth.values)
    }

    /// The error of building an estimator, which must come before any frame.
    func failure(_ body: () throws -> Void) -> (message: String, code: Int32) {
        do {
            try body()
            XCTFail("no error")
            return ("", 0)
        } catch {
            return ("\(error)", (error as? ExitCodeProviding)?.exitCode ?? -1)
        }
    }

    func testBadModelsFailAtLoadNamingTheFileAndTheProblem() throws {
        let missing = failure { _ = try NetworkDepthEstimator(model: URL(fileURLWithPath: "/nonexistent/dav2.onnx"), preset: .depthAnythingV2Small) }
        XCTAssertEqual(missing.code, 66)
        XCTAssertTrue(missing.message.contains("/nonexistent/dav2.onnx"), missing.message)

        let corrupt = try scratch(copying: fixture("manifest.json"), as: "corrupt.onnx")
        let damaged = failure { _ = try NetworkDepthEstimator(model: corrupt, preset: .midasSmall) }
        XCTAssertEqual(damaged.code, 65)
        XCTAssertTrue(damaged.message.contains("corrupt.onnx"), damaged.message)

        let rank = failure { _ = try NetworkDepthEstimator(model: try scratch(copying: fixture("rank2.onnx")), preset: .midasSmall) }
        XCTAssertEqual(rank.code, 65)
        XCTAssertTrue(rank.message.contains("rank 2"), rank.message)

        let unsupported = failure { _ = try NetworkDepthEstimator(model: try scratch(copying: fixture("unsupported.onnx")), preset: .midasSmall) }
        XCTAssertEqual(unsupported.code, 65)
        XCTAssertTrue(unsupported.message.contains("StrataNoSuchOperator") && unsupported.message.contains("mystery"), unsupported.message)

        // No preset and no sidecar: the user must say how to feed it.
        let bare = try scratch(copying: fixture("static32.onnx"))
        let unknown = failure { _ = try NetworkDepthEstimator(model: bare) }
        XCTAssertEqual(unknown.code, 64)
        XCTAssertTrue(unknown.message.contains("no preset") && unknown.message.contains("static32.json") == false && unknown.message.contains("model.json"), unknown.message)

        // A sidecar that contradicts the model's static input.
        let sidecar = bare.deletingPathExtension().appendingPathExtension("json")
        try Data(#"{ "input": { "width": 64, "height": 64 }, "mean": [0, 0, 0], "std": [1, 1, 1], "output": "inverse-relative" }"#.utf8).write(to: sidecar)
        let contradiction = failure { _ = try NetworkDepthEstimator(model: bare) }
        XCTAssertEqual(contradiction.code, 65)
        XCTAssertTrue(contradiction.message.contains("model.json") && contradiction.message.contains("32x32"), contradiction.message)

        // A sidecar with a bad field names the field.
        try Data(#"{ "preset": "midas-v21-small", "std": [1, 0, 1] }"#.utf8).write(to: sidecar)
        let badStd = failure { _ = try NetworkDepthEstimator(model: bare) }
        XCTAssertEqual(badStd.code, 65)
        XCTAssertTrue(badStd.message.contains("std"), badStd.message)
        try Data(#"{ "preset": "midas-v3" }"#.utf8).write(to: sidecar)
        let badPreset = failure { _ = try NetworkDepthEstimator(model: bare) }
        XCTAssertTrue(badPreset.message.contains("model.json") && badPreset.message.contains("preset"), badPreset.message)
        try Data(#"{ "input": { "width": 32 }, "mean": [0, 0, 0], "std": [1, 1, 1], "output": "metric" }"#.utf8).write(to: sidecar)
        let halfSize = failure { _ = try NetworkDepthEstimator(model: bare) }
        XCTAssertTrue(halfSize.message.contains("\"input\""), halfSize.message)
        // A good sidecar makes the same model load.
        try Data(#"{ "input": { "width": 32, "height": 32 }, "mean": [0, 0, 0], "std": [1, 1, 1], "output": "metric" }"#.utf8).write(to: sidecar)
        let described = try NetworkDepthEstimator(model: bare)
        XCTAssertEqual(described.network.output, .metric)
        XCTAssertEqual(try described.estimate(Image(width: 8, height: 8, channels: 3, fill: 0.5), projection: .unknown).depth.kind, .metric)
    }
}
