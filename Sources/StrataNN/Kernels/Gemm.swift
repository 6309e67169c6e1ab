import COpenBLAS
import CStrataKernels
import StrataCore

/// Single-precision matrix products on OpenBLAS, split across Strata's own threads.
///
/// OpenBLAS runs single-threaded here and Strata hands each thread a block of the product:
/// with OpenBLAS's own pool, its threads spun (`sched_yield`) while Strata's loops ran
/// between products, and the two pools fought over the cores (a quarter of a Depth
/// Anything run went to the scheduler).
enum Gemm {
    /// Makes OpenBLAS compute in the calling thread; call once before the first product.
    static let singleThreaded: Void = { openblas_set_num_threads(1) }()

    /// C = alpha · op(A) · op(B) + beta · C for row-major matrices; op transposes when asked.
    /// A is M × K after op, B is K × N after op; `lda`, `ldb`, `ldc` are row strides.
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
        _ = singleThreaded
        let threads = Parallel.threadCount
        // Below a few million multiply-adds a split costs more than it saves.
        guard threads > 1, m * n * k >= 1 << 21 else {
            block(rows: 0..<m, columns: 0..<n, k: k, alpha: alpha, a: a, lda: lda, transposeA: transposeA,
                  b: b, ldb: ldb, transposeB: transposeB, beta: beta, c: c, ldc: ldc)
            return
        }
        let (sa, sb, sc) = (UncheckedSendable(a), UncheckedSendable(b), UncheckedSendable(c))
        // Split the longer side of C into one block per thread (columns in multiples of 16,
        // the kernel's width, so no thread gets a ragged edge it computes slowly).
        if n >= m {
            let step = max(16, ((n + threads - 1) / threads + 15) / 16 * 16)
            Parallel.forEachBand((n + step - 1) / step, minimumBand: 1) { blocks in
                for blockIndex in blocks {
                    let columns = (blockIndex * step)..<min(n, (blockIndex + 1) * step)
                    block(rows: 0..<m, columns: columns, k: k, alpha: alpha, a: sa.value, lda: lda, transposeA: transposeA,
                          b: sb.value, ldb: ldb, transposeB: transposeB, beta: beta, c: sc.value, ldc: ldc)
                }
            }
        } else {
            let step = (m + threads - 1) / threads
            Parallel.forEachBand((m + step - 1) / step, minimumBand: 1) { blocks in
                for blockIndex in blocks {
                    let rows = (blockIndex * step)..<min(m, (blockIndex + 1) * step)
                    block(rows: rows, columns: 0..<n, k: k, alpha: alpha, a: sa.value, lda: lda, transposeA: transposeA,
                          b: sb.value, ldb: ldb, transposeB: transposeB, beta: beta, c: sc.value, ldc: ldc)
                }
            }
        }
    }

    /// The widest product `block` hands to `strata_sgemm`.
    static let smallColumns = 512

    /// C = A · B on the calling thread alone (row-major, no transposes): for kernels that
    /// already split their work across threads.
    @inline(__always)
    static func block(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                      c: UnsafeMutablePointer<Float>, ldc: Int) {
        // Up to 512 columns, Strata's own kernel: OpenBLAS's overhead per call is a third
        // or more of such a product (Winograd's 32 × 128 × 32: 50 against 65 GFLOP/s). Past
        // that, OpenBLAS's blocking for large B is as fast or faster.
        if n <= smallColumns && strata_sgemm(m, n, k, a, lda, b, ldb, c, ldc) != 0 { return }
        _ = singleThreaded
        block(rows: 0..<m, columns: 0..<n, k: k, alpha: 1, a: a, lda: lda, transposeA: false, b: b, ldb: ldb, transposeB: false,
              beta: 0, c: c, ldc: ldc)
    }

    /// One sgemm call for the block `rows × columns` of C.
    @inline(__always)
    private static func block(rows: Range<Int>, columns: Range<Int>, k: Int, alpha: Float,
                              a: UnsafePointer<Float>, lda: Int, transposeA: Bool,
                              b: UnsafePointer<Float>, ldb: Int, transposeB: Bool,
                              beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        // Row r of op(A) starts at a + r·lda untransposed, at column r (a + r) transposed;
        // column j of op(B) likewise.
        let aStart = transposeA ? a + rows.lowerBound : a + rows.lowerBound * lda
        let bStart = transposeB ? b + columns.lowerBound * ldb : b + columns.lowerBound
        cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                    Int32(rows.count), Int32(columns.count), Int32(k), alpha, aStart, Int32(lda), bStart, Int32(ldb), beta,
                    c + rows.lowerBound * ldc + columns.lowerBound, Int32(ldc))
    }
}
