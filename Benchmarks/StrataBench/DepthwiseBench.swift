import CStrataKernels
import Foundation
import StrataCore

/// The depthwise convolution kernel (`strata_depthwise_planes`) on one core at MiDaS v2.1
/// small's shapes (channels × plane, window, stride; pads of half the window, a bias and
/// the ReLU6 clamp), on each vector path the processor has: best of REPEATS after a warm-up.
///
///     strata-bench depthwise      (REPEATS=n)
enum DepthwiseBench {
    static let shapes: [(channels: Int, size: Int, kernel: Int, stride: Int)] = [
        (2304, 8, 3, 1), (816, 16, 5, 1), (288, 32, 5, 1), (192, 64, 3, 1), (32, 128, 3, 1),
        (96, 128, 3, 2), (816, 16, 3, 2), (192, 64, 5, 2), (288, 32, 5, 2),
    ]

    static func run() {
        let repeats = ProcessInfo.processInfo.environment["REPEATS"].flatMap(Int.init) ?? 50
        let paths = [KernelISA.avx2, .avx512].filter { $0.rawValue <= KernelISA.supported.rawValue }
        for shape in shapes {
            let (c, h, k, s) = shape
            let pad = k / 2, out = (h + 2 * pad - k) / s + 1
            let x = (0..<(c * h * h)).map { Float($0 % 7) * 0.1 }, w = (0..<(c * k * k)).map { Float($0 % 5) * 0.1 }
            let bias = [Float](repeating: 0.5, count: c)
            var y = [Float](repeating: 0, count: c * out * out)
            var row = ["\"shape\": \"\(c)×\(h)×\(h) \(k)×\(k)/\(s)\""]
            for isa in paths {
                var best = Double.infinity
                for _ in 0...repeats {
                    let start = DispatchTime.now()
                    strata_depthwise_planes(x, Int32(c), Int32(h), Int32(h), w, Int32(k), Int32(k), Int32(s), Int32(s), 1, 1, Int32(pad), Int32(pad),
                                            &y, Int32(out), Int32(out), bias, 0, 6, nil, isa.rawValue)
                    best = min(best, StrataBench.seconds(since: start))
                }
                row.append(String(format: "\"%@_ms\": %.3f", isa.description, best * 1e3))
            }
            print("{" + row.joined(separator: ", ") + "}")
        }
    }
}
