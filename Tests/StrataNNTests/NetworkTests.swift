import Foundation
import StrataIO
import XCTest
@testable import StrataNN

/// MiDaS v2.1 small, DPT on a ViT and Depth Anything V2 as PyTorch exports them at opsets
/// 11, 14 and 17 (narrow, random weights; Tools/make_nn_fixtures.py): StrataNN's output
/// must match onnxruntime's to 1e-4 of the output's range.
final class NetworkTests: XCTestCase {
    static var fixtures: URL { Bundle.module.resourceURL!.appendingPathComponent("Fixtures/networks") }

    func run(_ name: String) throws {
        let folder = Self.fixtures.appendingPathComponent(name)
        let model = try Model(contentsOf: folder.appendingPathComponent("model.onnx"))
        let session = try Session(model: model)
        var k = 0
        while FileManager.default.fileExists(atPath: folder.appendingPathComponent("input_\(k).npy").path) {
            let input = try NPYArray.read(folder.appendingPathComponent("input_\(k).npy"))
            let expected = try NPYArray.read(folder.appendingPathComponent("output_\(k).npy"))
            guard case .float(let x) = input.elements, case .float(let want) = expected.elements else { return XCTFail("float arrays expected") }
            let outputs = try session.run([model.inputs[0].name: Tensor(shape: input.shape, floats: x)])
            let got = try XCTUnwrap(outputs[model.outputs[0].name])
            XCTAssertEqual(got.shape, expected.shape, "\(name) input \(k)")
            let values = try XCTUnwrap(got.floats)
            let range = (want.max()! - want.min()!)
            let error = zip(values, want).map { abs($0 - $1) }.max() ?? .infinity
            XCTAssertLessThanOrEqual(error, 1e-4 * range, "\(name) input \(k): max error \(error), output range \(range)")
            XCTAssertGreaterThan(range, 0, "\(name): a constant output would not test much")
            k += 1
        }
        XCTAssertGreaterThan(k, 0, "\(name) has no inputs")
    }

    func testMiDaSSmallAtOpset11() throws { try run("midas_small_opset11") }
    func testMiDaSSmallAtOpset14() throws { try run("midas_small_opset14") }
    func testMiDaSSmallAtOpset17() throws { try run("midas_small_opset17") }
    func testDPTOnAViTAtOpset11() throws { try run("dpt_vit_opset11") }
    func testDPTOnAViTAtOpset14() throws { try run("dpt_vit_opset14") }
    func testDPTOnAViTAtOpset17() throws { try run("dpt_vit_opset17") }
    /// Exported with dynamic height and width: run at 56×56 and 70×84, position embeddings
    /// interpolated by the graph's own Shape → Resize chain.
    func testDepthAnythingV2AtOpset11() throws { try run("depth_anything_v2_opset11") }
    func testDepthAnythingV2AtOpset14() throws { try run("depth_anything_v2_opset14") }
    func testDepthAnythingV2AtOpset17() throws { try run("depth_anything_v2_opset17") }
}
