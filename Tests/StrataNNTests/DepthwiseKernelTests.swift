import Foundation
import StrataCore
import XCTest
@testable import StrataNN

/// The depthwise kernels (AVX2, and AVX-512 at column strides 1 and 2) against the portable
/// loop, over windows, strides, dilations, pads and plane sizes below, at and past their
/// blocks (8 and 16 outputs a register, up to four registers a row), with a bias, a clamp
/// and a residual.
final class DepthwiseKernelTests: XCTestCase {
    func testVectorKernelsMatchThePortableLoop() throws {
        let saved = KernelISA.selected
        defer { KernelISA.selected = saved }
        let paths = [KernelISA.avx2, .avx512].filter { $0.rawValue <= KernelISA.supported.rawValue }
        guard !paths.isEmpty, saved != .generic else {
            throw XCTSkip("the vector kernels are not selected (no AVX2 and FMA here, or STRATA_ISA=generic): only the portable loop runs")
        }
        if paths.count < 2 { print("DepthwiseKernelTests: \(KernelISA.supported) is this processor's best; the AVX-512 path not run") }
        for isa in paths {
            KernelISA.selected = isa
            try compareWithTheLoop(isa)
        }
    }

    func compareWithTheLoop(_ isa: KernelISA) throws {
        var cases = 0
        for (h, w) in [(5, 7), (8, 8), (9, 16), (16, 16), (17, 24), (17, 33), (32, 32), (40, 71), (12, 130)] {
            for k in [1, 3, 5, 7] {
                for stride in [1, 2, 3] {
                    for dilation in [1, 2] where (k - 1) * dilation < min(h, w) {
                        for pad in Set([0, k / 2 * dilation, 1]) {
                            let channels = 3
                            let attributes = Attributes(values: ["kernel_shape": .ints([k, k]), "strides": .ints([stride, stride]),
                                                                 "dilations": .ints([dilation, dilation]), "pads": .ints([pad, pad, pad, pad])])
                            let window = try Window(attributes: attributes, spatial: [h, w], kernel: [k, k], op: "Conv")
                            let x = (0..<(channels * h * w)).map { Float(($0 * 37) % 101) / 50 - 1 }
                            let weights = (0..<(channels * k * k)).map { Float(($0 * 13) % 17) / 8 - 1 }
                            let outputCount = channels * window.output.h * window.output.w
                            var vector = [Float](repeating: .nan, count: outputCount), loop = vector
                            // Every other case with the epilogue: a bias, a clamp and a residual.
                            let residual = (0..<outputCount).map { Float(($0 * 11) % 7) / 4 }
                            let epilogue = cases % 2 == 0 ? ConvOps.Epilogue(bias: nil, activation: .none)
                                : ConvOps.Epilogue(bias: (0..<channels).map { Float($0) / 3 - 0.4 }, activation: .clip(-0.8, 1.5))
                            x.withUnsafeBufferPointer { px in
                                weights.withUnsafeBufferPointer { pw in
                                    vector.withUnsafeMutableBufferPointer { y in
                                        residual.withUnsafeBufferPointer { r in
                                            var e = epilogue
                                            if cases % 2 == 1 { (e.residual, e.output) = (r.baseAddress!, y.baseAddress!) }
                                            ConvOps.depthwise(px.baseAddress!, pw.baseAddress!, y.baseAddress!, channels: channels, window, vector: true, epilogue: e)
                                        }
                                    }
                                    loop.withUnsafeMutableBufferPointer { ConvOps.depthwise(px.baseAddress!, pw.baseAddress!, $0.baseAddress!, channels: channels, window, vector: false) }
                                }
                            }
                            if cases % 2 == 1 {
                                // The portable loop's sums, finished by hand.
                                let plane = window.output.h * window.output.w
                                for i in 0..<outputCount {
                                    let bias = epilogue.bias![i / plane]
                                    loop[i] = min(max(loop[i] + bias, -0.8), 1.5) + residual[i]
                                }
                            }
                            let worst = zip(vector, loop).map { abs($0 - $1) }.max() ?? 0
                            XCTAssertLessThan(worst, 1e-4, "\(isa): \(h)x\(w) k\(k) s\(stride) d\(dilation) p\(pad)")
                            cases += 1
                        }
                    }
                }
            }
        }
        XCTAssertGreaterThan(cases, 100)
    }
}

/// ConvTranspose whose stride equals its kernel (a plain copy of columns to tiles) against
/// the definition computed directly.
final class ConvTransposeTileTests: XCTestCase {
    func testStrideEqualToKernelMatchesTheDefinition() throws {
        for (k, pads, outputPadding, group) in [(2, [0, 0, 0, 0], [0, 0], 1), (4, [0, 0, 0, 0], [0, 0], 1), (3, [1, 2, 0, 1], [0, 0], 1),
                                                (2, [0, 0, 0, 0], [1, 1], 1), (2, [1, 0, 1, 0], [0, 1], 2)] {
            let (n, c, h, w, m) = (1, 4, 3, 5, 3)
            var b = ModelBuilder()
            b.input("x", shape: [n, c, h, w])
            b.output("y")
            let weights = (0..<(c * m * k * k)).map { Float(($0 * 7) % 11) / 5 - 1 }
            let bias = (0..<(m * group)).map { Float($0) / 4 }
            b.weight("w", shape: [c, m, k, k], values: weights)
            b.weight("b", shape: [m * group], values: bias)
            b.node("ConvTranspose", ["x", "w", "b"], ["y"], ints: ["strides": [k, k], "kernel_shape": [k, k], "pads": pads, "output_padding": outputPadding],
                   int: ["group": group])
            let x = (0..<(n * c * h * w)).map { Float(($0 * 5) % 13) / 6 - 1 }
            let y = try Session(model: b.model()).run(["x": Tensor(shape: [n, c, h, w], floats: x)])["y"]!
            let (oh, ow) = (h * k - pads[0] - pads[2] + outputPadding[0], w * k - pads[1] - pads[3] + outputPadding[1])
            XCTAssertEqual(y.shape, [n, m * group, oh, ow])
            // y[o, oy, ox] = b[o] + Σ_c x[c, yy, xx] · w[c, o mod m, i, j] over the inputs of o's group whose tile holds (oy, ox).
            let perGroup = c / group
            for o in 0..<(m * group) {
                let g = o / m
                for oy in 0..<oh {
                    for ox in 0..<ow {
                        var sum = Double(bias[o])
                        let (py, px) = (oy + pads[0], ox + pads[1])
                        let (yy, i, xx, j) = (py / k, py % k, px / k, px % k)
                        if yy < h && xx < w {
                            for ci in (g * perGroup)..<((g + 1) * perGroup) {
                                sum += Double(x[(ci * h + yy) * w + xx]) * Double(weights[((ci * m + o % m) * k + i) * k + j])
                            }
                        }
                        XCTAssertEqual(Double(y.floats![(o * oh + oy) * ow + ox]), sum, accuracy: 1e-5, "k\(k) pads \(pads) op \(outputPadding) g\(group) at \(o),\(oy),\(ox)")
                    }
                }
            }
        }
    }
}
