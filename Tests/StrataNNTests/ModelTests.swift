import Foundation
import StrataCore
import XCTest
@testable import StrataNN

final class ModelTests: XCTestCase {
    func testImagesAndTensorsConvertWithoutShuffling() throws {
        let image = Image(width: 5, height: 3, channels: 3) { c, y, x in Float(c * 100 + y * 10 + x) }
        let tensor = Tensor(image)
        XCTAssertEqual(tensor.shape, [1, 3, 3, 5])
        XCTAssertEqual(try tensor.image(), image)
        XCTAssertEqual(try Tensor(shape: [3, 5], floats: image.channel(1).pixels).image(), image.channel(1))
        XCTAssertThrowsError(try Tensor(shape: [2, 3, 3, 5], repeating: 0).image())
        XCTAssertThrowsError(try Tensor(shape: [2], int64: [1, 2]).image())
    }

    /// y = Relu(x · W + b) for a 2 × 3 input, against the product worked by hand.
    func testASmallGraphComputesItsClosedForm() throws {
        var b = ModelBuilder()
        b.input("x", shape: [2, 3])
        b.weight("W", shape: [3, 2], values: [1, 0, 0, 1, 1, -1])
        b.weight("b", shape: [2], values: [0.5, -10])
        b.node("MatMul", ["x", "W"], ["xw"])
        b.node("Add", ["xw", "b"], ["z"])
        b.node("Relu", ["z"], ["y"])
        b.output("y", shape: [2, 2])
        let session = try Session(model: b.model())
        let y = try session.run(["x": Tensor(shape: [2, 3], floats: [1, 2, 3, -4, 5, 6])])["y"]!
        // Row 1: [1 + 3, 2 − 3] + [0.5, −10] → [4.5, −11] → Relu → [4.5, 0]; row 2: [2, −1] + b → [2.5, 0].
        XCTAssertEqual(y.shape, [2, 2])
        XCTAssertEqual(y.floats, [4.5, 0, 2.5, 0])
    }

    func testUnsupportedOperatorsAreAllListedWithWhereTheyAre() throws {
        var b = ModelBuilder()
        b.input("x", shape: [1, 4, 3])
        b.node("LSTM", ["x"], ["h"], name: "encoder_rnn")
        b.node("Relu", ["h"], ["r"])
        b.node("TopK", ["r", "k"], ["v", "i"])
        b.node("Conv", ["r", "w"], ["c"], ints: ["kernel_shape": [3, 3, 3]])
        b.output("c")
        XCTAssertThrowsError(try b.model()) { error in
            guard case NNError.unsupportedOperators(let path, let list) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(path, "test.onnx")
            XCTAssertEqual(list, ["encoder_rnn: LSTM is not supported", "TopK #2: TopK is not supported",
                                  "Conv #3: Conv over 3 spatial axes is not supported (1 or 2)"])
            XCTAssertEqual((error as? NNError)?.exitCode, 65)
        }
        // inspect describes the model instead of refusing it.
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("strata-unsupported-\(UUID()).onnx")
        try b.data().write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let described = try Model.inspect(contentsOf: url)
        XCTAssertEqual(described.unsupported.count, 3)
        XCTAssertEqual(described.operatorCounts, ["LSTM": 1, "Relu": 1, "TopK": 1, "Conv": 1])
        XCTAssertThrowsError(try Session(model: described))
    }

    func testFilesThatAreNotModelsAreRefusedWithTheirExitCodes() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("strata-nn-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        func code(_ url: URL) -> Int32? {
            do { _ = try Model(contentsOf: url); return 0 } catch let e as NNError { return e.exitCode } catch { return nil }
        }
        XCTAssertEqual(code(folder.appendingPathComponent("missing.onnx")), 66)
        XCTAssertEqual(code(folder), 66)
        let garbage = folder.appendingPathComponent("garbage.onnx")
        try Data([0xFF, 0xFF, 0xFF, 0x07, 0x01]).write(to: garbage)
        XCTAssertEqual(code(garbage), 65)
        let empty = folder.appendingPathComponent("empty.onnx")
        try Data().write(to: empty)
        XCTAssertThrowsError(try Model(contentsOf: empty)) { XCTAssertTrue("\($0)".contains("no graph"), "\($0)") }
    }

    func testInputsAreCheckedAgainstTheDeclaration() throws {
        var b = ModelBuilder()
        b.input("image", shape: [1, 3, nil, nil])
        b.node("Relu", ["image"], ["y"])
        b.output("y")
        let session = try Session(model: b.model())
        // Dynamic height and width run at the size given.
        for (h, w) in [(4, 6), (7, 2)] {
            let y = try session.run(["image": Tensor(shape: [1, 3, h, w], repeating: -1)])["y"]!
            XCTAssertEqual(y.shape, [1, 3, h, w])
            XCTAssertEqual(Set(y.floats!), [0])
        }
        func message(_ feeds: [String: Tensor]) -> String {
            do { _ = try session.run(feeds); return "ran" } catch let e as NNError {
                XCTAssertEqual(e.exitCode, 64)
                return e.description
            } catch { return "\(error)" }
        }
        XCTAssertEqual(message([:]), "input \"image\" is missing")
        XCTAssertEqual(message(["image": Tensor(shape: [1, 3, 2, 2], repeating: 0), "mask": Tensor(shape: [1], repeating: 0)]),
                       "the model has no input \"mask\" (its inputs: image)")
        XCTAssertEqual(message(["image": Tensor(shape: [1, 4, 2, 2], repeating: 0)]), "input \"image\" is 1×3×?×?, got 1×4×2×2")
        XCTAssertEqual(message(["image": Tensor(shape: [3, 2, 2], repeating: 0)]), "input \"image\" is 1×3×?×?, got 3×2×2")
        XCTAssertEqual(message(["image": Tensor(shape: [1, 3, 1, 1], int64: [1, 2, 3])]), "input \"image\" is float, got int64")
    }

    func testANodeThatFailsIsNamedInTheError() throws {
        var b = ModelBuilder()
        b.input("a", shape: [2, 3])
        b.input("b", shape: [4, 5])
        b.node("MatMul", ["a", "b"], ["y"], name: "proj")
        b.output("y")
        XCTAssertThrowsError(try Session(model: b.model()).run(["a": Tensor(shape: [2, 3], repeating: 1), "b": Tensor(shape: [4, 5], repeating: 1)])) {
            XCTAssertEqual("\($0)", "node \"proj\" (MatMul): MatMul of [2, 3] and [4, 5]: inner extents 3 and 4 differ")
        }
    }

    /// Ten Relus in a chain over 1 MiB: with each intermediate freed after its last reader,
    /// no more than the input, one value and the next are alive at once.
    func testIntermediatesAreFreedAfterTheirLastUse() throws {
        var b = ModelBuilder()
        b.input("x", shape: [1 << 18])
        var last = "x"
        for i in 0..<10 {
            b.node("Relu", [last], ["r\(i)"])
            last = "r\(i)"
        }
        b.node("Add", ["r9", "x"], ["y"])  // x stays alive to the end
        b.output("y")
        let session = try Session(model: b.model())
        _ = try session.run(["x": Tensor(shape: [1 << 18], repeating: 1)])
        XCTAssertEqual(session.lastRunPeakBytes, 3 << 20, "input + the value read + the value written")
    }

    func testWeightsInAnExternalFileBesideTheModel() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("strata-ext-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var blob = Data(repeating: 0xAB, count: 16)  // the tensor starts at offset 16
        for v: Float in [2, 3, 5] { withUnsafeBytes(of: v.bitPattern.littleEndian) { blob.append(contentsOf: $0) } }
        try blob.write(to: folder.appendingPathComponent("weights.bin"))
        var b = ModelBuilder()
        b.input("x", shape: [3])
        b.weight("w", shape: [3], values: [0, 0, 0], external: "weights.bin", offset: 16)
        b.node("Mul", ["x", "w"], ["y"])
        b.output("y")
        let url = folder.appendingPathComponent("model.onnx")
        try b.data().write(to: url)
        let y = try Session(model: Model(contentsOf: url)).run(["x": Tensor(shape: [3], floats: [1, 10, 100])])["y"]!
        XCTAssertEqual(y.floats, [2, 30, 500])

        var escaping = ModelBuilder()
        escaping.input("x", shape: [3])
        escaping.weight("w", shape: [3], values: [0, 0, 0], external: "../weights.bin")
        escaping.node("Mul", ["x", "w"], ["y"])
        escaping.output("y")
        try escaping.data().write(to: url)
        XCTAssertThrowsError(try Model(contentsOf: url)) { XCTAssertTrue("\($0)".contains("must stay beside the model"), "\($0)") }
    }

    /// Conv → BatchNormalization → Relu becomes one convolution with folded weights and the
    /// activation applied in place; its output must equal the three steps done by hand.
    func testConvBatchNormReluFoldIntoOneConvolution() throws {
        var b = ModelBuilder()
        b.input("x", shape: [1, 2, 4, 4])
        let w = (0..<54).map { Float(($0 * 37) % 11) / 5 - 1 }
        b.weight("W", shape: [3, 2, 3, 3], values: w)
        b.weight("B", shape: [3], values: [0.1, -0.2, 0.3])
        let (scale, shift, mean, variance): ([Float], [Float], [Float], [Float]) = ([1.5, 0.5, -1], [0.2, 0, -0.3], [0.1, -0.4, 0.25], [0.5, 2, 1.25])
        b.weight("scale", shape: [3], values: scale)
        b.weight("shift", shape: [3], values: shift)
        b.weight("mean", shape: [3], values: mean)
        b.weight("var", shape: [3], values: variance)
        b.node("Conv", ["x", "W", "B"], ["c"], ints: ["pads": [1, 1, 1, 1]])
        b.node("BatchNormalization", ["c", "scale", "shift", "mean", "var"], ["n"])
        b.node("Relu", ["n"], ["y"])
        b.output("y")
        let session = try Session(model: b.model())
        XCTAssertEqual(session.rewrites["Conv + BatchNormalization"], 1)
        XCTAssertEqual(session.rewrites["Conv + Relu"], 1)
        XCTAssertEqual(session.nodeCount, 1)
        let x = (0..<32).map { Float(($0 * 13) % 7) / 3 - 1 }
        let y = try session.run(["x": Tensor(shape: [1, 2, 4, 4], floats: x)])["y"]!.floats!
        for m in 0..<3 {
            for oy in 0..<4 {
                for ox in 0..<4 {
                    var sum: Float = [0.1, -0.2, 0.3][m]
                    for c in 0..<2 {
                        for i in 0..<3 {
                            for j in 0..<3 {
                                let (iy, ix) = (oy + i - 1, ox + j - 1)
                                guard (0..<4).contains(iy), (0..<4).contains(ix) else { continue }
                                sum += w[((m * 2 + c) * 3 + i) * 3 + j] * x[(c * 4 + iy) * 4 + ix]
                            }
                        }
                    }
                    let normalized = (sum - mean[m]) / (variance[m] + 1e-5).squareRoot() * scale[m] + shift[m]
                    XCTAssertEqual(y[(m * 4 + oy) * 4 + ox], max(0, normalized), accuracy: 1e-5)
                }
            }
        }
    }

    /// A node whose inputs are all constants runs once, at load.
    func testConstantSubgraphsAreFoldedAtLoad() throws {
        for rows in [nil, 2] {
            try constantSubgraphsAreFolded(rows: rows)
        }
    }

    /// With x's shape declared in full, its Shape is a constant too, and so is all that reads it.
    func constantSubgraphsAreFolded(rows: Int?) throws {
        var b = ModelBuilder()
        b.input("x", shape: [rows, 3])
        b.weight("w", shape: [6], values: [1, 2, 3, 4, 5, 6])
        b.weight("shape", shape: [2], values: [0, 0])
        b.node("Shape", ["x"], ["s"])  // depends on the input's shape: stays unless it is known
        b.node("Relu", ["w"], ["w2"])  // constant: folded
        b.node("Neg", ["w2"], ["w3"])  // constant: folded
        b.node("Reshape", ["w3", "s"], ["w4"])
        b.node("Add", ["x", "w4"], ["y"])
        b.output("y")
        let session = try Session(model: b.model())
        XCTAssertEqual(session.rewrites["constant nodes folded"], rows == nil ? 2 : 3)
        XCTAssertEqual(session.rewrites["shapes of known values folded"], rows == nil ? nil : 1)
        XCTAssertEqual(session.nodeCount, rows == nil ? 3 : 1)
        let y = try session.run(["x": Tensor(shape: [2, 3], repeating: 10)])["y"]!
        XCTAssertEqual(y.floats, [9, 8, 7, 6, 5, 4])
    }

    /// Every operator the depth networks' exports use, as the engine's brief lists them.
    func testTheOperatorsTheDepthNetworksNeedAreAllThere() {
        let needed = ["Conv", "ConvTranspose", "MatMul", "Gemm", "BatchNormalization", "LayerNormalization", "Softmax", "Relu", "Clip",
                      "Sigmoid", "HardSigmoid", "HardSwish", "Erf", "Gelu", "Tanh", "Exp", "Sqrt", "Pow", "Neg", "Add", "Sub", "Mul", "Div",
                      "ReduceMean", "ReduceSum", "Transpose", "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Concat", "Split", "Slice",
                      "Gather", "Expand", "Tile", "Pad", "Where", "Equal", "Range", "Shape", "Constant", "ConstantOfShape", "Cast",
                      "Identity", "MaxPool", "AveragePool", "GlobalAveragePool", "Upsample", "Resize"]
        XCTAssertEqual(needed.filter { Operators.table[$0] == nil }, [])
        print("StrataNN runs \(Operators.supported.count) operator types: \(Operators.supported.joined(separator: " "))")
    }

    /// MatMul → Softmax → MatMul runs as one kernel in blocks of query rows; batches that
    /// broadcast take the three operators. A Mul of Q by a constant and the Transpose of a
    /// stored K go into the fused node (as ViT exports write them). Every form must equal
    /// the product worked in Double.
    func testFusedAttentionEqualsItsThreeOperators() throws {
        for (qBatch, kBatch) in [([2, 3], [2, 3]), ([2, 3], [1, 3])] {
            for exported in [false, true] {
                let (n, d, m, e) = (45, 5, 37, 4)  // 45 rows: a full block of 32 and a ragged one
                let scale: Float = exported ? 0.35 : 1
                var b = ModelBuilder()
                b.input("q", shape: qBatch + [n, d])
                b.input("k", shape: kBatch + (exported ? [m, d] : [d, m]))
                b.input("v", shape: kBatch + [m, e])
                if exported {
                    b.weight("scale", shape: [], values: [scale])
                    b.node("Mul", ["q", "scale"], ["qs"])
                    b.node("Transpose", ["k"], ["kt"], ints: ["perm": [0, 1, 3, 2]])
                    b.node("MatMul", ["qs", "kt"], ["s"])
                } else {
                    b.node("MatMul", ["q", "k"], ["s"])
                }
                b.node("Softmax", ["s"], ["p"], int: ["axis": -1])
                b.node("MatMul", ["p", "v"], ["y"])
                b.output("y")
                let session = try Session(model: b.model())
                XCTAssertEqual(session.rewrites["attention"], 1)
                XCTAssertEqual(session.rewrites["attention scale"], exported ? 1 : nil)
                XCTAssertEqual(session.rewrites["attention keys"], exported ? 1 : nil)
                XCTAssertEqual(session.stepOperators, ["strata.Attention"])
                func values(_ count: Int, _ seed: Int) -> [Float] { (0..<count).map { Float((($0 + seed) * 7919) % 97) / 40 - 1.2 } }
                let kBatches = kBatch.reduce(1, *)
                let (qv, kv, vv) = (values(6 * n * d, 1), values(kBatches * d * m, 2), values(kBatches * m * e, 3))
                let y = try session.run(["q": Tensor(shape: qBatch + [n, d], floats: qv),
                                         "k": Tensor(shape: kBatch + (exported ? [m, d] : [d, m]), floats: kv),
                                         "v": Tensor(shape: kBatch + [m, e], floats: vv)])["y"]!
                XCTAssertEqual(y.shape, [2, 3, n, e])
                // Kᵀ[t][j] of batch kb, as the file gives K.
                func key(_ kb: Int, _ t: Int, _ j: Int) -> Double { Double(exported ? kv[(kb * m + j) * d + t] : kv[(kb * d + t) * m + j]) }
                for batch in 0..<6 {
                    let kb = kBatches == 6 ? batch : batch % 3
                    for i in 0..<n {
                        var scores = (0..<m).map { j in Double(scale) * (0..<d).reduce(0.0) { $0 + Double(qv[(batch * n + i) * d + $1]) * key(kb, $1, j) } }
                        let top = scores.max()!
                        scores = scores.map { Foundation.exp($0 - top) }
                        let total = scores.reduce(0, +)
                        for c in 0..<e {
                            let want = (0..<m).reduce(0.0) { $0 + scores[$1] / total * Double(vv[(kb * m + $1) * e + c]) }
                            XCTAssertEqual(Double(y.floats![(batch * n + i) * e + c]), want, accuracy: 1e-5, "\(kBatch) exported \(exported)")
                        }
                    }
                }
            }
        }
    }
}
