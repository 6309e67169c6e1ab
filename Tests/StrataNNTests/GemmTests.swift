import StrataCore
import XCTest
@testable import StrataNN

/// `Gemm` (strata_gemm) on every instruction set this processor runs, against the sums
/// written out in Double.
final class GemmTests: XCTestCase {
    /// The paths this machine can take (a lower one is forced by passing it).
    private var paths: [KernelISA] { KernelISA.allCases.filter { $0.rawValue <= KernelISA.supported.rawValue } }

    /// One product with strided operands (`threads`: on two threads through the pool, else
    /// on the calling thread) (each row longer than its columns: lda, ldb, ldc
    /// have padding) against the exact sums: every element of C within a bound on float
    /// rounding of its terms, and C's padding never written.
    private func check(_ m: Int, _ n: Int, _ k: Int, transposeA: Bool, transposeB: Bool, alpha: Float = 1, beta: Float = 0,
                       threads: Bool, isa: KernelISA, file: StaticString = #filePath, line: UInt = #line) {
        // op(A) is m × k: stored k × m when transposed.
        let (aRows, aColumns) = transposeA ? (k, m) : (m, k)
        let (bRows, bColumns) = transposeB ? (n, k) : (k, n)
        let (lda, ldb, ldc) = (aColumns + 3, bColumns + 5, n + 2)
        let a = (0..<(aRows * lda)).map { Float(($0 * 37 + m) % 29) / 14 - 1 }
        let b = (0..<(bRows * ldb)).map { Float(($0 * 13 + n) % 31) / 15 - 1 }
        // C starts as NaN where beta is 0 (it must not be read), else as known values.
        let start = (0..<(m * ldc)).map { beta == 0 ? Float.nan : Float(($0 * 7) % 11) / 5 - 1 }
        var c = start
        a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in c.withUnsafeMutableBufferPointer { pc in
            if threads {
                Gemm.multiply(m: m, n: n, k: k, alpha: alpha, a: pa.baseAddress!, lda: lda, transposeA: transposeA, b: pb.baseAddress!,
                              ldb: ldb, transposeB: transposeB, beta: beta, c: pc.baseAddress!, ldc: ldc, isa: isa, threads: 2)
            } else {
                // On the calling thread alone (no transposes, alpha 1, beta 0: what the
                // convolutions and attention call from their own bands).
                precondition(!transposeA && !transposeB && alpha == 1 && beta == 0)
                Gemm.block(m: m, n: n, k: k, a: pa.baseAddress!, lda: lda, b: pb.baseAddress!, ldb: ldb, c: pc.baseAddress!, ldc: ldc, isa: isa)
            }
        } } }
        var worst = 0.0
        for i in 0..<m {
            for j in 0..<ldc {
                guard j < n else {
                    if !(start[i * ldc + j].isNaN && c[i * ldc + j].isNaN) && start[i * ldc + j] != c[i * ldc + j] {
                        XCTFail("\(isa) \(m)×\(n)×\(k): padding of row \(i) written", file: file, line: line)
                    }
                    continue
                }
                var sum = 0.0, magnitude = 0.0
                for p in 0..<k {
                    let x = Double(transposeA ? a[p * lda + i] : a[i * lda + p]), y = Double(transposeB ? b[j * ldb + p] : b[p * ldb + j])
                    sum += x * y
                    magnitude += abs(x * y)
                }
                let exact = Double(alpha) * sum + (beta == 0 ? 0 : Double(beta) * Double(start[i * ldc + j]))
                // Each term rounds once or twice; the sum's error grows at worst with k.
                let bound = 1e-6 * Double(k + 4) * (magnitude + 1)
                worst = max(worst, abs(exact - Double(c[i * ldc + j])) / bound)
            }
        }
        XCTAssertLessThanOrEqual(worst, 1, "\(isa) \(m)×\(n)×\(k) ta \(transposeA) tb \(transposeB) alpha \(alpha) beta \(beta)",
                                 file: file, line: line)
    }

    /// Every block height of each kernel (1 up to 14 rows, and one past), ragged column
    /// panels (1 to 65 columns across 8-, 16- and 32-wide panels), terms in one chunk and past
    /// it (k 385 and 800: two or three chunks, so C is read back between them), each pair of
    /// transposes, on one thread and spread over the pool.
    func testProductsMatchTheExactSumsOnEveryPath() {
        let heights = [1, 2, 3, 4, 5, 6, 7, 9, 13, 14, 15, 29]
        let widths = [1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 64, 65]
        let terms = [1, 3, 17, 385, 800]
        for isa in paths {
            for (index, m) in heights.enumerated() {
                for (j, n) in widths.enumerated() {
                    let k = terms[(index + j) % terms.count]
                    let transposes = (index + 2 * j) % 4
                    check(m, n, k, transposeA: transposes & 1 != 0, transposeB: transposes & 2 != 0, threads: true, isa: isa)
                }
                check(m, 40, terms[index % terms.count], transposeA: false, transposeB: false, threads: false, isa: isa)
            }
        }
    }

    /// alpha and beta: C = alpha · AB + beta · C, with C read only where beta is not 0 (it
    /// starts as NaN there otherwise), and read back between chunks of terms.
    func testAlphaAndBetaScaleTheProductAndC() {
        for isa in paths {
            for (alpha, beta) in [(Float(1), Float(0)), (0.5, 0), (1, 1), (-2, 0.25)] {
                check(23, 45, 400, transposeA: false, transposeB: true, alpha: alpha, beta: beta, threads: true, isa: isa)
                check(6, 20, 9, transposeA: true, transposeB: false, alpha: alpha, beta: beta, threads: true, isa: isa)
            }
        }
    }

    /// Products large enough to be packed and split over the threads, past one block of B's
    /// columns and with row blocks of every size: the attention's and the MLP's shapes
    /// scaled down, a wide one and a tall one.
    func testLargeProductsSplitOverThreadsMatchTheExactSums() {
        for isa in paths {
            check(200, 1100, 70, transposeA: false, transposeB: false, threads: true, isa: isa)
            check(137, 137, 64, transposeA: false, transposeB: true, threads: true, isa: isa)
            check(137, 64, 137, transposeA: false, transposeB: false, threads: true, isa: isa)
            check(1000, 24, 50, transposeA: true, transposeB: false, threads: true, isa: isa)
        }
    }

    /// A finished product (a convolution's epilogue inside the GEMM): each row plus its bias,
    /// clamped, plus a strided residual, on every path — unpacked operands, packed ones with
    /// k past a chunk (finished once, after the last), A in place — and without a bias.
    func testFinishedProductsAddTheBiasClampAndAddTheResidual() {
        for isa in paths {
            for (m, n, k, withBias) in [(20, 30, 10, true), (40, 300, 800, true), (30, 40, 900, false), (64, 4100, 70, true), (3, 9, 0, true)] {
                let (lda, ldb, ldc, ldr) = (k + 1, n + 3, n + 2, n + 5)
                let a = (0..<(m * lda)).map { Float(($0 * 37 + m) % 29) / 14 - 1 }
                let b = (0..<(max(1, k) * ldb)).map { Float(($0 * 13 + n) % 31) / 15 - 1 }
                let bias = (0..<m).map { Float($0 % 7) / 3 - 1 }
                let residual = (0..<(m * ldr)).map { Float(($0 * 5) % 9) / 4 - 1 }
                let (lo, hi): (Float, Float) = (-1.5, 2)
                var c = [Float](repeating: .nan, count: m * ldc)
                a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in c.withUnsafeMutableBufferPointer { pc in
                bias.withUnsafeBufferPointer { pbias in residual.withUnsafeBufferPointer { pr in
                    Gemm.block(m: m, n: n, k: k, a: pa.baseAddress!, lda: lda, b: pb.baseAddress!, ldb: ldb, c: pc.baseAddress!, ldc: ldc, isa: isa,
                               finish: Gemm.Finish(bias: withBias ? pbias.baseAddress! : nil, lo: lo, hi: hi, residual: pr.baseAddress!, ldr: ldr))
                } } } } }
                var worst = 0.0
                for i in 0..<m {
                    for j in 0..<n {
                        var sum = 0.0, magnitude = 0.0
                        for p in 0..<k {
                            sum += Double(a[i * lda + p]) * Double(b[p * ldb + j])
                            magnitude += abs(Double(a[i * lda + p]) * Double(b[p * ldb + j]))
                        }
                        let exact = min(max(sum + (withBias ? Double(bias[i]) : 0), Double(lo)), Double(hi)) + Double(residual[i * ldr + j])
                        worst = max(worst, abs(exact - Double(c[i * ldc + j])) / (1e-6 * Double(k + 4) * (magnitude + 4)))
                    }
                    for j in n..<ldc { XCTAssertTrue(c[i * ldc + j].isNaN, "\(isa) \(m)×\(n)×\(k): padding of row \(i) written") }
                }
                XCTAssertLessThanOrEqual(worst, 1, "\(isa) \(m)×\(n)×\(k), bias \(withBias)")
            }
        }
    }

    /// No terms: C = beta · C (0 where beta is 0, even over NaN), and an empty C untouched.
    func testEmptyProducts() {
        var c: [Float] = [.nan, 2, .nan, 4]
        let a: [Float] = [1], b: [Float] = [1]
        Gemm.multiply(m: 2, n: 2, k: 0, a: a, lda: 1, b: b, ldb: 2, beta: 0, c: &c, ldc: 2)
        XCTAssertEqual(c, [0, 0, 0, 0])
        c = [1, 2, 3, 4]
        Gemm.multiply(m: 2, n: 2, k: 0, a: a, lda: 1, b: b, ldb: 2, beta: 3, c: &c, ldc: 2)
        XCTAssertEqual(c, [3, 6, 9, 12])
        Gemm.multiply(m: 0, n: 2, k: 3, a: a, lda: 3, b: b, ldb: 2, c: &c, ldc: 2)
        XCTAssertEqual(c, [3, 6, 9, 12])
    }
}
