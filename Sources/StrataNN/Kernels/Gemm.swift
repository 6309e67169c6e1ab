import CStrataKernels
import StrataCore

/// Single-precision matrix products on Strata's own kernels (`strata_gemm`): packed panels,
/// cache blocking from the cache sizes the OS reports, and a micro-kernel for AVX-512,
/// AVX2 with FMA or portable vectors, chosen from the processor's feature bits
/// (``KernelISA``), so a CPU newer than the system's BLAS runs at full speed.
///
/// OpenBLAS did these products until issue 20; Debian's 0.3.21 picks its kernels from a
/// table of CPU models and, on one it does not know (an Intel Xeon of family 6 model 207),
/// falls back to SSE3 kernels 7× slower. Measured side by side, these kernels are within
/// its best kernel's speed on the engine's shapes (BENCHMARKS.md), so it is no longer used here.
enum Gemm {
    /// C = alpha · op(A) · op(B) + beta · C for row-major matrices; op transposes when asked
    /// (the operand is read in place). A is M × K after op, B is K × N after op; `lda`,
    /// `ldb`, `ldc` are row strides. Large products are spread over Strata's threads (or
    /// over `threads`, where given).
    static func multiply(m: Int, n: Int, k: Int, alpha: Float = 1,
                         a: UnsafePointer<Float>, lda: Int, transposeA: Bool = false,
                         b: UnsafePointer<Float>, ldb: Int, transposeB: Bool = false,
                         beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int, isa: KernelISA = .selected, threads: Int? = nil) {
        // Below a few million multiply-adds a split costs more than it saves.
        let threads = threads ?? (m * n * k >= 1 << 21 ? Parallel.threadCount : 1)
        strata_gemm(isa.rawValue, Int32(threads), m, n, k, alpha, a, lda, transposeA ? 1 : 0, b, ldb, transposeB ? 1 : 0, beta, c, ldc)
    }

    /// C = `alpha` · A · B on the calling thread alone (row-major, no transposes): for kernels that
    /// already split their work across threads. With `finish`, each tile of C is finished
    /// as it is written, while in cache (`strata_gemm_finished`).
    @inline(__always)
    static func block(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                      c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float = 1, isa: KernelISA = .selected, finish: Finish? = nil) {
        if let finish {
            strata_gemm_finished(isa.rawValue, 1, m, n, k, alpha, a, lda, 0, b, ldb, 0, 0, c, ldc, 1, finish.bias, finish.lo, finish.hi,
                                 finish.residual, finish.ldr)
        } else {
            strata_gemm(isa.rawValue, 1, m, n, k, alpha, a, lda, 0, b, ldb, 0, 0, c, ldc)
        }
    }

    /// What a product's rows end with, a convolution's epilogue: row i of C plus `bias`[i],
    /// clamped to [`lo`, `hi`], plus the residual's row i (`ldr` apart).
    struct Finish {
        var bias: UnsafePointer<Float>?
        var lo: Float, hi: Float
        var residual: UnsafePointer<Float>?
        var ldr: Int
    }
}
