import Foundation
import StrataCore
import StrataSphere
import XCTest
@testable import StrataNN

/// Cube padding inside the network: every padded Conv, MaxPool and AveragePool over a batch
/// of cube faces pads from the neighbouring faces. The reference is the same operator with
/// no padding, run on faces padded by StrataSphere's `Cubemap.padded(by:mode: .copy)`.
final class CubePaddingNetworkTests: XCTestCase {
    static let cube = CubePadding { n, p in Cubemap.copyPaddingSources(faceSize: n, padding: p) }

    /// Random faces: `cubes` cubes of six C × n × n faces, as an N × C × n × n tensor.
    func faces(cubes: Int, channels: Int, n: Int, seed: UInt64) -> [Float] {
        var state = seed
        return (0..<(cubes * 6 * channels * n * n)).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int(state >> 40) % 2001 - 1000) / 1000
        }
    }

    /// The faces of `x` padded from their neighbours by `pads` (top, left, bottom, right), through StrataSphere.
    func paddedReference(_ x: [Float], cubes: Int, channels: Int, n: Int, pads: [Int]) throws -> [Float] {
        let p = pads.max()!
        let (oh, ow) = (n + pads[0] + pads[2], n + pads[1] + pads[3])
        var out: [Float] = []
        for g in 0..<cubes {
            let faces = (0..<6).map { f in
                Image(width: n, height: n, channels: channels) { c, y, xx in x[(((g * 6 + f) * channels + c) * n + y) * n + xx] }
            }
            let padded = try Cubemap(faces: faces, padding: 0).padded(by: p, mode: .copy)
            for face in CubeFace.allCases {
                let image = padded.face(face)
                for c in 0..<channels {
                    for y in 0..<oh { for xx in 0..<ow { out.append(image[c, y + p - pads[0], xx + p - pads[1]]) } }
                }
            }
        }
        return out
    }

    struct Case {
        var op: String
        var kernel: Int
        var pads: [Int]
        var strides = 1
        var dilation = 1
        var extra: [String: Int] = [:]
    }

    func testEveryPaddedOperatorPadsFromTheNeighbourFacesExactly() throws {
        let (cubes, channels, n) = (2, 3, 8)
        let cases = [
            Case(op: "Conv", kernel: 3, pads: [1, 1, 1, 1]),
            Case(op: "Conv", kernel: 5, pads: [2, 2, 2, 2]),
            Case(op: "Conv", kernel: 7, pads: [3, 3, 3, 3]),
            Case(op: "Conv", kernel: 3, pads: [2, 2, 2, 2], dilation: 2),
            Case(op: "Conv", kernel: 3, pads: [1, 1, 1, 1], strides: 2),
            Case(op: "Conv", kernel: 3, pads: [0, 0, 1, 1], strides: 2),  // TensorFlow's SAME on an even face
            Case(op: "Conv", kernel: 3, pads: [0, 1, 2, 1]),
            Case(op: "MaxPool", kernel: 3, pads: [1, 1, 1, 1]),
            Case(op: "AveragePool", kernel: 3, pads: [1, 1, 1, 1], strides: 2, extra: ["count_include_pad": 0]),
        ]
        let x = faces(cubes: cubes, channels: channels, n: n, seed: 7)
        for (k, c) in cases.enumerated() {
            func model(padded: Bool, size: (Int, Int)) throws -> Model {
                var b = ModelBuilder()
                b.input("x", shape: [cubes * 6, channels, size.0, size.1])
                var ints = ["strides": [c.strides, c.strides], "pads": padded ? c.pads : [0, 0, 0, 0]]
                if c.op == "Conv" {
                    ints["dilations"] = [c.dilation, c.dilation]
                    let w = (0..<(4 * channels * c.kernel * c.kernel)).map { Float(($0 * 37) % 17 - 8) / 16 }
                    b.weight("w", shape: [4, channels, c.kernel, c.kernel], values: w)
                    b.node("Conv", ["x", "w"], ["y"], ints: ints)
                } else {
                    ints["kernel_shape"] = [c.kernel, c.kernel]
                    b.node(c.op, ["x"], ["y"], ints: ints, int: c.extra)
                }
                b.output("y")
                return try b.model()
            }
            let session = try Session(model: model(padded: true, size: (n, n)), threads: 2, cubePadding: Self.cube)
            XCTAssertEqual(session.rewrites["cube padding"], 1, "case \(k)")
            let got = try session.run(["x": Tensor(shape: [cubes * 6, channels, n, n], floats: x)])["y"]!
            let (oh, ow) = (n + c.pads[0] + c.pads[2], n + c.pads[1] + c.pads[3])
            let reference = try Session(model: model(padded: false, size: (oh, ow)), threads: 2)
            let want = try reference.run(["x": Tensor(shape: [cubes * 6, channels, oh, ow],
                                                      floats: paddedReference(x, cubes: cubes, channels: channels, n: n, pads: c.pads))])["y"]!
            XCTAssertEqual(got.shape, want.shape, "case \(k) \(c.op)")
            let differing = zip(got.floats!, want.floats!).filter { $0.bitPattern != $1.bitPattern }.count
            XCTAssertEqual(differing, 0, "case \(k) \(c.op) \(c.kernel)×\(c.kernel) pads \(c.pads): \(differing) of \(want.count) values differ")

            // Without cube padding the same node pads with zeros: a different result.
            let zeros = try Session(model: model(padded: true, size: (n, n)), threads: 2).run(["x": Tensor(shape: [cubes * 6, channels, n, n], floats: x)])["y"]!
            XCTAssertGreaterThan(zip(zeros.floats!, got.floats!).filter { $0 != $1 }.count, 0, "case \(k): zero padding gave the same")
        }
    }

    func testWhatIsNotABatchOfCubesIsLeftAlone() throws {
        for shape in [[5, 1, 8, 8], [6, 1, 8, 6]] {
            var b = ModelBuilder()
            b.input("x", shape: shape.map { $0 })
            b.weight("w", shape: [1, 1, 3, 3], values: [Float](repeating: 1, count: 9))
            b.node("Conv", ["x", "w"], ["y"], ints: ["pads": [1, 1, 1, 1]])
            b.output("y")
            XCTAssertNil(try Session(model: b.model(), cubePadding: Self.cube).rewrites["cube padding"], "\(shape)")
        }
    }
}

import StrataSynth
import SwiftProtobuf

extension CubePaddingNetworkTests {
    /// How much a depth map of six faces jumps across the cube's edges, relative to how much
    /// it changes between neighbouring pixels inside the faces: for every edge pixel, the
    /// difference to the pixel across the edge (on the neighbouring face).
    static func seamRatio(_ faces: [Float], n: Int) -> Double {
        let sources = Cubemap.copyPaddingSources(faceSize: n, padding: 1)
        let side = n + 2
        var across = 0.0, acrossCount = 0, inside = 0.0, insideCount = 0
        for f in 0..<6 {
            func value(_ y: Int, _ x: Int) -> Double { Double(faces[(f * n + y) * n + x]) }
            for y in 0..<n {
                for x in 0..<n {
                    if x + 1 < n { inside += abs(value(y, x) - value(y, x + 1)); insideCount += 1 }
                    if y + 1 < n { inside += abs(value(y, x) - value(y + 1, x)); insideCount += 1 }
                }
            }
            // The strip pixels next to each edge pixel (corners left out).
            for k in 0..<n {
                for (py, px, y, x) in [(0, k + 1, 0, k), (n + 1, k + 1, n - 1, k), (k + 1, 0, k, 0), (k + 1, n + 1, k, n - 1)] {
                    let neighbour = Double(faces[Int(sources[(f * side + py) * side + px])])
                    across += abs(value(y, x) - neighbour)
                    acrossCount += 1
                }
            }
        }
        return (across / Double(acrossCount)) / (inside / Double(insideCount))
    }

    /// A random-weight MiDaS v2.1 small (the test fixture, its batch made dynamic) on the six
    /// faces of a smooth StrataSynth panorama: with cube padding its output agrees across the
    /// cube's edges far better than with zeros.
    func testARandomWeightMiDaSSeesNoFaceBorderWithCubePadding() throws {
        let url = Bundle.module.resourceURL!.appendingPathComponent("Fixtures/networks/midas_small_opset17/model.onnx")
        var proto = try Onnx_ModelProto(serializedBytes: try Data(contentsOf: url))
        var batch = Onnx_TensorShapeProto.Dimension()
        batch.dimParam = "faces"
        proto.graph.input[0].type.tensorType.shape.dim[0] = batch
        let model = try Model(data: try proto.serializedData(), path: "midas-dynamic-batch.onnx")

        let n = 64
        let camera = Camera(model: .equirectangular(width: 256, height: 128), position: Vector3(0, 1.5, 0))
        let pano = Renderer.render(.indoorRoom, camera: camera, supersampling: 1).color
        let cube = pano.equirectToCube(faceSize: n)
        var input: [Float] = []
        for face in CubeFace.allCases { input += cube.face(face).pixels }
        let feeds = ["image": Tensor(shape: [6, 3, n, n], floats: input)]

        let padded = try Session(model: model, threads: 2, inputShapes: ["image": [6, 3, n, n]], cubePadding: Self.cube)
        XCTAssertGreaterThan(padded.rewrites["cube padding"] ?? 0, 20, "MiDaS pads most of its convolutions")
        let zeros = try Session(model: model, threads: 2, inputShapes: ["image": [6, 3, n, n]])
        let withCube = try padded.run(feeds).values.first!.floats!
        let withZeros = try zeros.run(feeds).values.first!.floats!
        let (cubeSeams, zeroSeams) = (Self.seamRatio(withCube, n: n), Self.seamRatio(withZeros, n: n))
        XCTAssertLessThan(cubeSeams, zeroSeams * 0.5, "seam ratio \(cubeSeams) with cube padding, \(zeroSeams) with zeros")
    }
}
