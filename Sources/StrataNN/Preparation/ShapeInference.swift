import Foundation

/// Every value's shape from the input shapes, operator by operator, without running a kernel.
///
/// Known shapes are what lets preparation turn a dynamic export into a static one: a Shape
/// node over a known shape is a constant, and the Gather / Unsqueeze / Concat / Reshape
/// chains that exporters build from it fold away with it. Each rule reads its parameters
/// (axes, pads, sizes, target shapes) only from constants; a parameter computed at run time
/// leaves the output unknown, and so everything after it — never a wrong shape.
///
/// The rules share their geometry with the kernels (`Window`, `sliceGeometry`,
/// `padGeometry`, `ResizeOps.geometry`, `transposeGeometry`, `reshapeTarget`), so the
/// shape inferred is the shape the kernel produces; `Session.verifiesShapes` checks that
/// on every node of a run.
enum ShapeInference {
    /// The output shapes of `node`, given its inputs' shapes (nil where unknown) and a
    /// context holding the inputs that are constants (nil for the others); nil when they
    /// cannot be known before running. Throws what the kernel would throw on these shapes.
    static func outputShapes(_ node: Node, shapes: [[Int]?], context c: OpContext) throws -> [[Int]]? {
        let op = node.opType
        func shape(_ i: Int) -> [Int]? { i < shapes.count ? shapes[i] : nil }
        /// Inputs from `first` on are parameters: each one named must be a constant.
        func parametersKnown(from first: Int) -> Bool {
            (first..<node.inputs.count).allSatisfy { node.inputs[$0].isEmpty || c.inputs[$0] != nil }
        }
        if sameShape.contains(op) {
            guard let x = shape(0) else { return nil }
            return [x]
        }
        if broadcasting.contains(op) {
            let all = node.inputs.indices.compactMap { node.inputs[$0].isEmpty ? [] : shape($0) }
            guard all.count == node.inputs.count, !all.isEmpty else { return nil }
            return [try Broadcast(all).shape]
        }
        if ReduceOps.kinds[op] != nil || op == "ReduceLogSumExp" {
            guard let x = shape(0), parametersKnown(from: 1) else { return nil }
            let (axes, keep) = try ReduceOps.reductionAxes(c, name: op, rank: x.count)
            return [reduced(x, axes: axes, keep: keep)]
        }
        switch op {
        case "Shape", "Size", "Constant", "ConstantOfShape", "Range":
            // Values, not shapes: preparation folds them when their inputs are known.
            return nil
        case "LayerNormalization":
            guard let x = shape(0) else { return nil }
            let axis = try normalizedAxis(c.attributes.int("axis", -1), rank: x.count)
            let statistics = Array(x[..<axis]) + [Int](repeating: 1, count: x.count - axis)
            return [x, statistics, statistics]
        case "ArgMax", "ArgMin":
            guard let x = shape(0) else { return nil }
            let axis = try normalizedAxis(c.attributes.int("axis", 0), rank: x.count)
            return [reduced(x, axes: [axis], keep: c.attributes.int("keepdims", 1) == 1)]
        case "MatMul":
            guard let a = shape(0), let b = shape(1) else { return nil }
            return [try matmul(a, b)]
        case "strata.Attention":
            guard let q = shape(0), var k = shape(1), let v = shape(2) else { return nil }
            if c.attributes.int("keysTransposed", 1) == 0 && k.count >= 2 { k.swapAt(k.count - 1, k.count - 2) }
            return [try matmul(matmul(q, k), v)]
        case "Gemm":
            guard let a = shape(0), let b = shape(1), a.count == 2, b.count == 2 else { return nil }
            let m = c.attributes.int("transA", 0) == 1 ? a[1] : a[0]
            let n = c.attributes.int("transB", 0) == 1 ? b[0] : b[1]
            return [[m, n]]
        case "Conv":
            guard let x = shape(0), let w = shape(1), x.count >= 3, w.count == x.count else { return nil }
            let win = try Window(attributes: c.attributes, spatial: Array(x[2...]), kernel: Array(w[2...]), op: op)
            return [[x[0], w[0]] + win.outputShape(rank: x.count - 2)]
        case "ConvTranspose":
            guard let x = shape(0), let w = shape(1), x.count >= 3, w.count == x.count else { return nil }
            let geometry = try ConvOps.transposeGeometry(spatial: Array(x[2...]), kernel: Array(w[2...]), attributes: c.attributes)
            return [[x[0], w[1] * c.attributes.int("group", 1)] + geometry.outSize]
        case "MaxPool", "AveragePool":
            guard let x = shape(0), x.count >= 3, let kernel = c.attributes.ints("kernel_shape") else { return nil }
            let win = try Window(attributes: c.attributes, spatial: Array(x[2...]), kernel: kernel,
                                 ceilMode: c.attributes.int("ceil_mode", 0) == 1, op: op)
            return [Array(x[..<2]) + win.outputShape(rank: x.count - 2)]
        case "GlobalAveragePool", "GlobalMaxPool":
            guard let x = shape(0), x.count >= 2 else { return nil }
            return [Array(x[..<2]) + [Int](repeating: 1, count: x.count - 2)]
        case "Reshape":
            guard let x = shape(0), parametersKnown(from: 1) else { return nil }
            let target = try c.opset < 5 ? (c.attributes.ints("shape") ?? []) : c.ints(1)
            return [try ShapeOps.reshapeTarget(target, input: x, allowZero: c.attributes.int("allowzero", 0) == 1)]
        case "Flatten":
            guard let x = shape(0) else { return nil }
            let axis = c.attributes.int("axis", 1)
            let a = axis < 0 ? axis + x.count : axis
            guard a >= 0 && a <= x.count else { throw NNError.invalidTensor("Flatten axis \(axis) out of range for rank \(x.count)") }
            return [[x[..<a].reduce(1, *), x[a...].reduce(1, *)]]
        case "Squeeze":
            guard let x = shape(0), parametersKnown(from: 1) else { return nil }
            let axes = try (c.opset < 13 ? c.attributes.ints("axes") : c.optional(1).map { _ in try c.ints(1) })?
                .map { try normalizedAxis($0, rank: x.count) }
            return [x.indices.filter { axis in axes.map { !$0.contains(axis) } ?? (x[axis] != 1) }.map { x[$0] }]
        case "Unsqueeze":
            guard let x = shape(0), parametersKnown(from: 1) else { return nil }
            let given = try c.opset < 13 ? (c.attributes.ints("axes") ?? []) : c.ints(1)
            let axes = Set(try given.map { try normalizedAxis($0, rank: x.count + given.count) })
            var source = x.makeIterator()
            return [(0..<(x.count + given.count)).map { axes.contains($0) ? 1 : source.next() ?? 1 }]
        case "Transpose":
            guard let x = shape(0) else { return nil }
            let perm = c.attributes.ints("perm") ?? Array((0..<x.count).reversed())
            guard perm.sorted() == Array(0..<x.count) else { throw NNError.invalidTensor("Transpose perm \(perm) is not a permutation of \(x.count) axes") }
            return [perm.map { x[$0] }]
        case "Concat":
            let parts = node.inputs.indices.compactMap { shape($0) }
            guard parts.count == node.inputs.count, let first = parts.first else { return nil }
            let axis = try normalizedAxis(c.attributes.int("axis", 0), rank: first.count)
            var out = first
            out[axis] = parts.reduce(0) { $0 + $1[axis] }
            return [out]
        case "Split":
            guard let x = shape(0), parametersKnown(from: 1) else { return nil }
            let axis = try normalizedAxis(c.attributes.int("axis", 0), rank: x.count)
            return try ShapeOps.splitSizes(c, extent: x[axis], axis: axis).map { var s = x; s[axis] = $0; return s }
        case "Slice":
            guard let x = shape(0), parametersKnown(from: 1) else { return nil }
            return [try IndexingOps.sliceGeometry(c, shape: x).shape]
        case "Pad":
            guard let x = shape(0), parametersKnown(from: 1) else { return nil }
            return [try IndexingOps.padGeometry(c, shape: x).shape]
        case "Gather":
            guard let x = shape(0), let indices = shape(1) else { return nil }
            let axis = try normalizedAxis(c.attributes.int("axis", 0), rank: x.count)
            return [Array(x[..<axis]) + indices + Array(x[(axis + 1)...])]
        case "GatherElements":
            guard let indices = shape(1) else { return nil }
            return [indices]
        case "Expand":
            guard let x = shape(0), parametersKnown(from: 1) else { return nil }
            return [try Broadcast([x, c.ints(1)]).shape]
        case "Tile":
            guard let x = shape(0), parametersKnown(from: 1) else { return nil }
            let repeats = try c.ints(1)
            guard repeats.count == x.count else { throw NNError.invalidTensor("Tile repeats \(repeats) for a rank-\(x.count) tensor") }
            return [zip(x, repeats).map { $0 * $1 }]
        case "Resize":
            guard let x = shape(0), parametersKnown(from: 1) else { return nil }
            return [try ResizeOps.geometry(c, shape: x).sizes]
        case "Upsample":
            guard let x = shape(0), parametersKnown(from: 1) else { return nil }
            let scales = c.opset >= 9 ? try c.floats(1).values : (c.attributes.floats("scales") ?? [])
            guard scales.count == x.count else { throw NNError.invalidTensor("Upsample has \(scales.count) scales for rank \(x.count)") }
            return [zip(x, scales).map { Int((Float($0) * $1).rounded(.down)) }]
        default:
            // If, and any operator without a rule: unknown, and so is what reads it.
            return nil
        }
    }

    /// Operators whose (first) output has their first input's shape.
    static let sameShape: Set<String> = [
        "Relu", "Sigmoid", "Tanh", "Exp", "Log", "Sqrt", "Reciprocal", "Floor", "Ceil", "Round", "Sin", "Cos", "Erf",
        "Softplus", "Softsign", "HardSwish", "HardSigmoid", "LeakyRelu", "Elu", "Selu", "ThresholdedRelu", "Gelu",
        "Neg", "Abs", "Sign", "Identity", "Not", "Clip", "Cast", "CastLike", "Softmax", "LogSoftmax",
        "BatchNormalization", "InstanceNormalization", "PRelu",
    ]

    /// Operators whose output is their inputs broadcast together.
    static let broadcasting: Set<String> = [
        "Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Sum", "Mean", "Equal", "Less", "LessOrEqual", "Greater",
        "GreaterOrEqual", "And", "Or", "Xor", "Where",
    ]

    /// `shape` with `axes` reduced: kept as 1, or dropped.
    static func reduced(_ shape: [Int], axes: [Int], keep: Bool) -> [Int] {
        keep ? shape.indices.map { axes.contains($0) ? 1 : shape[$0] } : shape.indices.filter { !axes.contains($0) }.map { shape[$0] }
    }

    /// A @ B's shape under NumPy's rules (1-D operands gain and lose an axis, batch axes
    /// broadcast).
    static func matmul(_ a: [Int], _ b: [Int]) throws -> [Int] {
        guard !a.isEmpty, !b.isEmpty else { throw NNError.invalidTensor("MatMul of a scalar") }
        let sa = a.count == 1 ? [1] + a : a, sb = b.count == 1 ? b + [1] : b
        guard sa[sa.count - 1] == sb[sb.count - 2] else {
            throw NNError.invalidTensor("MatMul of \(a) and \(b): inner extents \(sa[sa.count - 1]) and \(sb[sb.count - 2]) differ")
        }
        var shape = try Broadcast([Array(sa.dropLast(2)), Array(sb.dropLast(2))]).shape + [sa[sa.count - 2], sb[sb.count - 1]]
        if a.count == 1 { shape.remove(at: shape.count - 2) }
        if b.count == 1 { shape.removeLast() }
        return shape
    }
}
