import Foundation

/// Reductions over axes (ReduceMean, ReduceSum, …) and ArgMax/ArgMin.
enum ReduceOps {
    /// A reduction: the first element's value mapped by `start`, the rest folded in by
    /// `step`, the total mapped by `finish` with the count reduced.
    struct Kind: Sendable {
        var start: @Sendable (Float) -> Float
        var step: @Sendable (Float, Float) -> Float
        var finish: @Sendable (Float, Int) -> Float
        var empty: Float
    }

    static let kinds: [String: Kind] = [
        "ReduceSum": Kind(start: { $0 }, step: { $0 + $1 }, finish: { v, _ in v }, empty: 0),
        "ReduceMean": Kind(start: { $0 }, step: { $0 + $1 }, finish: { v, n in v / Float(n) }, empty: .nan),
        "ReduceMax": Kind(start: { $0 }, step: { max($0, $1) }, finish: { v, _ in v }, empty: -.infinity),
        "ReduceMin": Kind(start: { $0 }, step: { min($0, $1) }, finish: { v, _ in v }, empty: .infinity),
        "ReduceProd": Kind(start: { $0 }, step: { $0 * $1 }, finish: { v, _ in v }, empty: 1),
        "ReduceSumSquare": Kind(start: { $0 * $0 }, step: { $0 + $1 * $1 }, finish: { v, _ in v }, empty: 0),
        "ReduceL1": Kind(start: { abs($0) }, step: { $0 + abs($1) }, finish: { v, _ in v }, empty: 0),
        "ReduceL2": Kind(start: { $0 * $0 }, step: { $0 + $1 * $1 }, finish: { v, _ in v.squareRoot() }, empty: 0),
        "ReduceLogSum": Kind(start: { $0 }, step: { $0 + $1 }, finish: { v, _ in log(v) }, empty: -.infinity),
    ]

    static func register(_ t: inout [String: Operator]) {
        for (name, kind) in kinds {
            t[name] = Operator { c in [try reduce(c, name: name, kind: kind)] }
        }
        t["ReduceLogSumExp"] = Operator { c in
            // log Σ exp(x) = m + log Σ exp(x − m), m the maximum: no overflow.
            let x = try c.input(0)
            let (axes, keep) = try reductionAxes(c, name: "ReduceLogSumExp", rank: x.rank)
            return [try reduceRows(x, axes: axes, keepDims: keep) { row in
                guard let m = row.max(), m.isFinite else { return row.isEmpty ? -.infinity : row.max()! }
                return m + log(row.reduce(0) { $0 + exp($1 - m) })
            }]
        }
        t["ArgMax"] = Operator { c in [try argExtreme(c, greater: true)] }
        t["ArgMin"] = Operator { c in [try argExtreme(c, greater: false)] }
    }

    /// The axes a reduction node reduces, and keepdims; empty axes reduce all, unless
    /// noop_with_empty_axes says they reduce none (an empty result means "identity").
    static func reductionAxes(_ c: OpContext, name: String, rank: Int) throws -> (axes: [Int], keep: Bool) {
        // ReduceSum took axes as an input from opset 13, the others from 18.
        let inputFrom = name == "ReduceSum" ? 13 : 18
        var given: [Int]?
        if c.opset >= inputFrom {
            given = try c.optional(1).map { _ in try c.ints(1) }
        } else {
            given = c.attributes.ints("axes")
        }
        let keep = c.attributes.int("keepdims", 1) == 1
        if given == nil || given!.isEmpty {
            if c.attributes.int("noop_with_empty_axes", 0) == 1 { return ([], keep) }
            return (Array(0..<rank), keep)
        }
        return (Array(Set(try given!.map { try normalizedAxis($0, rank: rank) })).sorted(), keep)
    }

    static func reduce(_ c: OpContext, name: String, kind: Kind) throws -> Tensor {
        let x = try c.input(0)
        let (axes, keep) = try reductionAxes(c, name: name, rank: x.rank)
        if axes.isEmpty, c.attributes.int("noop_with_empty_axes", 0) == 1 { return x }
        if let ints = x.int64s {
            // Integer reductions (shape arithmetic): through Double, exact for shape-sized values.
            let asFloat = Tensor(shape: x.shape, floats: ints.map { Float($0) })
            let r = try reduceRows(asFloat, axes: axes, keepDims: keep) { fold($0, kind) }
            return r.cast(to: .int64)
        }
        return try reduceRows(x, axes: axes, keepDims: keep) { fold($0, kind) }
    }

    @inline(__always)
    static func fold(_ row: UnsafeBufferPointer<Float>, _ kind: Kind) -> Float {
        guard let first = row.first else { return kind.empty }
        var v = kind.start(first)
        for i in 1..<row.count { v = kind.step(v, row[i]) }
        return kind.finish(v, row.count)
    }

    /// Moves the reduced axes last, then calls `reduce` on each contiguous row.
    static func reduceRows(_ x: Tensor, axes: [Int], keepDims: Bool, _ reduce: (UnsafeBufferPointer<Float>) -> Float) throws -> Tensor {
        guard x.floats != nil else { throw NNError.invalidTensor("reduction of a \(x.dataType) tensor") }
        let kept = (0..<x.rank).filter { !axes.contains($0) }
        let moved = axes == Array((x.rank - axes.count)..<x.rank) ? x : x.transposed(kept + axes)
        let values = moved.floats!
        let length = axes.reduce(1) { $0 * x.shape[$1] }
        let rows = kept.reduce(1) { $0 * x.shape[$1] }
        let out = values.withUnsafeBufferPointer { v in
            (0..<rows).map { r in reduce(UnsafeBufferPointer(rebasing: v[(r * length)..<((r + 1) * length)])) }
        }
        let shape = keepDims ? x.shape.indices.map { axes.contains($0) ? 1 : x.shape[$0] } : kept.map { x.shape[$0] }
        return Tensor(shape: shape, floats: out)
    }

    static func argExtreme(_ c: OpContext, greater: Bool) throws -> Tensor {
        let x = try c.input(0)
        let axis = try normalizedAxis(c.attributes.int("axis", 0), rank: x.rank)
        let keep = c.attributes.int("keepdims", 1) == 1
        let last = c.attributes.int("select_last_index", 0) == 1
        let source = x.int64s.map { Tensor(shape: x.shape, floats: $0.map { Float($0) }) } ?? x
        let index = try reduceRows(source, axes: [axis], keepDims: keep) { row in
            var best = 0
            for i in 1..<max(1, row.count) {
                let better = greater ? row[i] > row[best] : row[i] < row[best]
                if better || (last && row[i] == row[best]) { best = i }
            }
            return Float(best)
        }
        return index.cast(to: .int64)
    }
}
