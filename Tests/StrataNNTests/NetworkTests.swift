import Foundation
import StrataCore
import StrataIO
import XCTest
@testable import StrataNN

/// MiDaS v2.1 small, DPT on a ViT and Depth Anything V2 as PyTorch exports them at opsets
/// 11, 14 and 17 (narrow, random weights; Tools/make_nn_fixtures.py): StrataNN's output
/// must match onnxruntime's to 1e-4 of the output's range.
final class NetworkTests: XCTestCase {
    static var fixtures: URL { Bundle.module.resourceURL!.appendingPathComponent("Fixtures/networks") }

    /// Runs the network's inputs and checks what graph preparation fused: the patterns each
    /// export spells out must not silently stop matching.
    func run(_ name: String, fuses expected: [String: Int] = [:]) throws {
        let folder = Self.fixtures.appendingPathComponent(name)
        let model = try Model(contentsOf: folder.appendingPathComponent("model.onnx"))
        let session = try Session(model: model)
        for (rewrite, count) in expected { XCTAssertEqual(session.rewrites[rewrite], count, "\(name): \(rewrite)") }
        XCTAssertLessThan(session.nodeCount, model.nodes.count, "\(name): nothing folded or fused")
        var k = 0
        while FileManager.default.fileExists(atPath: folder.appendingPathComponent("input_\(k).npy").path) {
            let input = try NPYArray.read(folder.appendingPathComponent("input_\(k).npy"))
            let expected = try NPYArray.read(folder.appendingPathComponent("output_\(k).npy"))
            guard case .float(let x) = input.elements, case .float(let want) = expected.elements else { return XCTFail("float arrays expected") }
            // As exported, and prepared for this input's shape: every value's shape inferred
            // (and checked against what each node makes), nothing left that computes shapes.
            let fixed = try Session(model: model, inputShapes: [model.inputs[0].name: input.shape])
            fixed.verifiesShapes = true
            let unknown = fixed.computedValues.filter { fixed.valueShapes[$0] == nil }
            XCTAssertEqual(unknown, [], "\(name) at \(input.shape): values of unknown shape")
            let shapeWork = fixed.stepOperators.filter { ["Shape", "Size", "ConstantOfShape", "Range", "If"].contains($0) }
            XCTAssertEqual(shapeWork, [], "\(name) at \(input.shape): shape computations left")
            XCTAssertLessThanOrEqual(fixed.nodeCount, session.nodeCount, "\(name) at \(input.shape)")
            // Prepared for the shape, every transformer block's scale is a constant, taken into its attention.
            XCTAssertEqual(fixed.rewrites["attention scale"], fixed.rewrites["attention"], "\(name) at \(input.shape)")
            if model.inputs[0].shape?.contains(where: { $0 == nil }) == true {
                XCTAssertLessThan(fixed.nodeCount, session.nodeCount * 2 / 3, "\(name): a dynamic export prepared for its shape keeps its shape arithmetic")
            }
            for s in [session, fixed] {
                let outputs = try s.run([model.inputs[0].name: Tensor(shape: input.shape, floats: x)])
                let got = try XCTUnwrap(outputs[model.outputs[0].name])
                XCTAssertEqual(got.shape, expected.shape, "\(name) input \(k)")
                let values = try XCTUnwrap(got.floats)
                let range = (want.max()! - want.min()!)
                let error = zip(values, want).map { abs($0 - $1) }.max() ?? .infinity
                XCTAssertLessThanOrEqual(error, 1e-4 * range, "\(name) input \(k): max error \(error), output range \(range)")
                XCTAssertGreaterThan(range, 0, "\(name): a constant output would not test much")
            }
            print("\(name) at \(input.shape): \(session.nodeCount) nodes as exported, \(fixed.nodeCount) prepared for the shape")
            k += 1
        }
        XCTAssertGreaterThan(k, 0, "\(name) has no inputs")
    }

    // ReLU6 exports as Clip; the exporter already folded BatchNorm into the convolutions.
    // The residual Adds of its MBConv blocks and fusion units go into the convolutions.
    static let midas = ["Conv + Clip": 14, "Conv + Relu": 9, "Conv + Add": 12]
    // Four blocks: a GELU per MLP and per readout projection, two LayerNorms per block
    // (spelled out before opset 17), a bias per Linear.
    // And attention (MatMul → Softmax → MatMul) once per block, with Q's scale and K's
    // transpose taken in.
    static let attention = ["attention": 4, "attention scale": 4, "attention keys": 4]
    static let dptBefore17 = ["GELU pattern": 8, "LayerNorm pattern": 8, "MatMul + Add": 20, "Conv + Relu": 9, "Conv + Add": 10].merging(attention) { $1 }
    // Depth Anything's export has dynamic height and width; its scale is worked out from
    // the shape, so it folds (and fuses) only in a session prepared for an input's shape.
    static let dav2Before17 = ["GELU pattern": 4, "LayerNorm pattern": 12, "MatMul + Add": 16, "Conv + Relu": 9, "attention": 4, "attention keys": 4]

    func testMiDaSSmallAtOpset11() throws { try run("midas_small_opset11", fuses: Self.midas) }
    func testMiDaSSmallAtOpset14() throws { try run("midas_small_opset14", fuses: Self.midas) }
    func testMiDaSSmallAtOpset17() throws { try run("midas_small_opset17", fuses: Self.midas) }
    func testDPTOnAViTAtOpset11() throws { try run("dpt_vit_opset11", fuses: Self.dptBefore17) }
    func testDPTOnAViTAtOpset14() throws { try run("dpt_vit_opset14", fuses: Self.dptBefore17) }
    func testDPTOnAViTAtOpset17() throws { try run("dpt_vit_opset17", fuses: ["GELU pattern": 8, "MatMul + Add": 20, "Conv + Add": 10].merging(Self.attention) { $1 }) }
    /// Exported with dynamic height and width: run at 56×56 and 70×84, position embeddings
    /// interpolated by the graph's own Shape → Resize chain.
    func testDepthAnythingV2AtOpset11() throws { try run("depth_anything_v2_opset11", fuses: Self.dav2Before17) }
    func testDepthAnythingV2AtOpset14() throws { try run("depth_anything_v2_opset14", fuses: Self.dav2Before17) }
    func testDepthAnythingV2AtOpset17() throws { try run("depth_anything_v2_opset17", fuses: ["GELU pattern": 4, "MatMul + Add": 16, "attention": 4, "attention keys": 4]) }

    /// The example of StrataNN's DocC page, line for line, on the Depth Anything fixture (its
    /// dynamic height and width take the example's 518 × 518 frame).
    func testTheDocumentationExampleRuns() throws {
        let model = try Model(contentsOf: Self.fixtures.appendingPathComponent("depth_anything_v2_opset17/model.onnx"))
        XCTAssertEqual(model.opset, 17)
        XCTAssertEqual(model.inputs.map(\.name), ["image"])
        XCTAssertGreaterThan(model.operatorCounts["MatMul"] ?? 0, 0)

        let session = try Session(model: model, threads: 2)
        let frame = Image(width: 518, height: 518, channels: 3, fill: 0.5)
        let outputs = try session.run([model.inputs[0].name: Tensor(frame)])
        let depth = try outputs[model.outputs[0].name]!.image()
        XCTAssertEqual(depth.width, 518)
        XCTAssertEqual(depth.channels, 1)
        XCTAssertFalse(session.rewrites.isEmpty)
        XCTAssertGreaterThan(session.lastRunPeakBytes, 518 * 518 * 3 * 4)
    }
}
