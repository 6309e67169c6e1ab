import Foundation
import XCTest
@testable import StrataNN

final class KernelTests: XCTestCase {
    /// exp8 against libm over the whole float range softmax feeds it (x − max ≤ 0) and beyond.
    func testFastExponentialIsWithinTwoUlpOfLibm() {
        var worst: Float = 0
        var x: Float = -87.3
        while x < 87.9 {
            let lanes = SIMD8<Float>((0..<8).map { x + Float($0) * 0.0137 })
            let fast = exp8(lanes)
            for i in 0..<8 {
                let exact = Foundation.exp(Double(lanes[i]))
                let error = Float(abs(Double(fast[i]) - exact) / exact) / Float.ulpOfOne
                worst = max(worst, error)
            }
            x += 0.11
        }
        XCTAssertLessThanOrEqual(worst, 2, "worst error \(worst) ulp")
        XCTAssertEqual(exp8(SIMD8(repeating: 0)), SIMD8(repeating: 1))
    }

    /// Softmax rows sum to 1 and match the exact values, including rows longer than a vector
    /// with a ragged tail, rows of huge logits (the maximum is subtracted first) and rows
    /// spanning more than exp8's domain (masked logits: the libm path, exact zeros).
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

    func testVectorErfAndGeluAreWithinTheirBounds() {
        var worst: Double = 0
        for i in 0..<4000 {
            let x = Float(i - 2000) / 300  // −6.7 … 6.7
            let got = erf8(SIMD8(repeating: x))[3]
            worst = max(worst, abs(Double(got) - Foundation.erf(Double(x))))
        }
        XCTAssertLessThan(worst, 5e-7, "erf8 worst absolute error \(worst)")
        XCTAssertEqual(erf8(SIMD8(repeating: 30))[0], 1)
        XCTAssertEqual(erf8(SIMD8(repeating: -30))[0], -1)
        let x = (0..<1003).map { Float($0 - 500) / 97 }
        let y = Elementwise.geluVector(x)
        for (a, b) in zip(x, y) { XCTAssertEqual(Double(b), 0.5 * Double(a) * (1 + Foundation.erf(Double(a) / 2.0.squareRoot())), accuracy: 1e-6) }
    }
}
