import Foundation
import XCTest
@testable import StrataNN

/// Preparing a dynamic export for the input shape it will run at: every value's shape
/// inferred, the shape arithmetic folded, and the shapes held to.
final class ShapeInferenceTests: XCTestCase {
    /// y = Reshape(x, Concat(Gather(Shape(x), [0, 1]), [-1])): the flattening of the spatial
    /// axes that exporters write for a dynamic height and width.
    func flattening() throws -> Model {
        var b = ModelBuilder()
        b.input("x", shape: [1, 3, nil, nil])
        b.integers("leading", shape: [2], values: [0, 1])
        b.integers("rest", shape: [1], values: [-1])
        b.node("Shape", ["x"], ["shape"])
        b.node("Gather", ["shape", "leading"], ["nc"], int: ["axis": 0])
        b.node("Concat", ["nc", "rest"], ["target"], int: ["axis": 0])
        b.node("Reshape", ["x", "target"], ["flat"])
        b.node("Relu", ["flat"], ["y"])
        b.output("y")
        return try b.model()
    }

    func testFixingTheInputShapeFoldsTheShapeArithmetic() throws {
        let model = try flattening()
        let dynamic = try Session(model: model)
        XCTAssertEqual(dynamic.nodeCount, 5)
        XCTAssertNil(dynamic.valueShapes["y"])

        let fixed = try Session(model: model, inputShapes: ["x": [1, 3, 4, 5]])
        fixed.verifiesShapes = true
        XCTAssertEqual(fixed.stepOperators, ["Reshape", "Relu"])
        XCTAssertEqual(fixed.rewrites["shapes of known values folded"], 1)
        XCTAssertEqual(fixed.inputShapes, ["x": [1, 3, 4, 5]])
        XCTAssertEqual(fixed.valueShapes["flat"], [1, 3, 20])
        XCTAssertEqual(fixed.valueShapes["y"], [1, 3, 20])
        XCTAssertNil(fixed.shapeFailure)

        let x = Tensor(shape: [1, 3, 4, 5], floats: (0..<60).map { Float($0 % 7) - 3 })
        let want = try dynamic.run(["x": x])["y"]!
        XCTAssertEqual(want.shape, [1, 3, 20])
        XCTAssertEqual(try fixed.run(["x": x])["y"], want)
        // The unfixed session still takes any size; the fixed one only its own, by name.
        XCTAssertEqual(try dynamic.run(["x": Tensor(shape: [1, 3, 2, 2], repeating: 1)])["y"]?.shape, [1, 3, 4])
        XCTAssertThrowsError(try fixed.run(["x": Tensor(shape: [1, 3, 2, 2], repeating: 1)])) { error in
            XCTAssertEqual(error as? NNError, .badInput("input \"x\" was fixed at 1×3×4×5 when the session was prepared, got 1×3×2×2"))
            XCTAssertEqual((error as? NNError)?.exitCode, 64)
        }
    }

    func testShapesThatDoNotFitTheModelAreRefusedByName() throws {
        let model = try flattening()
        let cases: [([String: [Int]], String)] = [
            (["q": [1, 3, 4, 5]], "cannot fix the shape of \"q\": the model has no such input (its inputs: x)"),
            (["x": [1, 3, 4]], "input \"x\" is 1×3×?×?, got 1×3×4"),
            (["x": [2, 3, 4, 5]], "input \"x\" is 1×3×?×?, got 2×3×4×5"),
            (["x": [1, 3, -4, 5]], "input \"x\" cannot be fixed at 1×3×-4×5: extents must not be negative"),
        ]
        for (shapes, message) in cases {
            XCTAssertThrowsError(try Session(model: model, inputShapes: shapes)) { error in
                XCTAssertEqual(error as? NNError, .badInput(message))
                XCTAssertEqual((error as? NNError)?.exitCode, 64)
            }
        }
    }

    /// A size the network cannot take is found at preparation, naming the node, and a run
    /// at that size fails at that node.
    func testTheFirstNodeThatCannotTakeTheShapeIsNamed() throws {
        var b = ModelBuilder()
        b.input("x", shape: [1, 1, nil, nil])
        b.weight("w", shape: [1, 1, 3, 3], values: [Float](repeating: 1, count: 9))
        b.node("Relu", ["x"], ["r"])
        b.node("Conv", ["r", "w"], ["y"], name: "stem")
        b.output("y")
        let model = try b.model()
        XCTAssertNil(try Session(model: model, inputShapes: ["x": [1, 1, 3, 3]]).shapeFailure)
        XCTAssertEqual(try Session(model: model, inputShapes: ["x": [1, 1, 3, 3]]).valueShapes["y"], [1, 1, 1, 1])
        let small = try Session(model: model, inputShapes: ["x": [1, 1, 2, 2]])
        XCTAssertEqual(small.shapeFailure, "node \"stem\" (Conv): Conv: kernel extent 3 exceeds the padded input 2")
        XCTAssertNil(small.valueShapes["y"])
        XCTAssertThrowsError(try small.run(["x": Tensor(shape: [1, 1, 2, 2], repeating: 1)])) { error in
            guard case NNError.nodeFailed(let node, "Conv", _)? = error as? NNError else { return XCTFail("\(error)") }
            XCTAssertEqual(node, "stem")
        }
    }

    /// The verification itself must catch a wrong rule: a shape recorded for a value that
    /// the node then makes differently fails the run naming the node.
    func testAWrongInferredShapeFailsTheRunThatRevealsIt() throws {
        var b = ModelBuilder()
        b.input("x", shape: [2, 3])
        b.node("Transpose", ["x"], ["t"], name: "swap")
        b.output("t")
        let session = try Session(model: b.model())
        XCTAssertEqual(session.valueShapes["t"], [3, 2])
        session.verifiesShapes = true
        XCTAssertNoThrow(try session.run(["x": Tensor(shape: [2, 3], repeating: 0)]))
        session.overrideShape("t", [2, 3])
        XCTAssertThrowsError(try session.run(["x": Tensor(shape: [2, 3], repeating: 0)])) { error in
            XCTAssertEqual(error as? NNError, .nodeFailed(node: "swap", op: "Transpose", "made [3, 2] where shape inference said [2, 3]"))
        }
    }
}
