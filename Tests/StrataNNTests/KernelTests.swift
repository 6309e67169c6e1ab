import Foundation
import StrataCore
import XCTest
@testable import StrataNN

final class KernelTests: XCTestCase {
    /// The kernels' exponential, through softmax on every path: rows of 17 logits whose
    /// differences from their maximum (0) are exact in float, from 0 down to −87 (the whole
    /// range softmax feeds it), so each output is e^x / Σ with only the exponential, a short
    /// sum and a division rounding: within 6 ulp of the exact value.
    func testSoftmaxExponentialIsWithinAFewUlp() {
        for isa in KernelISA.allCases where isa.rawValue <= KernelISA.supported.rawValue {
            var worst = 0.0
            for start in stride(from: 0, to: 87 * 128, by: 16 * 11) {
                // 0, then 16 logits stepping down by 11/128 from −start/128: all exact.
                let logits = [Float(0)] + (0..<16).map { -Float(start + 11 * $0) / 128 }
                var row = logits
                row.withUnsafeMutableBufferPointer { NormOps.softmaxInPlace($0.baseAddress!, rows: 1, length: 17, isa: isa) }
                let total = logits.reduce(0.0) { $0 + Foundation.exp(Double($1)) }
                for (x, got) in zip(logits, row) {
                    let exact = Foundation.exp(Double(x)) / total
                    guard exact >= Double(Float.leastNormalMagnitude) else { continue }
                    worst = max(worst, abs(Double(got) - exact) / exact / Double(Float.ulpOfOne))
                }
            }
            XCTAssertLessThanOrEqual(worst, 6, "\(isa): worst error \(worst) ulp")
        }
    }

    /// Softmax rows sum to 1 and match the exact values, including rows longer than a vector
    /// with a ragged tail, rows of huge logits (the maximum is subtracted first) and rows
    /// spanning more than the fast exponential's domain (masked logits: the libm path, exact
    /// zeros).
    func testSoftmaxRowsSumToOne() {
        for length in [1, 7, 8, 9, 37, 1370] {
            var x = (0..<(3 * length)).map { Float(($0 * 7919) % 101) / 7 + ($0 / length == 2 ? 10_000 : 0) }
            if length > 1 { x[length] = -.infinity }
            let y = NormOps.softmaxRows(x, length: length, log: false)
            for r in 0..<3 {
                let row = Array(y[(r * length)..<((r + 1) * length)])
                XCTAssertEqual(row.reduce(0, +), 1, accuracy: 1e-5, "length \(length) row \(r)")
                let logits = Array(x[(r * length)..<((r + 1) * length)])
                let m = logits.max()!
                let total = logits.reduce(0.0) { $0 + Foundation.exp(Double($1 - m)) }
                for j in 0..<length { XCTAssertEqual(Double(row[j]), Foundation.exp(Double(logits[j] - m)) / total, accuracy: 1e-6) }
            }
        }
    }

    /// The softmax kernel on every instruction set this machine runs: rows shorter and
    /// longer than a vector with ragged ends, huge logits (the maximum is subtracted first),
    /// and a row with −∞ and one spanning past the fast exponential's domain (libm's path):
    /// each value within 2e-6 of the exact one, relative (x − max rounds to float first:
    /// up to 5e-7 of e^(x − max) where the maximum is near 16), the rows summing to 1.
    func testSoftmaxKernelMatchesTheExactValuesOnEveryPath() {
        for isa in KernelISA.allCases where isa.rawValue <= KernelISA.supported.rawValue {
            for length in [1, 5, 8, 15, 16, 17, 33, 1370] {
                var x = (0..<(4 * length)).map { Float(($0 * 7919) % 101) / 7 + ($0 / length == 2 ? 10_000 : 0) }
                if length > 1 {
                    x[length] = -.infinity
                    x[3 * length] = x[3 * length + 1] - 100
                }
                var y = x
                y.withUnsafeMutableBufferPointer { NormOps.softmaxInPlace($0.baseAddress!, rows: 4, length: length, isa: isa) }
                for r in 0..<4 {
                    let logits = x[(r * length)..<((r + 1) * length)]
                    let m = Double(logits.max()!)
                    let total = logits.reduce(0.0) { $0 + Foundation.exp(Double($1) - m) }
                    var sum = 0.0
                    for j in 0..<length {
                        let exact = Foundation.exp(Double(x[r * length + j]) - m) / total
                        let got = Double(y[r * length + j])
                        sum += got
                        XCTAssertLessThanOrEqual(abs(got - exact), 2e-6 * exact + 1e-30, "\(isa) length \(length) row \(r) [\(j)]")
                    }
                    XCTAssertEqual(sum, 1, accuracy: 1e-5, "\(isa) length \(length) row \(r)")
                }
            }
        }
    }

    /// GELU on every path against x · (1 + erf(x/√2)) / 2 in Double: a dense range past
    /// where erf saturates, a length with a ragged end (1003), and ±30 (x and 0).
    func testGeluIsWithinItsBoundOnEveryPath() {
        let x = (0..<1003).map { Float($0 - 500) / 70 } + [30, -30]
        for isa in KernelISA.allCases where isa.rawValue <= KernelISA.supported.rawValue {
            let y = Elementwise.geluVector(x, isa: isa)
            var worst = 0.0
            for (a, b) in zip(x, y) { worst = max(worst, abs(Double(b) - 0.5 * Double(a) * (1 + Foundation.erf(Double(a) / 2.0.squareRoot())))) }
            XCTAssertLessThan(worst, 1e-6, "\(isa): worst absolute error \(worst)")
            XCTAssertEqual(y[y.count - 2], 30)
            XCTAssertEqual(y[y.count - 1], 0)
        }
        XCTAssertEqual(Elementwise.geluVector([]), [])
    }

    /// `Gemm.block` (the products the convolutions and attention run from their own bands)
    /// against the sums written out in Double: many block heights, ragged column panels,
    /// terms in one chunk and in several, strided operands, and C's padding left alone.
    func testSmallMatrixProductsMatchTheExactSums() {
        let cases = [(1, 1, 1), (5, 16, 3), (7, 17, 8), (8, 33, 31), (13, 128, 64), (32, 128, 32), (50, 64, 300), (6, 40, 513),
                     (3, 512, 20), (4, 530, 9)]
        for (m, n, k) in cases {
            let (lda, ldb, ldc) = (k + 3, n + 5, n + 2)
            let a = (0..<(m * lda)).map { Float(($0 * 37) % 29) / 14 - 1 }
            let b = (0..<(k * ldb)).map { Float(($0 * 13) % 31) / 15 - 1 }
            var c = [Float](repeating: 7, count: m * ldc)
            a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in
                    c.withUnsafeMutableBufferPointer { pc in
                        Gemm.block(m: m, n: n, k: k, a: pa.baseAddress!, lda: lda, b: pb.baseAddress!, ldb: ldb, c: pc.baseAddress!, ldc: ldc)
                    }
                }
            }
            var worst = 0.0
            for i in 0..<m {
                for j in 0..<ldc {
                    guard j < n else {
                        XCTAssertEqual(c[i * ldc + j], 7, "\(m)×\(n)×\(k): padding of row \(i) written")
                        continue
                    }
                    var sum = 0.0
                    for p in 0..<k { sum += Double(a[i * lda + p]) * Double(b[p * ldb + j]) }
                    worst = max(worst, abs(sum - Double(c[i * ldc + j])))
                }
            }
            XCTAssertLessThan(worst, 1e-4 * Double(k), "\(m)×\(n)×\(k)")
        }
    }

    /// A session keeps a convolution's transformed weights between runs only where they are
    /// the model's constants: weights fed as an input change from run to run, and each run
    /// must use its own (Winograd and the direct kernel, whose weights are transformed or
    /// packed first).
    func testTransformedWeightsAreKeptOnlyForConstantWeights() throws {
        for (k, side) in [(3, 34), (3, 66), (5, 20)] {
            let (c, m) = (8, 8)
            var b = ModelBuilder()
            b.input("x", shape: [1, c, side, side])
            b.input("w", shape: [m, c, k, k])
            b.output("y")
            b.weight("v", shape: [m, c, k, k], values: (0..<(m * c * k * k)).map { Float(($0 * 11) % 17) / 40 - 0.2 })
            b.node("Conv", ["x", "w"], ["y"], ints: ["pads": [k / 2, k / 2, k / 2, k / 2]])
            b.output("z")
            b.node("Conv", ["x", "v"], ["z"], ints: ["pads": [k / 2, k / 2, k / 2, k / 2]])
            let session = try Session(model: b.model())
            let x = Tensor(shape: [1, c, side, side], floats: (0..<(c * side * side)).map { Float(($0 * 7) % 23) / 11 - 1 })
            let attributes = Attributes(values: ["pads": .ints([k / 2, k / 2, k / 2, k / 2])])
            let fixed = session.model.initializers["v"]!.floats!
            for run in 0..<3 {
                let w = (0..<(m * c * k * k)).map { Float(($0 * 13 + run * 5) % 19) / 30 - 0.3 }
                let out = try session.run(["x": x, "w": Tensor(shape: [m, c, k, k], floats: w)])
                let expected = try ConvOps.conv(x: (x.shape, x.floats!), weight: ([m, c, k, k], w), bias: nil, attributes: attributes).floats!
                let constant = try ConvOps.conv(x: (x.shape, x.floats!), weight: ([m, c, k, k], fixed), bias: nil, attributes: attributes).floats!
                XCTAssertEqual(out["y"]!.floats!, expected, "\(k)×\(k), run \(run): fed weights")
                XCTAssertEqual(out["z"]!.floats!, constant, "\(k)×\(k), run \(run): constant weights")
            }
        }
    }

    /// Convolutions finish their own blocks (bias, then Relu or Clip): every kernel and
    /// every split — 1×1 by pixels and by output channels (a small plane with many
    /// channels), k×k in bands, depthwise — against the sums written out in Double.
    func testEveryConvolutionKernelAppliesItsBiasAndActivation() throws {
        // (input channels, output channels, group, kernel, plane side, pad): 1×1 in GEMMs
        // and to one channel (a weighted sum, over blocks of 2048 pixels and a part), direct k×k, Winograd 3×3 (8 channels or more, 32 columns or more: even, odd and
        // unpadded outputs, output channels not a multiple of four; F(4×4) from 64 columns:
        // 70 and 67 end in a part of a group of eight tiles, 64 in whole groups, 130 takes
        // several tile rows a band), grouped, depthwise.
        let cases = [(16, 24, 1, 1, 40, 0), (512, 512, 1, 1, 4, 0), (19, 1, 1, 1, 70, 0), (8, 16, 1, 3, 44, 1), (9, 7, 1, 3, 33, 1), (8, 5, 1, 3, 37, 0), (8, 8, 1, 3, 20, 1),
                     (16, 8, 1, 3, 40, 1), (8, 12, 1, 3, 70, 1), (9, 7, 1, 3, 67, 1), (32, 5, 1, 3, 66, 0), (8, 4, 1, 3, 130, 1),
                     (5, 7, 1, 3, 19, 1), (3, 5, 1, 5, 13, 2), (6, 8, 2, 3, 9, 1), (12, 12, 12, 3, 9, 1), (12, 12, 12, 5, 20, 2)]
        for (c, m, group, k, side, pad) in cases {
            for activation in [ConvOps.Activation.none, .relu, .clip(-0.5, 0.25)] {
                let x = (0..<(c * side * side)).map { Float(($0 * 37) % 23) / 11 - 1 }
                let w = (0..<(m * (c / group) * k * k)).map { Float(($0 * 13) % 19) / (9 * Float(c / group * k * k)) - 0.05 }
                let bias = (0..<m).map { Float($0 % 5) / 4 - 0.5 }
                let attributes = Attributes(values: ["pads": .ints([pad, pad, pad, pad]), "group": .int(group)])
                let out = side + 2 * pad - k + 1
                let y = try ConvOps.conv(x: ([1, c, side, side], x), weight: ([m, c / group, k, k], w), bias: bias, attributes: attributes,
                                         activation: activation).floats!
                XCTAssertEqual(y.count, m * out * out)
                var worst = 0.0
                let (perGroup, outPerGroup) = (c / group, m / group)
                for o in 0..<m {
                    for oy in 0..<out {
                        for ox in 0..<out {
                            var sum = Double(bias[o])
                            for ci in 0..<perGroup {
                                let channel = (o / outPerGroup) * perGroup + ci
                                for i in 0..<k {
                                    for j in 0..<k {
                                        let (iy, ix) = (oy + i - pad, ox + j - pad)
                                        guard iy >= 0, iy < side, ix >= 0, ix < side else { continue }
                                        sum += Double(x[(channel * side + iy) * side + ix]) * Double(w[((o * perGroup + ci) * k + i) * k + j])
                                    }
                                }
                            }
                            switch activation {
                            case .none: break
                            case .relu: sum = max(0, sum)
                            case .clip(let lo, let hi): sum = min(Double(hi), max(Double(lo), sum))
                            }
                            worst = max(worst, abs(sum - Double(y[(o * out + oy) * out + ox])))
                        }
                    }
                }
                XCTAssertLessThan(worst, 1e-4, "\(c)→\(m) group \(group) \(k)×\(k) pad \(pad) on \(side)² \(activation)")
            }
        }
    }

    /// Conv → (Relu) → Add of a same-shape tensor is one node whose output is act(conv + b) + r,
    /// in every kernel (1×1, direct, Winograd, depthwise, strided im2col), and an Add that
    /// broadcasts stays an Add.
    func testAResidualAddIsFusedIntoEveryConvolutionKernel() throws {
        // (channels in, out, group, kernel, stride, side)
        for (c, m, group, k, stride, side) in [(8, 8, 1, 1, 1, 20), (8, 1, 1, 1, 1, 50), (4, 4, 1, 3, 1, 13), (8, 8, 1, 3, 1, 34), (8, 8, 1, 3, 1, 66), (8, 8, 8, 3, 1, 12), (6, 6, 1, 3, 2, 17)] {
            let out = (side + 2 * (k / 2) - k) / stride + 1
            for relu in [false, true] {
                var b = ModelBuilder()
                b.input("x", shape: [1, c, side, side])
                b.input("r", shape: [1, m, out, out])
                b.weight("w", shape: [m, c / group, k, k], values: (0..<(m * (c / group) * k * k)).map { Float(($0 * 7) % 13) / 20 - 0.3 })
                b.weight("b", shape: [m], values: (0..<m).map { Float($0) / 10 - 0.2 })
                b.node("Conv", ["x", "w", "b"], ["y"], ints: ["pads": [k / 2, k / 2, k / 2, k / 2], "strides": [stride, stride]], int: ["group": group])
                if relu { b.node("Relu", ["y"], ["a"]) }
                b.node("Add", [relu ? "a" : "y", "r"], ["z"])
                b.output("z")
                let session = try Session(model: b.model())
                XCTAssertEqual(session.rewrites["Conv + Add"], 1)
                XCTAssertEqual(session.stepOperators, ["Conv"])
                let x = Tensor(shape: [1, c, side, side], floats: (0..<(c * side * side)).map { Float(($0 * 29) % 31) / 15 - 1 })
                let r = Tensor(shape: [1, m, out, out], floats: (0..<(m * out * out)).map { Float(($0 * 11) % 17) / 8 - 1 })
                let got = try session.run(["x": x, "r": r])["z"]!
                // The same graph with the Add kept apart: an output of the convolution too.
                var unfused = b
                unfused.output(relu ? "a" : "y")
                let separate = try Session(model: unfused.model())
                XCTAssertNil(separate.rewrites["Conv + Add"])
                let want = try separate.run(["x": x, "r": r])["z"]!
                XCTAssertEqual(got.shape, want.shape)
                let worst = zip(got.floats!, want.floats!).map { abs($0 - $1) }.max() ?? 0
                XCTAssertLessThan(worst, 1e-5, "\(c)→\(m) group \(group) \(k)×\(k)/\(stride) on \(side)² relu \(relu)")
            }
        }
        // A residual that broadcasts (one value per channel) is not the output's shape.
        var b = ModelBuilder()
        b.input("x", shape: [1, 4, 8, 8])
        b.input("r", shape: [1, 4, 1, 1])
        b.weight("w", shape: [4, 4, 1, 1], values: [Float](repeating: 0.25, count: 16))
        b.node("Conv", ["x", "w"], ["y"])
        b.node("Add", ["y", "r"], ["z"])
        b.output("z")
        XCTAssertEqual(try Session(model: b.model()).stepOperators, ["Conv", "Add"])
    }
}
