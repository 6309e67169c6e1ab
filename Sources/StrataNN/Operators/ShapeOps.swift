import Foundation

/// Operators that move or relabel elements without arithmetic: shapes, reshapes,
/// transposes, concatenation and splitting, constants and casts.
enum ShapeOps {
    static func register(_ t: inout [String: Operator]) {
        t["Shape"] = Operator { c in [shapeValue(try c.input(0).shape, c.attributes)] }
        t["Size"] = Operator { c in [Tensor(shape: [], int64: [Int64(try c.input(0).count)])] }
        t["Reshape"] = Operator { c in
            let x = try c.input(0)
            let target = try c.opset < 5 ? (c.attributes.ints("shape") ?? []) : c.ints(1)
            return [try x.reshaped(reshapeTarget(target, input: x.shape, allowZero: c.attributes.int("allowzero", 0) == 1))]
        }
        t["Flatten"] = Operator { c in
            let x = try c.input(0)
            let axis = c.attributes.int("axis", 1)
            let a = axis < 0 ? axis + x.rank : axis
            guard a >= 0 && a <= x.rank else { throw NNError.invalidTensor("Flatten axis \(axis) out of range for rank \(x.rank)") }
            return [try x.reshaped([x.shape[..<a].reduce(1, *), x.shape[a...].reduce(1, *)])]
        }
        t["Squeeze"] = Operator { c in
            let x = try c.input(0)
            let axes = try (c.opset < 13 ? c.attributes.ints("axes") : c.optional(1).map { _ in try c.ints(1) })?
                .map { try normalizedAxis($0, rank: x.rank) }
            if let axes, let bad = axes.first(where: { x.shape[$0] != 1 }) {
                throw NNError.invalidTensor("Squeeze axis \(bad) has extent \(x.shape[bad]), not 1")
            }
            let shape = x.shape.indices.filter { axis in axes.map { !$0.contains(axis) } ?? (x.shape[axis] != 1) }.map { x.shape[$0] }
            return [try x.reshaped(shape)]
        }
        t["Unsqueeze"] = Operator { c in
            let x = try c.input(0)
            let given = try c.opset < 13 ? (c.attributes.ints("axes") ?? []) : c.ints(1)
            let rank = x.rank + given.count
            let axes = Set(try given.map { try normalizedAxis($0, rank: rank) })
            guard axes.count == given.count else { throw NNError.invalidTensor("Unsqueeze axes \(given) repeat an axis") }
            var shape: [Int] = []
            var source = x.shape.makeIterator()
            for axis in 0..<rank { shape.append(axes.contains(axis) ? 1 : source.next()!) }
            return [try x.reshaped(shape)]
        }
        t["Transpose"] = Operator { c in
            let x = try c.input(0)
            let perm = c.attributes.ints("perm") ?? Array((0..<x.rank).reversed())
            guard perm.sorted() == Array(0..<x.rank) else { throw NNError.invalidTensor("Transpose perm \(perm) is not a permutation of \(x.rank) axes") }
            return [x.transposed(perm)]
        }
        t["Concat"] = Operator { c in
            let parts = try c.inputs.indices.map { try c.input($0) }
            return [try Tensor.concatenate(parts, axis: c.attributes.int("axis", 0))]
        }
        t["Split"] = Operator(run: split)
        t["Expand"] = Operator { c in
            let x = try c.input(0)
            let plan = try Broadcast([x.shape, try c.ints(1)])
            return [x.gathered(shape: plan.shape, from: plan.indices()[0])]
        }
        t["Tile"] = Operator { c in
            let x = try c.input(0)
            let repeats = try c.ints(1)
            guard repeats.count == x.rank, repeats.allSatisfy({ $0 >= 0 }) else {
                throw NNError.invalidTensor("Tile repeats \(repeats) for a rank-\(x.rank) tensor")
            }
            let shape = zip(x.shape, repeats).map { $0 * $1 }
            let strides = Tensor.strides(x.shape)
            let index = Tensor.indices(shape) { coordinate in
                zip(coordinate.indices, coordinate).reduce(0) { $0 + ($1.1 % x.shape[$1.0]) * strides[$1.0] }
            }
            return [x.gathered(shape: shape, from: index)]
        }
        t["ConstantOfShape"] = Operator { c in
            let shape = try c.ints(0)
            guard shape.allSatisfy({ $0 >= 0 }) else { throw NNError.invalidTensor("ConstantOfShape with a negative extent \(shape)") }
            let value = c.attributes.tensor("value") ?? Tensor(shape: [1], floats: [0])
            let n = shape.reduce(1, *)
            switch value.storage {
            case .float(let v): return [Tensor(shape: shape, floats: [Float](repeating: v.first ?? 0, count: n))]
            case .int64(let v): return [Tensor(shape: shape, int64: [Int64](repeating: v.first ?? 0, count: n))]
            case .bool(let v): return [Tensor(shape: shape, bools: [Bool](repeating: v.first ?? false, count: n))]
            }
        }
        t["Constant"] = Operator(check: { node, _ in
            let a = Attributes(values: node.attributes)
            return a.tensor("value") != nil || a.optionalFloat("value_float") != nil || a.floats("value_floats") != nil
                || a.optionalInt("value_int") != nil || a.ints("value_ints") != nil ? nil : "Constant without a numeric value"
        }, run: { c in
            let a = c.attributes
            if let v = a.tensor("value") { return [v] }
            if let v = a.optionalFloat("value_float") { return [Tensor(shape: [], floats: [v])] }
            if let v = a.floats("value_floats") { return [Tensor(shape: [v.count], floats: v)] }
            if let v = a.optionalInt("value_int") { return [Tensor(shape: [], int64: [Int64(v)])] }
            if let v = a.ints("value_ints") { return [Tensor(shape: [v.count], int64: v.map { Int64($0) })] }
            throw NNError.invalidTensor("Constant without a value")
        })
        t["Range"] = Operator { c in
            let (start, limit, delta) = (try c.input(0), try c.input(1), try c.input(2))
            switch (start.storage, limit.storage, delta.storage) {
            case (.float(let s), .float(let l), .float(let d)):
                guard let s = s.first, let l = l.first, let d = d.first, d != 0 else { throw NNError.invalidTensor("Range needs scalar start, limit and a non-zero delta") }
                let n = max(0, Int(((l - s) / d).rounded(.up)))
                return [Tensor(shape: [n], floats: (0..<n).map { s + Float($0) * d })]
            case (.int64(let s), .int64(let l), .int64(let d)):
                guard let s = s.first, let l = l.first, let d = d.first, d != 0 else { throw NNError.invalidTensor("Range needs scalar start, limit and a non-zero delta") }
                let n = max(0, Int((Double(l - s) / Double(d)).rounded(.up)))
                return [Tensor(shape: [n], int64: (0..<n).map { s + Int64($0) * d })]
            default:
                throw NNError.invalidTensor("Range operands must be all float or all int64")
            }
        }
        t["Cast"] = Operator(check: { node, _ in
            let to = Attributes(values: node.attributes).int("to", 0)
            return castTargets[to] == nil ? "Cast to \(onnxTypeNames[Int32(to)] ?? "type \(to)") is not supported" : nil
        }, run: { c in
            let x = try c.input(0)
            let to = c.attributes.int("to", 0)
            guard let target = castTargets[to] else { throw NNError.invalidTensor("Cast to type \(to) is not supported") }
            return [x.cast(to: target)]
        })
        t["CastLike"] = Operator { c in
            let (x, like) = (try c.input(0), try c.input(1))
            return [x.cast(to: like.dataType)]
        }
    }

    /// What Shape returns for a tensor of `shape`: its extents from opset 15's start to end,
    /// clamped as the spec says.
    static func shapeValue(_ shape: [Int], _ a: Attributes) -> Tensor {
        let rank = shape.count
        func clamp(_ v: Int) -> Int { min(max(v < 0 ? v + rank : v, 0), rank) }
        let start = clamp(a.int("start", 0)), end = clamp(a.int("end", rank))
        let dims = start < end ? Array(shape[start..<end]) : []
        return Tensor(shape: [dims.count], int64: dims.map { Int64($0) })
    }

    /// ONNX type codes Cast can produce, and how Strata holds them (narrow integers as int64,
    /// double as float).
    static let castTargets: [Int: Tensor.DataType] = [1: .float, 11: .float, 7: .int64, 6: .int64, 5: .int64, 3: .int64,
                                                        2: .int64, 4: .int64, 12: .int64, 13: .int64, 9: .bool]

    /// Reshape's target with 0 (copy the input's extent, unless `allowZero`) and one -1 resolved.
    static func reshapeTarget(_ target: [Int], input: [Int], allowZero: Bool) throws -> [Int] {
        var shape = target
        for (i, d) in target.enumerated() where d == 0 && !allowZero {
            guard i < input.count else { throw NNError.invalidTensor("Reshape target \(target): 0 at axis \(i) beyond the input's rank") }
            shape[i] = input[i]
        }
        let count = input.reduce(1, *)
        let unknown = shape.indices.filter { shape[$0] == -1 }
        guard unknown.count <= 1, shape.allSatisfy({ $0 >= -1 }) else { throw NNError.invalidTensor("Reshape target \(target) is not a shape") }
        if let u = unknown.first {
            let known = shape.enumerated().filter { $0.offset != u }.reduce(1) { $0 * $1.element }
            guard known > 0, count % known == 0 else { throw NNError.invalidTensor("cannot reshape \(input) to \(target)") }
            shape[u] = count / known
        }
        guard shape.reduce(1, *) == count else { throw NNError.invalidTensor("cannot reshape \(input) (\(count) elements) to \(target)") }
        return shape
    }

    /// The extent of each part Split cuts an axis of `extent` into: given (an input from
    /// opset 13, an attribute before), or equal parts, opset 18's num_outputs letting the
    /// last be smaller.
    static func splitSizes(_ c: OpContext, extent: Int, axis: Int) throws -> [Int] {
        var sizes: [Int]
        if c.opset >= 13, c.optional(1) != nil {
            sizes = try c.ints(1)
        } else if let given = c.attributes.ints("split") {
            sizes = given
        } else {
            let parts = c.attributes.optionalInt("num_outputs") ?? c.outputCount
            let size = (extent + parts - 1) / parts
            sizes = (0..<parts).map { min(size, max(0, extent - $0 * size)) }
        }
        guard sizes.reduce(0, +) == extent, sizes.allSatisfy({ $0 >= 0 }) else {
            throw NNError.invalidTensor("Split sizes \(sizes) do not add up to axis \(axis)'s extent \(extent)")
        }
        return sizes
    }

    static func split(_ c: OpContext) throws -> [Tensor] {
        let x = try c.input(0)
        let axis = try normalizedAxis(c.attributes.int("axis", 0), rank: x.rank)
        let sizes = try splitSizes(c, extent: x.shape[axis], axis: axis)
        var start = 0
        return sizes.map { size in
            defer { start += size }
            return x.sliced(axis: axis, range: start..<(start + size))
        }
    }
}
