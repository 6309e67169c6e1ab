import Foundation
import StrataCore
import XCTest
@testable import StrataNN

/// The AVX2 depthwise kernel against the portable loop, over windows, strides, dilations,
/// pads and plane sizes below, at and past its 32-output blocks.
final class DepthwiseKernelTests: XCTestCase {
    func testVectorKernelMatchesThePortableLoop() throws {
        guard ConvOps.hasVectorDepthwise else { throw XCTSkip("no AVX2 and FMA on this processor: only the portable loop runs") }
        var cases = 0
        for (h, w) in [(5, 7), (17, 33), (32, 32), (40, 71)] {
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
                            x.withUnsafeBufferPointer { px in
                                weights.withUnsafeBufferPointer { pw in
                                    vector.withUnsafeMutableBufferPointer { ConvOps.depthwise(px.baseAddress!, pw.baseAddress!, $0.baseAddress!, channels: channels, window, vector: true) }
                                    loop.withUnsafeMutableBufferPointer { ConvOps.depthwise(px.baseAddress!, pw.baseAddress!, $0.baseAddress!, channels: channels, window, vector: false) }
                                }
                            }
                            let worst = zip(vector, loop).map { abs($0 - $1) }.max() ?? 0
                            XCTAssertLessThan(worst, 1e-4, "\(h)x\(w) k\(k) s\(stride) d\(dilation) p\(pad)")
                            cases += 1
                        }
                    }
                }
            }
        }
        XCTAssertGreaterThan(cases, 100)
    }
}
