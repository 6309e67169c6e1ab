import Foundation
import StrataCore
import StrataIO
import XCTest

/// `strata nn info` and `strata nn run` on the ONNX project's node-test models
/// (libonnx-testdata, which the test suite's set-up installs).
final class NNCommandTests: CommandTestCase {
    let nodeTests = URL(fileURLWithPath: "/usr/share/libonnx-testdata/data/node")

    func model(_ test: String) throws -> String {
        let url = nodeTests.appendingPathComponent(test).appendingPathComponent("model.onnx")
        guard FileManager.default.fileExists(atPath: url.path) else {
            XCTFail("libonnx-testdata is not installed (apt-get install libonnx-testdata)")
            throw CocoaError(.fileNoSuchFile)
        }
        return url.path
    }

    func testInfoDescribesAModelAndListsWhatItCannotRun() throws {
        let conv = try model("test_conv_with_strides_padding")
        let text = try strata("nn", "info", conv)
        XCTAssertEqual(text.status, 0, text.stderr)
        XCTAssertTrue(text.stdout.contains("opset 11"), text.stdout)
        XCTAssertTrue(text.stdout.contains("input x: float 1×1×7×5"), text.stdout)
        XCTAssertTrue(text.stdout.contains("output y: float 1×1×4×3"), text.stdout)
        XCTAssertTrue(text.stdout.contains("every operator is supported"), text.stdout)

        let json = try strata("nn", "info", conv, "--json")
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(object["opset"] as? Int, 11)
        XCTAssertEqual(object["operators"] as? [String: Int], ["Conv": 1])
        XCTAssertEqual((object["inputs"] as? [[String: Any]])?.map { $0["name"] as? String }, ["x", "W"])
        XCTAssertEqual(object["unsupported"] as? [String], [])

        let lstm = try strata("nn", "info", try model("test_lstm_defaults"))
        XCTAssertEqual(lstm.status, 65)
        XCTAssertTrue(lstm.stdout.contains("LSTM #0: LSTM is not supported"), lstm.stdout)
    }

    /// ONNX's own convolution example's inputs: x = 0…34 as 7 × 5, a 3 × 3 kernel of ones.
    func writeConvolutionInputs() throws {
        try NPYArray(shape: [1, 1, 7, 5], elements: .float((0..<35).map(Float.init))).write(to: folder.appendingPathComponent("x.npy"))
        try NPYArray(shape: [1, 1, 3, 3], elements: .float([Float](repeating: 1, count: 9))).write(to: folder.appendingPathComponent("w.npy"))
    }

    /// --cube-padding on an input that is not a batch of cubes changes nothing and says so
    /// (a note, not an error); the rewrite itself is tested in StrataNNTests.
    func testCubePaddingOnAModelThatDoesNotSeeCubesIsANote() throws {
        try writeConvolutionInputs()
        let run = try strata("nn", "run", try model("test_conv_with_strides_padding"), "--input", "x=x.npy", "--input", "W=w.npy",
                             "--output", "out", "--cube-padding")
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stderr.contains("strata: note: --cube-padding changed nothing"), run.stderr)
        XCTAssertTrue(run.stdout.contains("y: float 1×1×4×3"), run.stdout)
    }

    /// The convolution of ONNX's own example: x = 0…34 as 7 × 5, a 3 × 3 kernel of ones,
    /// stride 2, padding 1; each output is the sum of its window.
    func testRunWritesEveryOutputAsNPY() throws {
        try writeConvolutionInputs()
        let run = try strata("nn", "run", try model("test_conv_with_strides_padding"), "--input", "x=x.npy", "--input", "W=w.npy",
                             "--output", "out", "--threads", "1")
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stdout.contains("y: float 1×1×4×3"), run.stdout)
        let y = try NPYArray.read(folder.appendingPathComponent("out/y.npy"))
        var expected: [Float] = []
        for oy in 0..<4 {
            for ox in 0..<3 {
                var sum: Float = 0
                for i in -1...1 { for j in -1...1 where (0..<7).contains(2 * oy + i) && (0..<5).contains(2 * ox + j) { sum += Float((2 * oy + i) * 5 + 2 * ox + j) } }
                expected.append(sum)
            }
        }
        XCTAssertEqual(y, NPYArray(shape: [1, 1, 4, 3], elements: .float(expected)))
        XCTAssertEqual(expected.prefix(3), [12, 27, 24])  // ONNX's documented first row
    }

    /// An image is fed as 1 × C × H × W in 0…1: global average pooling returns its mean colour.
    func testRunTakesAnImageForAModelWithOneInput() throws {
        let image = Image(width: 5, height: 5, channels: 3) { c, _, _ in Float(51 * (c + 1)) / 255 }
        try ImageFile.write(image, to: folder.appendingPathComponent("flat.png"))
        let run = try strata("nn", "run", try model("test_globalaveragepool"), "--input", "flat.png", "--output", "out")
        XCTAssertEqual(run.status, 0, run.stderr)
        let y = try NPYArray.read(folder.appendingPathComponent("out/y.npy"))
        XCTAssertEqual(y.shape, [1, 3, 1, 1])
        guard case .float(let means) = y.elements else { return XCTFail("\(y.elements)") }
        for (c, mean) in means.enumerated() { XCTAssertEqual(mean, Float(51 * (c + 1)) / 255, accuracy: 1e-6) }
    }

    /// --shape prepares a dynamic export for one size: what runs, the output's shape, and
    /// a size the network cannot take named with its node (65) before anything runs.
    func testInfoPreparesADynamicExportForAShape() throws {
        let dav2 = repository.appendingPathComponent("Tests/StrataNNTests/Fixtures/networks/depth_anything_v2_opset17/model.onnx").path
        let text = try strata("nn", "info", dav2, "--shape", "image=1x3x518x518")
        XCTAssertEqual(text.status, 0, text.stderr)
        XCTAssertTrue(text.stdout.contains("input image: float 1×3×?×?"), text.stdout)
        XCTAssertTrue(text.stdout.contains("prepared for image 1×3×518×518: 145 of 562 nodes run"), text.stdout)
        XCTAssertTrue(text.stdout.contains("output depth: 1×518×518"), text.stdout)

        let json = try strata("nn", "info", dav2, "--shape", "image=1×3×70×84", "--json")
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let prepared = try XCTUnwrap(object["prepared"] as? [String: Any])
        XCTAssertEqual(prepared["outputs"] as? [String: [Int]], ["depth": [1, 70, 84]])
        XCTAssertEqual(prepared["inputs"] as? [String: [Int]], ["image": [1, 3, 70, 84]])

        let cases: [([String], Int32, String)] = [
            (["--shape", "image=1x3x5x5"], 65, "cannot run at image=1x3x5x5: node \"/embed/Conv\" (Conv): Conv: kernel extent 14 exceeds the padded input 5"),
            (["--shape", "image=1x3x518"], 64, "input \"image\" is 1×3×?×?, got 1×3×518"),
            (["--shape", "picture=1x3x518x518"], 64, "cannot fix the shape of \"picture\""),
            (["--shape", "image=1x3xtallx518"], 64, "whole numbers"),
            (["--shape", "1x3x518x518"], 64, "NAME=1x3x518x518"),
        ]
        for (arguments, status, message) in cases {
            let result = try strata(["nn", "info", dav2] + arguments)
            XCTAssertEqual(result.status, status, "\(arguments): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains(message), "\(arguments): \(result.stderr)")
        }
    }

    func testBadRequestsExitWithSysexitsCodes() throws {
        let conv = try model("test_conv_with_strides_padding")
        try NPYArray(shape: [1, 1, 7, 5], elements: .float([Float](repeating: 0, count: 35))).write(to: folder.appendingPathComponent("x.npy"))
        try NPYArray(shape: [1, 1, 3, 3], elements: .float([Float](repeating: 0, count: 9))).write(to: folder.appendingPathComponent("w.npy"))
        try Data("not an array".utf8).write(to: folder.appendingPathComponent("bad.npy"))
        try Data([0xFF, 0xFF, 0xFF, 0x07]).write(to: folder.appendingPathComponent("bad.onnx"))
        try Data().write(to: folder.appendingPathComponent("a-file"))
        let cases: [([String], Int32, String)] = [
            (["nn", "run", "missing.onnx", "--input", "x.npy", "--output", "out"], 66, "missing.onnx: no such file"),
            (["nn", "run", "bad.onnx", "--input", "x.npy", "--output", "out"], 65, "not a usable ONNX model"),
            (["nn", "run", conv, "--input", "q=x.npy", "--output", "out"], 64, "the model has no input \"q\""),
            (["nn", "run", conv, "--input", "x=x.npy", "--output", "out"], 64, "input \"W\" is missing"),
            (["nn", "run", conv, "--input", "x=w.npy", "--input", "W=x.npy", "--output", "out"], 64, "input \"x\" is 1×1×7×5, got 1×1×3×3"),
            (["nn", "run", conv, "--input", "x=bad.npy", "--input", "W=w.npy", "--output", "out"], 65, "bad.npy"),
            (["nn", "run", conv, "--input", "x=nope.npy", "--input", "W=w.npy", "--output", "out"], 66, "nope.npy"),
            (["nn", "run", conv, "--input", "x=x.npy", "--input", "W=w.npy", "--output", "a-file"], 73, "a-file"),
            (["nn", "run", conv, "--output", "out"], 64, "--input"),
            (["nn", "info", "missing.onnx"], 66, "no such file"),
        ]
        for (arguments, status, message) in cases {
            let result = try strata(arguments)
            XCTAssertEqual(result.status, status, "\(arguments): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains(message), "\(arguments): \(result.stderr)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.appendingPathComponent("out").path), "a failed run left an output folder")
    }
}
