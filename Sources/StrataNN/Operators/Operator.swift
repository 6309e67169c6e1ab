import Foundation

/// What one node of a session keeps between runs: values derived from its constant inputs
/// (a convolution's weights transformed for its kernel), built on the first run that needs
/// them. Transforming Winograd weights on every run was serial work of ~0.2 ms per layer.
final class StepMemo: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [String: Any] = [:]

    /// The value kept under `key`, built by `build` the first time.
    func value<T>(_ key: String, _ build: () -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        if let kept = values[key] as? T { return kept }
        let built = build()
        values[key] = built
        return built
    }
}

/// What a kernel gets: its node's inputs (nil for an omitted optional one), attributes
/// and the model's opset.
struct OpContext {
    let inputs: [Tensor?]
    let attributes: Attributes
    let opset: Int
    /// How many outputs the node names (optional trailing outputs may be left off).
    var outputCount = 1
    /// What the node keeps between a session's runs, and which of its inputs are the
    /// model's constants (so that what is derived from them may be kept).
    var memo: StepMemo? = nil
    var constantInputs: Set<Int> = []

    /// The node's memo, where input `i` is a constant of the model (nil otherwise, or
    /// outside a session): values derived from that input alone may be kept in it.
    func memo(derivedFrom i: Int) -> StepMemo? { constantInputs.contains(i) ? memo : nil }

    /// Required input `i`.
    func input(_ i: Int) throws -> Tensor {
        guard i < inputs.count, let tensor = inputs[i] else { throw NNError.invalidTensor("input \(i) is missing") }
        return tensor
    }

    /// Optional input `i`.
    func optional(_ i: Int) -> Tensor? { i < inputs.count ? inputs[i] : nil }

    /// Required float input `i`.
    func floats(_ i: Int) throws -> (shape: [Int], values: [Float]) {
        let t = try input(i)
        guard let values = t.floats else { throw NNError.invalidTensor("input \(i) is \(t.dataType), float expected") }
        return (t.shape, values)
    }

    /// An int64 input's values as Ints (shapes, axes, indices).
    func ints(_ i: Int) throws -> [Int] {
        let t = try input(i)
        guard let values = t.int64s else { throw NNError.invalidTensor("input \(i) is \(t.dataType), int64 expected") }
        return values.map { Int($0) }
    }
}

/// What load-time checks know of a graph: its opset and the ranks declared for values
/// (initializers, graph inputs, value_info).
struct LoadContext {
    let opset: Int
    let ranks: [String: Int]

    /// The declared rank of a node's input `i`, when known.
    func rank(_ node: Node, input i: Int) -> Int? { i < node.inputs.count ? ranks[node.inputs[i]] : nil }
}

/// An ONNX operator: which uses of it the engine runs, and the kernel.
struct Operator: Sendable {
    /// Why a node cannot run (an attribute value, an element type, a missing feature), or nil.
    var check: @Sendable (Node, LoadContext) -> String? = { _, _ in nil }
    /// The kernel.
    var run: @Sendable (OpContext) throws -> [Tensor]
}

/// The operator registry, keyed by ONNX op type.
enum Operators {
    static let table: [String: Operator] = {
        var table: [String: Operator] = [:]
        Elementwise.register(&table)
        ShapeOps.register(&table)
        IndexingOps.register(&table)
        ReduceOps.register(&table)
        LinearOps.register(&table)
        ConvOps.register(&table)
        PoolOps.register(&table)
        NormOps.register(&table)
        ResizeOps.register(&table)
        ControlOps.register(&table)
        AttentionOps.register(&table)
        CubePadOps.register(&table)
        return table
    }()

    /// Why `node` cannot run, or nil when it can.
    static func problem(with node: Node, context: LoadContext) -> String? {
        guard node.domain.isEmpty || node.domain == "ai.onnx" else { return "\(node.opType) of domain \(node.domain) is not supported" }
        guard let op = table[node.opType] else { return "\(node.opType) is not supported" }
        return op.check(node, context)
    }

    /// The sorted names of the supported operator types.
    static var supported: [String] { table.keys.filter { !$0.hasPrefix("strata.") }.sorted() }
}

/// Normalises a possibly negative axis against `rank`.
func normalizedAxis(_ axis: Int, rank: Int) throws -> Int {
    let a = axis < 0 ? axis + rank : axis
    guard a >= 0 && a < max(rank, 1) else { throw NNError.invalidTensor("axis \(axis) out of range for rank \(rank)") }
    return a
}
