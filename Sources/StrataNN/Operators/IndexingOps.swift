import Foundation

/// Operators that pick elements by index: Gather, GatherElements, Slice, Pad.
enum IndexingOps {
    static func register(_ t: inout [String: Operator]) {
        t["Gather"] = Operator { c in
            let (x, indices) = (try c.input(0), try c.input(1))
            let axis = try normalizedAxis(c.attributes.int("axis", 0), rank: x.rank)
            let extent = x.shape[axis]
            let picks = try indexValues(indices, extent: extent, op: "Gather")
            let outer = x.shape[..<axis].reduce(1, *), inner = x.shape[(axis + 1)...].reduce(1, *)
            let shape = Array(x.shape[..<axis]) + indices.shape + Array(x.shape[(axis + 1)...])
            // Whole runs of `inner` elements are copied: the split of Q, K and V out of one
            // projection (axis 0, one index) is three plain copies, where an index per element
            // took 42 ms of a Depth Anything run.
            let runs = (0..<outer).flatMap { o in picks.map { p in (o * extent + p) * inner } }
            return [x.copyingRuns(shape: shape, starts: runs, length: inner)]
        }
        t["GatherElements"] = Operator { c in
            let (x, indices) = (try c.input(0), try c.input(1))
            let axis = try normalizedAxis(c.attributes.int("axis", 0), rank: x.rank)
            guard indices.rank == x.rank else { throw NNError.invalidTensor("GatherElements indices must have the data's rank \(x.rank)") }
            let picks = try indexValues(indices, extent: x.shape[axis], op: "GatherElements")
            let strides = Tensor.strides(x.shape)
            var k = 0
            let index = Tensor.indices(indices.shape) { coordinate in
                defer { k += 1 }
                var offset = 0
                for (a, v) in coordinate.enumerated() { offset += (a == axis ? picks[k] : v) * strides[a] }
                return offset
            }
            return [x.gathered(shape: indices.shape, from: index)]
        }
        t["Slice"] = Operator(run: slice)
        t["Pad"] = Operator(check: { node, _ in
            let mode = Attributes(values: node.attributes).string("mode", "constant")
            return ["constant", "reflect", "edge", "wrap"].contains(mode) ? nil : "Pad mode \"\(mode)\" is not supported"
        }, run: pad)
    }

    /// Index tensor values with negatives counted from the end, each checked against `extent`.
    static func indexValues(_ indices: Tensor, extent: Int, op: String) throws -> [Int] {
        guard let raw = indices.int64s else { throw NNError.invalidTensor("\(op) indices must be integers, not \(indices.dataType)") }
        return try raw.map { v in
            let i = Int(v) < 0 ? Int(v) + extent : Int(v)
            guard i >= 0 && i < extent else { throw NNError.invalidTensor("\(op) index \(v) is out of range for extent \(extent)") }
            return i
        }
    }

    /// Slice: starts/ends/axes/steps as attributes before opset 10, inputs from 10.
    static func slice(_ c: OpContext) throws -> [Tensor] {
        let x = try c.input(0)
        let (first, step, shape) = try sliceGeometry(c, shape: x.shape)
        let strides = Tensor.strides(x.shape)
        // The innermost axes kept whole, and the next one if it runs forward, are contiguous
        // in the source: copied as runs (a slice of the last axis, such as the split of a
        // channel dimension, is one copy per row, not an index per element).
        var inner = x.rank, run = 1
        while inner > 0, first[inner - 1] == 0, step[inner - 1] == 1, shape[inner - 1] == x.shape[inner - 1] {
            inner -= 1
            run *= shape[inner]
        }
        if inner > 0, step[inner - 1] == 1 {
            inner -= 1
            run *= shape[inner]
        }
        guard run > 1, !shape.contains(0) else {
            let index = Tensor.indices(shape) { coordinate in
                var offset = 0
                for a in coordinate.indices { offset += (first[a] + coordinate[a] * step[a]) * strides[a] }
                return offset
            }
            return [x.gathered(shape: shape, from: index)]
        }
        let runStarts = Tensor.indices(Array(shape[..<inner])) { coordinate in
            var offset = 0
            for a in coordinate.indices { offset += (first[a] + coordinate[a] * step[a]) * strides[a] }
            for a in inner..<x.rank { offset += first[a] * strides[a] }
            return offset
        }
        return [x.copyingRuns(shape: shape, starts: runStarts, length: run)]
    }

    /// Where a Slice starts, its step and the extent it keeps on every axis of `shape`.
    static func sliceGeometry(_ c: OpContext, shape inputShape: [Int]) throws -> (first: [Int], step: [Int], shape: [Int]) {
        let rank = inputShape.count
        let starts: [Int], ends: [Int], axesGiven: [Int]?, stepsGiven: [Int]?
        if c.opset < 10 {
            starts = c.attributes.ints("starts") ?? []
            ends = c.attributes.ints("ends") ?? []
            axesGiven = c.attributes.ints("axes")
            stepsGiven = nil
        } else {
            starts = try c.ints(1)
            ends = try c.ints(2)
            axesGiven = try c.optional(3).map { _ in try c.ints(3) }
            stepsGiven = try c.optional(4).map { _ in try c.ints(4) }
        }
        let axes = try (axesGiven ?? Array(0..<starts.count)).map { try normalizedAxis($0, rank: rank) }
        let steps = stepsGiven ?? [Int](repeating: 1, count: starts.count)
        guard starts.count == ends.count, axes.count == starts.count, steps.count == starts.count else {
            throw NNError.invalidTensor("Slice starts \(starts), ends \(ends), axes \(axes), steps \(steps) differ in length")
        }
        var first = [Int](repeating: 0, count: rank), step = [Int](repeating: 1, count: rank), shape = inputShape
        for (k, axis) in axes.enumerated() {
            let n = inputShape[axis], s = steps[k]
            guard s != 0 else { throw NNError.invalidTensor("Slice step 0 on axis \(axis)") }
            // Clamp as the spec does: to [0, n] going forward, [-1, n-1] going backward.
            func clamp(_ v: Int) -> Int {
                let w = v < 0 ? v + n : v
                return s > 0 ? min(max(w, 0), n) : min(max(w, -1), n - 1)
            }
            let b = clamp(starts[k]), e = clamp(ends[k])
            let count = s > 0 ? max(0, (e - b + s - 1) / s) : max(0, (b - e + (-s) - 1) / (-s))
            (first[axis], step[axis], shape[axis]) = (b, s, count)
        }
        return (first, step, shape)
    }

    /// Pad: pads as an attribute before opset 11, inputs (pads, constant value, axes) from 11.
    static func pad(_ c: OpContext) throws -> [Tensor] {
        let x = try c.input(0)
        let mode = c.attributes.string("mode", "constant")
        var value: Float = 0
        var valueInt: Int64 = 0
        if c.opset < 11 {
            value = c.attributes.float("value", 0)
        } else if let v = c.optional(2) {
            if let f = v.floats?.first { value = f } else if let i = v.int64s?.first { valueInt = i; value = Float(i) }
        }
        let rank = x.rank
        let (pads, shape) = try padGeometry(c, shape: x.shape)
        if mode != "constant", let empty = x.shape.firstIndex(where: { $0 == 0 }), shape[empty] > 0 {
            throw NNError.invalidTensor("Pad mode \(mode) cannot pad an empty axis")
        }
        let strides = Tensor.strides(x.shape)
        // -1 marks a constant-filled element.
        let index = Tensor.indices(shape) { coordinate in
            var offset = 0
            for a in 0..<rank {
                var i = coordinate[a] - pads[a]
                let n = x.shape[a]
                if i < 0 || i >= n {
                    switch mode {
                    case "edge": i = min(max(i, 0), n - 1)
                    case "wrap": i = ((i % n) + n) % n
                    case "reflect":
                        if n == 1 { i = 0 } else {
                            let period = 2 * (n - 1)
                            i = ((i % period) + period) % period
                            if i >= n { i = period - i }
                        }
                    default: return -1
                    }
                }
                offset += i * strides[a]
            }
            return offset
        }
        switch x.storage {
        case .float(let v): return [Tensor(shape: shape, floats: index.map { $0 < 0 ? value : v[$0] })]
        case .int64(let v): return [Tensor(shape: shape, int64: index.map { $0 < 0 ? valueInt : v[$0] })]
        case .bool(let v): return [Tensor(shape: shape, bools: index.map { $0 < 0 ? false : v[$0] })]
        }
    }

    /// Pad's amounts before (axes 0…r−1) and after (r…2r−1) every axis of `shape`, and the
    /// padded shape.
    static func padGeometry(_ c: OpContext, shape input: [Int]) throws -> (pads: [Int], shape: [Int]) {
        let rank = input.count
        var pads: [Int]
        if c.opset < 11 {
            pads = c.attributes.ints("pads") ?? []
        } else {
            pads = try c.ints(1)
            if let axesTensor = c.optional(3) {
                // Opset 18: pads name only `axes`; the others get none.
                guard let given = axesTensor.int64s else { throw NNError.invalidTensor("Pad axes must be integers") }
                let axes = try given.map { try normalizedAxis(Int($0), rank: rank) }
                guard pads.count == 2 * axes.count else { throw NNError.invalidTensor("Pad has \(pads.count) pads for \(axes.count) axes") }
                var full = [Int](repeating: 0, count: 2 * rank)
                for (k, a) in axes.enumerated() {
                    full[a] = pads[k]
                    full[a + rank] = pads[k + axes.count]
                }
                pads = full
            }
        }
        guard pads.count == 2 * rank else { throw NNError.invalidTensor("Pad needs \(2 * rank) pads for rank \(rank), got \(pads.count)") }
        let shape = (0..<rank).map { input[$0] + pads[$0] + pads[$0 + rank] }
        guard shape.allSatisfy({ $0 >= 0 }) else { throw NNError.invalidTensor("Pad \(pads) removes more than \(input) holds") }
        return (pads, shape)
    }
}
