import COpenBLAS
import StrataCore

/// Single-precision matrix products on OpenBLAS.
enum Gemm {
    /// C = alpha · op(A) · op(B) + beta · C for row-major matrices; op transposes when asked.
    /// A is M × K after op, B is K × N after op; `lda`, `ldb`, `ldc` are row strides.
    @inline(__always)
    static func multiply(m: Int, n: Int, k: Int, alpha: Float = 1,
                         a: UnsafePointer<Float>, lda: Int, transposeA: Bool = false,
                         b: UnsafePointer<Float>, ldb: Int, transposeB: Bool = false,
                         beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
        guard m > 0, n > 0 else { return }
        guard k > 0 else {
            // An empty sum: OpenBLAS would leave C alone, the product is zero.
            for i in 0..<m { for j in 0..<n { c[i * ldc + j] = beta == 0 ? 0 : beta * c[i * ldc + j] } }
            return
        }
        cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// Gives OpenBLAS `threads` threads (Strata's own loops use `Parallel`'s).
    static func setThreads(_ threads: Int) {
        openblas_set_num_threads(Int32(max(1, threads)))
    }
}
