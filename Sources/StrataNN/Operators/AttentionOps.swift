import Foundation
import StrataCore

/// softmax(Q · Kᵀ) · V fused (GraphPreparation finds MatMul → Softmax(last axis) → MatMul).
///
/// Unfused, a ViT-S block at 518² writes a 45 MB score tensor, reads it back for softmax,
/// writes the probabilities and reads them again for the product with V. Here each thread
/// takes one head and a block of query rows at a time: the block's scores stay in cache
/// from the first product through softmax to the second.
enum AttentionOps {
    static func register(_ t: inout [String: Operator]) {
        // Internal: inputs Q (…, n, d), Kᵀ (…, d, m) — or K (…, m, d) where `keysTransposed`
        // is 0 — and V (…, m, e) with the same batch axes; the scores Q·Kᵀ times `scale`.
        t["strata.Attention"] = Operator { c in
            let (q, k, v) = (try c.floats(0), try c.floats(1), try c.floats(2))
            let rank = q.shape.count
            let axis = c.attributes.optionalInt("axis") ?? (c.opset >= 13 ? -1 : 1)
            let last = axis == -1 || axis == rank - 1
            let scale = c.attributes.float("scale", 1)
            let keysTransposed = c.attributes.int("keysTransposed", 1) != 0
            if last && rank >= 2 && q.shape.dropLast(2) == k.shape.dropLast(2) && q.shape.dropLast(2) == v.shape.dropLast(2) {
                return [try attention(q, k, v, scale: scale, keysTransposed: keysTransposed)]
            }
            // Broadcast batches or another softmax axis: the operators as written.
            var qv = q.values
            if scale != 1 { for j in qv.indices { qv[j] *= scale } }
            var kt = k
            if !keysTransposed && k.shape.count >= 2 {
                let tensor = Tensor(shape: k.shape, floats: k.values).transposed(Array(0..<(k.shape.count - 2)) + [k.shape.count - 1, k.shape.count - 2])
                kt = (tensor.shape, tensor.floats!)
            }
            let scores = try LinearOps.matmul(q.shape, qv, kt.shape, kt.values)
            let softContext = OpContext(inputs: [scores], attributes: c.attributes, opset: c.opset)
            let probabilities = try NormOps.softmax(softContext, log: false)
            return [try LinearOps.matmul(probabilities.shape, probabilities.floats!, v.shape, v.values)]
        }
    }

    static let rowBlock = 32

    /// softmax(`scale` · Q · Kᵀ) · V, with K given as Kᵀ (…, d, m) or, where
    /// `keysTransposed` is false, as stored (…, m, d).
    static func attention(_ q: (shape: [Int], values: [Float]), _ k: (shape: [Int], values: [Float]),
                          _ v: (shape: [Int], values: [Float]), scale: Float = 1, keysTransposed: Bool = true) throws -> Tensor {
        guard q.shape.count >= 2, k.shape.count == q.shape.count, v.shape.count == q.shape.count,
              q.shape.dropLast(2) == k.shape.dropLast(2), q.shape.dropLast(2) == v.shape.dropLast(2) else {
            throw NNError.invalidTensor("attention of \(q.shape), \(k.shape), \(v.shape): the batch axes must match")
        }
        let (n, d) = (q.shape[q.shape.count - 2], q.shape[q.shape.count - 1])
        let (kRows, kColumns) = (k.shape[k.shape.count - 2], k.shape[k.shape.count - 1])
        let (d2, m) = keysTransposed ? (kRows, kColumns) : (kColumns, kRows)
        let (m2, e) = (v.shape[v.shape.count - 2], v.shape[v.shape.count - 1])
        guard d == d2, m == m2 else { throw NNError.invalidTensor("attention of \(q.shape), \(k.shape), \(v.shape): inner extents differ") }
        let batches = q.shape.dropLast(2).reduce(1, *)
        let blocks = (n + rowBlock - 1) / rowBlock
        let shape = Array(q.shape.dropLast(2)) + [n, e]
        let out = [Float](largeCount: batches * n * e) { y in
            guard y.count > 0 else { return }
            q.values.withUnsafeBufferPointer { pq in
                k.values.withUnsafeBufferPointer { pk in
                    v.values.withUnsafeBufferPointer { pv in
                        let (sq, sk, sv, sy) = (UncheckedSendable(pq.baseAddress!), UncheckedSendable(pk.baseAddress!),
                                                UncheckedSendable(pv.baseAddress!), UncheckedSendable(y.baseAddress!))
                        Parallel.forEachBand(batches * blocks, minimumBand: 1) { tasks in
                            var scores = [Float](repeating: 0, count: rowBlock * m)
                            // K as stored: the head's Kᵀ made here once, for all its blocks.
                            var keys = [Float](repeating: 0, count: keysTransposed ? 0 : d * m)
                            var head = -1
                            scores.withUnsafeMutableBufferPointer { s in
                                keys.withUnsafeMutableBufferPointer { kt in
                                for task in tasks {
                                    let (b, block) = (task / blocks, task % blocks)
                                    let row0 = block * rowBlock, rows = min(rowBlock, n - row0)
                                    if !keysTransposed && b != head {
                                        transpose(sk.value + b * m * d, rows: m, columns: d, into: kt.baseAddress!)
                                        head = b
                                    }
                                    let keys = keysTransposed ? sk.value + b * d * m : UnsafePointer(kt.baseAddress!)
                                    Gemm.block(m: rows, n: m, k: d, a: sq.value + (b * n + row0) * d, lda: d,
                                               b: keys, ldb: m, c: s.baseAddress!, ldc: m, alpha: scale)
                                    NormOps.softmaxInPlace(s.baseAddress!, rows: rows, length: m)
                                    Gemm.block(m: rows, n: e, k: m, a: s.baseAddress!, lda: m,
                                               b: sv.value + b * m * e, ldb: e, c: sy.value + (b * n + row0) * e, ldc: e)
                                }
                                }
                            }
                        }
                    }
                }
            }
        }
        return Tensor(shape: shape, floats: out)
    }

    /// `rows` × `columns` floats at `source` into `columns` × `rows` at `target`, in tiles of
    /// 16 rows, so each line of the source read is used for all its columns while in cache.
    static func transpose(_ source: UnsafePointer<Float>, rows: Int, columns: Int, into target: UnsafeMutablePointer<Float>) {
        for r0 in stride(from: 0, to: rows, by: 16) {
            let r1 = min(rows, r0 + 16)
            for c in 0..<columns {
                let to = target + c * rows
                for r in r0..<r1 { to[r] = source[r * columns + c] }
            }
        }
    }
}
