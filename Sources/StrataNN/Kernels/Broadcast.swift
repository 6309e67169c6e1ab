import StrataCore

/// NumPy-style broadcasting of two or three operands: the output shape, and a walk over
/// the output in contiguous runs with each operand's offset and step (0 or 1) per run.
struct Broadcast {
    /// The output shape.
    let shape: [Int]
    /// Elements in the output.
    let count: Int
    /// The innermost run: how many output elements share one stride pattern.
    let run: Int
    /// Per operand, its step inside a run (1 or 0).
    let steps: [Int]
    /// Outer axes (after merging), their extents and each operand's strides over them.
    private let outer: [Int]
    private let outerStrides: [[Int]]

    /// Broadcasts `shapes` together, or throws naming the axis that does not fit.
    init(_ shapes: [[Int]]) throws {
        let rank = shapes.map(\.count).max() ?? 0
        let padded = shapes.map { [Int](repeating: 1, count: rank - $0.count) + $0 }
        var shape = [Int](repeating: 1, count: rank)
        for axis in 0..<rank {
            for s in padded where s[axis] != 1 {
                if shape[axis] == 1 { shape[axis] = s[axis] } else if shape[axis] != s[axis] {
                    throw NNError.invalidTensor("shapes \(shapes.map { "\($0)" }.joined(separator: " and ")) do not broadcast (axis \(axis))")
                }
            }
        }
        self.shape = shape
        count = shape.reduce(1, *)
        // Each operand's element strides, 0 along broadcast axes.
        let strides = padded.map { s -> [Int] in
            let own = Tensor.strides(s)
            return (0..<rank).map { s[$0] == 1 && shape[$0] != 1 ? 0 : own[$0] }
        }
        // Merge neighbouring axes where every operand steps through them as one axis.
        var axes: [(extent: Int, strides: [Int])] = []
        for axis in 0..<rank where shape[axis] != 1 {
            let here = strides.map { $0[axis] }
            if let last = axes.last, zip(last.strides, here).allSatisfy({ $0 == $1 * shape[axis] }) {
                axes[axes.count - 1] = (last.extent * shape[axis], here)
            } else {
                axes.append((shape[axis], here))
            }
        }
        if let inner = axes.last, inner.strides.allSatisfy({ $0 <= 1 }) {
            run = inner.extent
            steps = inner.strides
            axes.removeLast()
        } else {
            run = 1
            steps = [Int](repeating: 0, count: shapes.count)
        }
        outer = axes.map(\.extent)
        outerStrides = (0..<shapes.count).map { k in axes.map { $0.strides[k] } }
    }

    /// How many runs cover the output.
    var runCount: Int { outer.reduce(1, *) }

    /// Calls `body(outputStart, operandOffsets)` for every run in output order.
    @inline(__always)
    func forEachRun(_ body: (Int, [Int]) -> Void) { forEachRun(in: 0..<runCount, body) }

    /// Calls `body(outputStart, operandOffsets)` for the runs `runs`, in order.
    @inline(__always)
    func forEachRun(in runs: Range<Int>, _ body: (Int, [Int]) -> Void) {
        // The odometer starts at the first run's coordinate.
        var index = [Int](repeating: 0, count: outer.count)
        var rest = runs.lowerBound
        for axis in stride(from: outer.count - 1, through: 0, by: -1) {
            index[axis] = rest % outer[axis]
            rest /= outer[axis]
        }
        var offsets = (0..<steps.count).map { k in zip(index, outerStrides[k]).reduce(0) { $0 + $1.0 * $1.1 } }
        for r in runs {
            body(r * run, offsets)
            // Advance the odometer over the outer axes.
            var axis = outer.count - 1
            while axis >= 0 {
                index[axis] += 1
                for k in offsets.indices { offsets[k] += outerStrides[k][axis] }
                if index[axis] < outer[axis] { break }
                for k in offsets.indices { offsets[k] -= outerStrides[k][axis] * outer[axis] }
                index[axis] = 0
                axis -= 1
            }
        }
    }

    /// Every element's operand indices, for small or irregular work (int64, bool).
    func indices() -> [[Int]] {
        var result = [[Int]](repeating: [Int](repeating: 0, count: count), count: steps.count)
        forEachRun { start, offsets in
            for k in offsets.indices {
                for j in 0..<run { result[k][start + j] = offsets[k] + j * steps[k] }
            }
        }
        return result
    }
}

/// A float operation of two operands as a type, so that a loop over it is compiled for
/// each operation. A closure literal does not inline into the loop: the loop runs in the
/// closure a parallel band is, which reaches `op` through its context, and a call per
/// element ran Add at 3.6 ns an element (onnxruntime: 0.2).
protocol FloatBinaryOperation {
    func callAsFunction(_ a: Float, _ b: Float) -> Float
}

/// The arithmetic of Add, Sub, Mul, Div, Max and Min.
struct FloatAdd: FloatBinaryOperation { @inline(__always) func callAsFunction(_ a: Float, _ b: Float) -> Float { a + b } }
struct FloatSubtract: FloatBinaryOperation { @inline(__always) func callAsFunction(_ a: Float, _ b: Float) -> Float { a - b } }
struct FloatMultiply: FloatBinaryOperation { @inline(__always) func callAsFunction(_ a: Float, _ b: Float) -> Float { a * b } }
struct FloatDivide: FloatBinaryOperation { @inline(__always) func callAsFunction(_ a: Float, _ b: Float) -> Float { a / b } }
struct FloatMaximum: FloatBinaryOperation { @inline(__always) func callAsFunction(_ a: Float, _ b: Float) -> Float { Swift.max(a, b) } }
struct FloatMinimum: FloatBinaryOperation { @inline(__always) func callAsFunction(_ a: Float, _ b: Float) -> Float { Swift.min(a, b) } }

/// Any other operation, from a closure (called per element).
struct FloatClosure: FloatBinaryOperation {
    let body: (Float, Float) -> Float
    func callAsFunction(_ a: Float, _ b: Float) -> Float { body(a, b) }
}

/// A float operation of one operand as a type (see `FloatBinaryOperation`).
protocol FloatUnaryOperation {
    func callAsFunction(_ x: Float) -> Float
}

/// Relu, the one activation the networks leave unfused in places.
struct FloatRelu: FloatUnaryOperation, Sendable { @inline(__always) func callAsFunction(_ x: Float) -> Float { x < 0 ? 0 : x } }

/// Any other operation, from a closure (called per element).
struct FloatUnaryClosure: FloatUnaryOperation, @unchecked Sendable {
    let body: (Float) -> Float
    func callAsFunction(_ x: Float) -> Float { body(x) }
}

/// Applies `op` elementwise over two broadcast float arrays, for the rarer operators that
/// are a closure (Pow, PRelu).
func broadcastFloats(_ a: [Float], _ b: [Float], _ plan: Broadcast, _ op: @escaping (Float, Float) -> Float) -> [Float] {
    broadcastFloats(a, b, plan, FloatClosure(body: op))
}

/// Applies `op` elementwise over two broadcast float arrays; the runs go through tight loops
/// (same-shape, scalar and per-row cases all become runs with steps 1 or 0), on several
/// cores for large outputs.
func broadcastFloats<Operation: FloatBinaryOperation>(_ a: [Float], _ b: [Float], _ plan: Broadcast, _ op: Operation) -> [Float] {
    [Float](largeCount: plan.count) { out in
        guard plan.count > 0 else { return }
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                let (sa, sb, run) = (plan.steps[0], plan.steps[1], plan.run)
                let (po, px, py) = (UncheckedSendable(out.baseAddress!), UncheckedSendable(pa.baseAddress!), UncheckedSendable(pb.baseAddress!))
                let operation = UncheckedSendable(op)
                Parallel.forEachBand(plan.runCount, minimumBand: max(1, (1 << 15) / max(1, run))) { runs in
                    let op = operation.value
                    plan.forEachRun(in: runs) { start, offsets in
                        let o = po.value + start
                        let x = px.value + offsets[0], y = py.value + offsets[1]
                        switch (sa, sb) {
                        case (1, 1): for j in 0..<run { o[j] = op(x[j], y[j]) }
                        case (1, 0): let v = y[0]; for j in 0..<run { o[j] = op(x[j], v) }
                        case (0, 1): let v = x[0]; for j in 0..<run { o[j] = op(v, y[j]) }
                        default: let v = op(x[0], y[0]); for j in 0..<run { o[j] = v }
                        }
                    }
                }
            }
        }
    }
}
