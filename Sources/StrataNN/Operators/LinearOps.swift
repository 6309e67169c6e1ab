import Foundation
import StrataCore

/// MatMul (batched, NumPy semantics) and Gemm, as OpenBLAS sgemm calls.
enum LinearOps {
    static func register(_ t: inout [String: Operator]) {
        t["MatMul"] = Operator { c in
            let (a, b) = (try c.floats(0), try c.floats(1))
            // A third input is the row vector GraphPreparation fused from a following Add.
            let bias = try c.optional(2).map { _ in try c.floats(2).values }
            return [try matmul(a.shape, a.values, b.shape, b.values, bias: bias)]
        }
        t["Gemm"] = Operator(run: gemm)
    }

    /// A @ B with NumPy's rules: 1-D operands gain and lose an axis, batch axes broadcast.
    static func matmul(_ aShape: [Int], _ a: [Float], _ bShape: [Int], _ b: [Float], bias: [Float]? = nil) throws -> Tensor {
        guard !aShape.isEmpty, !bShape.isEmpty else { throw NNError.invalidTensor("MatMul of a scalar") }
        let sa = aShape.count == 1 ? [1] + aShape : aShape
        let sb = bShape.count == 1 ? bShape + [1] : bShape
        let (m, k) = (sa[sa.count - 2], sa[sa.count - 1])
        let (k2, n) = (sb[sb.count - 2], sb[sb.count - 1])
        guard k == k2 else { throw NNError.invalidTensor("MatMul of \(aShape) and \(bShape): inner extents \(k) and \(k2) differ") }
        let batchA = Array(sa.dropLast(2)), batchB = Array(sb.dropLast(2))
        let plan = try Broadcast([batchA, batchB])
        var shape = plan.shape + [m, n]
        let batches = plan.count
        let out = [Float](largeCount: batches * m * n) { y in
            guard y.count > 0 else { return }
            guard k > 0 else {
                for i in y.indices { y[i] = bias?[i % n] ?? 0 }
                return
            }
            a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in
                    if batchB.reduce(1, *) == 1 && plan.shape == batchA {
                        // Weights without batch axes: every batch of A is rows of one product.
                        Gemm.multiply(m: batches * m, n: n, k: k, a: pa.baseAddress!, lda: k, b: pb.baseAddress!, ldb: n,
                                      c: y.baseAddress!, ldc: n)
                    } else {
                        let index = plan.indices()
                        for batch in 0..<batches {
                            Gemm.multiply(m: m, n: n, k: k, a: pa.baseAddress! + index[0][batch] * m * k, lda: k,
                                          b: pb.baseAddress! + index[1][batch] * k * n, ldb: n,
                                          c: y.baseAddress! + batch * m * n, ldc: n)
                        }
                    }
                }
            }
            if let bias {
                // Fused MatMul + Add of a per-column bias, while the product is still in cache
                // for the rows each thread just finished.
                let out = UncheckedSendable(y.baseAddress!)
                bias.withUnsafeBufferPointer { b in
                    Parallel.forEachBand(batches * m, minimumBand: max(1, 8192 / max(1, n))) { rows in
                        for row in rows {
                            let r = out.value + row * n
                            for j in 0..<n { r[j] += b[j] }
                        }
                    }
                }
            }
        }
        if aShape.count == 1 { shape.remove(at: shape.count - 2) }
        if bShape.count == 1 { shape.removeLast() }
        return Tensor(shape: shape, floats: out)
    }

    /// Y = alpha · A' · B' + beta · C, C broadcast to M × N.
    static func gemm(_ c: OpContext) throws -> [Tensor] {
        let (a, b) = (try c.floats(0), try c.floats(1))
        guard a.shape.count == 2, b.shape.count == 2 else { throw NNError.invalidTensor("Gemm takes matrices, got \(a.shape) and \(b.shape)") }
        let ta = c.attributes.int("transA", 0) == 1, tb = c.attributes.int("transB", 0) == 1
        let alpha = c.attributes.float("alpha", 1), beta = c.attributes.float("beta", 1)
        let (m, k) = ta ? (a.shape[1], a.shape[0]) : (a.shape[0], a.shape[1])
        let (k2, n) = tb ? (b.shape[1], b.shape[0]) : (b.shape[0], b.shape[1])
        guard k == k2 else { throw NNError.invalidTensor("Gemm of \(a.shape) and \(b.shape) (transA \(ta), transB \(tb)): inner extents differ") }
        var y: [Float]
        var accumulate: Float = 0
        if let bias = c.optional(2), beta != 0 {
            guard let values = bias.floats else { throw NNError.invalidTensor("Gemm C must be float") }
            let plan = try Broadcast([bias.shape, [m, n]])
            guard plan.shape == [m, n] else { throw NNError.invalidTensor("Gemm C \(bias.shape) does not broadcast to [\(m), \(n)]") }
            let index = plan.indices()[0]
            y = index.map { beta * values[$0] }
            accumulate = 1
        } else {
            y = [Float](repeating: 0, count: m * n)
        }
        a.values.withUnsafeBufferPointer { pa in
            b.values.withUnsafeBufferPointer { pb in
                y.withUnsafeMutableBufferPointer { py in
                    Gemm.multiply(m: m, n: n, k: k, alpha: alpha, a: pa.baseAddress!, lda: a.shape[1], transposeA: ta,
                                  b: pb.baseAddress!, ldb: b.shape[1], transposeB: tb, beta: accumulate, c: py.baseAddress!, ldc: n)
                }
            }
        }
        return [Tensor(shape: [m, n], floats: y)]
    }
}
