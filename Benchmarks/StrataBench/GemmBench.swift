import COpenBLAS
import CStrataBench
import CStrataKernels
import Foundation
import StrataCore

/// Strata's matrix product against OpenBLAS's, one shape side by side in one process:
/// GFLOP/s of `strata_gemm` on each instruction set the processor has, and of
/// `cblas_sgemm` on the same threads (OpenBLAS's own pool, sized with THREADS; its kernel
/// is the one it picked for this CPU: set OPENBLAS_CORETYPE in the command to force
/// another). TA/TB: 1 to read that operand transposed. And the machine's peak on those
/// threads (register FMAs on the widest vectors, every thread at once), to give each rate
/// as a share of it.
///
///     strata-bench gemm M N K [TA TB]      (THREADS=n, REPEATS=n)
enum GemmBench {
    static func run(m: Int, n: Int, k: Int, transposeA: Bool, transposeB: Bool) {
        let environment = ProcessInfo.processInfo.environment
        let threads = environment["THREADS"].flatMap(Int.init) ?? Parallel.threadCount
        if let threads = environment["THREADS"].flatMap(Int.init) { Parallel.maxThreads = threads }
        let repeats = environment["REPEATS"].flatMap(Int.init) ?? 20
        var seed: UInt64 = 1
        func random() -> Float {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int64(bitPattern: seed >> 11) % 2000) / 1000 - 1
        }
        let a = (0..<(m * k)).map { _ in random() }, b = (0..<(k * n)).map { _ in random() }
        var c = [Float](repeating: 0, count: m * n)
        let (lda, ldb) = (transposeA ? m : k, transposeB ? k : n)
        let flops = 2 * Double(m) * Double(n) * Double(k)
        /// Best of `repeats` after one warm-up, in GFLOP/s.
        func measure(_ body: () -> Void) -> Double {
            body()
            var best = Double.infinity
            for _ in 0..<repeats {
                let start = DispatchTime.now()
                body()
                best = min(best, StrataBench.seconds(since: start))
            }
            return flops / best / 1e9
        }
        var rows: [String] = []
        for isa in KernelISA.allCases where isa.rawValue <= KernelISA.supported.rawValue {
            let rate = measure {
                strata_gemm(isa.rawValue, Int32(threads), m, n, k, 1, a, lda, transposeA ? 1 : 0, b, ldb, transposeB ? 1 : 0, 0, &c, n)
            }
            rows.append(String(format: "\"strata_%@_gflops\": %.1f", isa.description, rate))
        }
        openblas_set_num_threads(Int32(threads))
        let blas = measure {
            cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans, Int32(m), Int32(n),
                        Int32(k), 1, a, Int32(lda), b, Int32(ldb), 0, &c, Int32(n))
        }
        // Every thread's register-only FMA loop at once, on the processor's widest vectors.
        var rates = [Double](repeating: 0, count: threads)
        rates.withUnsafeMutableBufferPointer { out in
            let slots = UncheckedSendable(out.baseAddress!)
            Parallel.forEachBand(threads, minimumBand: 1, bandsPerThread: 1) { range in
                for t in range { slots.value[t] = strata_bench_fma_peak(KernelISA.supported.rawValue, 20_000_000) }
            }
        }
        let peak = rates.reduce(0, +) / 1e9
        rows.append(String(format: "\"peak_gflops\": %.1f", peak))
        let core = String(cString: openblas_get_corename())
        print(String(format: "{\"m\": %d, \"n\": %d, \"k\": %d, \"ta\": %d, \"tb\": %d, \"threads\": %d, %@, \"openblas_core\": \"%@\", \"openblas_gflops\": %.1f}",
                     m, n, k, transposeA ? 1 : 0, transposeB ? 1 : 0, threads, rows.joined(separator: ", "), core, blas))
    }
}
