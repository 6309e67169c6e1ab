import CStrataKernels
import Foundation
import StrataCore

/// Runs a model: feeds in, outputs out, every intermediate freed after its last use.
///
/// A session numbers the graph's values once, so a run is an array walk with no name
/// look-ups; each node's inputs that no later node reads are dropped as soon as the node
/// has run, so peak memory stays near the largest set of values alive at once.
public final class Session: @unchecked Sendable {
    /// The model run.
    public let model: Model
    /// Threads for the kernels (OpenBLAS's and Strata's own loops).
    public let threads: Int
    /// What graph preparation did: constant nodes folded, patterns fused, with counts.
    public let rewrites: [String: Int]
    /// Nodes a run executes (after folding and fusion).
    public var nodeCount: Int { steps.count }
    /// The input shapes the session was prepared for (given, or declared static); a run
    /// must feed exactly these.
    public let inputShapes: [String: [Int]]
    /// The shape of every value a run computes that follows from `inputShapes`, known
    /// before running (values whose shape depends on data computed at run time are absent).
    public let valueShapes: [String: [Int]]
    /// Whether each node's results are checked against `valueShapes` (for the tests: a
    /// wrong shape rule fails the run that reveals it, naming the node).
    var verifiesShapes = false
    /// The first node that cannot take the shapes its inputs will have (a run at
    /// `inputShapes` would fail there), or nil.
    public let shapeFailure: String?
    /// Replaces the inferred shape of `value` (for the test that the verification catches a wrong rule).
    func overrideShape(_ value: String, _ shape: [Int]) {
        for step in steps { if let k = step.node.outputs.firstIndex(of: value) { slotShapes[step.outputs[k]] = shape } }
    }
    /// The operator type of every node a run executes, in order (for the tests).
    var stepOperators: [String] { steps.map(\.node.opType) }
    /// Values a run computes, by name (for the tests: which of them have a known shape).
    var computedValues: [String] { steps.flatMap(\.node.outputs).filter { !$0.isEmpty } }

    /// One node as the run sees it: value slots in and out, and which inputs it is the last
    /// reader of.
    struct Step {
        var node: Node
        var label: String
        var op: Operator
        var attributes: Attributes
        var inputs: [Int?]
        var outputs: [Int]
        var release: [Int]
        /// For If: the surrounding values its branches read, by name.
        var scope: [String: Int] = [:]
        /// Inputs that are the model's constants, and what the node derives from them.
        var constantInputs: Set<Int> = []
        let memo = StepMemo()
    }

    private let steps: [Step]
    private let slotCount: Int
    /// `valueShapes` by slot.
    private var slotShapes: [[Int]?]
    /// Slots holding initializers (never released).
    private let constants: [(slot: Int, tensor: Tensor)]
    private let inputSlots: [String: Int]
    private let outputSlots: [(name: String, slot: Int)]
    private let lock = NSLock()
    private var peak = 0
    private var profile: [String: (seconds: Double, count: Int)] = [:]

    /// Whether runs time each node (per operator type, in `lastRunProfile`).
    public var profiling = false
    /// Whether the profile's rows also carry the shapes of each node's first two inputs
    /// (a row per distinct layer shape, to find the layers that run slowly).
    public var profilingShapes = false

    /// The profile's row for a node: its operator type, and for Conv the kind of kernel
    /// that runs it (depthwise, pointwise, k×k with its stride), which cost very differently.
    static func profileKey(_ op: String, _ context: OpContext) -> String {
        guard op == "Conv", context.inputs.count > 1, let x = context.inputs[0], let w = context.inputs[1], w.shape.count == 4 else { return op }
        let group = context.attributes.int("group", 1)
        let stride = context.attributes.ints("strides")?.first ?? 1
        let kernel = "\(w.shape[2])×\(w.shape[3])/\(stride)"
        if group > 1 && w.shape[1] == 1 && w.shape[0] == x.shape[1] { return "Conv depthwise \(kernel)" }
        if w.shape[2] == 1 && w.shape[3] == 1 && stride == 1 { return "Conv 1×1" }
        return "Conv \(kernel)"
    }

    /// Seconds spent per operator type in the last run (when `profiling`), with node counts.
    public var lastRunProfile: [String: (seconds: Double, count: Int)] { lock.withLock { profile } }

    /// The most bytes of activations (inputs, intermediates, outputs; not weights) the last
    /// run held at once: what the memory plan keeps small.
    public var lastRunPeakBytes: Int { lock.withLock { peak } }

    /// Prepares `model` to run on `threads` threads (nil: every core, or `Parallel.maxThreads`).
    ///
    /// `inputShapes` fixes the shape of inputs the model declares with symbolic extents (a
    /// dynamic height and width): every value's shape is then inferred, and what depends on
    /// shapes alone — the Shape → Gather → Concat chains of dynamic exports — is computed
    /// once here instead of in every run. Runs must then feed those shapes.
    ///
    /// `cubePadding` makes every padded Conv, MaxPool and AveragePool over a batch of cube
    /// faces pad from the neighbouring faces instead of zeros (``CubePadding``); it needs the
    /// input shapes known, declared or given here.
    public init(model: Model, threads: Int? = nil, inputShapes: [String: [Int]] = [:], cubePadding: CubePadding? = nil) throws {
        // Freed activations stay in the heap for the next node (8% of a Depth Anything run
        // went to `clear_page` before).
        FreedMemory.keep()
        self.model = model
        self.threads = max(1, threads ?? Parallel.threadCount)
        var slots: [String: Int] = [:]
        func slot(_ name: String) -> Int {
            if let s = slots[name] { return s }
            slots[name] = slots.count
            return slots.count - 1
        }
        for name in inputShapes.keys.sorted() where !model.inputs.contains(where: { $0.name == name }) {
            throw NNError.badInput("cannot fix the shape of \"\(name)\": the model has no such input (its inputs: \(model.inputs.map(\.name).joined(separator: ", ")))")
        }
        // In the model's order, so the input named in an error does not depend on hashing.
        for input in model.inputs {
            guard let shape = inputShapes[input.name] else { continue }
            let name = input.name
            let text = shape.map(String.init).joined(separator: "×")
            guard shape.allSatisfy({ $0 >= 0 }) else { throw NNError.badInput("input \"\(name)\" cannot be fixed at \(text): extents must not be negative") }
            if let declared = input.shape {
                let fits = declared.count == shape.count && zip(declared, shape).allSatisfy { $0 == nil || $0 == $1 }
                guard fits else {
                    let d = declared.map { $0.map(String.init) ?? "?" }.joined(separator: "×")
                    throw NNError.badInput("input \"\(name)\" is \(d), got \(text)")
                }
            }
        }
        let prepared = GraphPreparation(model: model, inputShapes: inputShapes, cubePadding: cubePadding)
        rewrites = prepared.counts
        var fixed: [String: [Int]] = [:]
        for input in model.inputs { fixed[input.name] = prepared.shapes[input.name] }
        self.inputShapes = fixed
        valueShapes = prepared.shapes
        shapeFailure = prepared.shapeFailure
        var constants: [(Int, Tensor)] = []
        for (name, tensor) in prepared.constants.sorted(by: { $0.key < $1.key }) { constants.append((slot(name), tensor)) }
        var inputSlots: [String: Int] = [:]
        for input in model.inputs { inputSlots[input.name] = slot(input.name) }
        var steps: [Step] = []
        var produced = Set(constants.map(\.0)).union(inputSlots.values)
        for (index, node) in prepared.nodes.enumerated() {
            guard let op = Operators.table[node.opType] else {
                throw NNError.unsupportedOperators(path: model.path, ["\(node.label(index)): \(node.opType) is not supported"])
            }
            let inputs: [Int?] = try node.inputs.map { name in
                if name.isEmpty { return nil }
                guard let s = slots[name], produced.contains(s) else {
                    throw NNError.invalidModel(path: model.path, "node \(node.label(index)) reads \"\(name)\", which nothing before it produces")
                }
                return s
            }
            // A branch's reads of surrounding values count as the node's inputs (for their lifetime).
            var scope: [String: Int] = [:]
            for attribute in node.attributes.values {
                guard case .graph(let branch) = attribute else { continue }
                for name in branch.outerNames {
                    guard let s = slots[name], produced.contains(s) else {
                        throw NNError.invalidModel(path: model.path, "a branch of node \(node.label(index)) reads \"\(name)\", which nothing before it produces")
                    }
                    scope[name] = s
                }
            }
            let outputs = node.outputs.map { $0.isEmpty ? -1 : slot($0) }
            produced.formUnion(outputs.filter { $0 >= 0 })
            steps.append(Step(node: node, label: node.label(index), op: op, attributes: Attributes(values: node.attributes),
                              inputs: inputs + scope.values.sorted().map { $0 }, outputs: outputs, release: [], scope: scope))
        }
        let outputSlots = try model.outputs.map { output -> (String, Int) in
            guard let s = slots[output.name], produced.contains(s) else {
                throw NNError.invalidModel(path: model.path, "output \"\(output.name)\" is never produced")
            }
            return (output.name, s)
        }
        let constantSlots = Set(constants.map(\.0))
        for i in steps.indices {
            steps[i].constantInputs = Set(steps[i].inputs.indices.filter { steps[i].inputs[$0].map(constantSlots.contains) ?? false })
        }
        // Each value dies after its last reader; graph outputs and constants never do.
        let keep = Set(outputSlots.map(\.1)).union(constants.map(\.0))
        var lastReader: [Int: Int] = [:]
        for (i, step) in steps.enumerated() {
            for s in step.inputs.compactMap({ $0 }) { lastReader[s] = i }
        }
        for (s, i) in lastReader where !keep.contains(s) { steps[i].release.append(s) }
        self.steps = steps
        self.slotCount = slots.count
        var slotShapes = [[Int]?](repeating: nil, count: slots.count)
        for (name, s) in slots { slotShapes[s] = prepared.shapes[name] }
        self.slotShapes = slotShapes
        self.constants = constants
        self.inputSlots = inputSlots
        self.outputSlots = outputSlots
    }

    /// Runs the model on `feeds` (every declared input, by name) and returns every output.
    public func run(_ feeds: [String: Tensor]) throws -> [String: Tensor] {
        try check(feeds)
        lock.lock()
        defer { lock.unlock() }
        let savedThreads = Parallel.maxThreads
        Parallel.maxThreads = threads
        defer { Parallel.maxThreads = savedThreads }
        var values = [Tensor?](repeating: nil, count: slotCount)
        for (s, tensor) in constants { values[s] = tensor }
        var live = 0, peak = 0
        var profile: [String: (seconds: Double, count: Int)] = [:]
        for (name, tensor) in feeds {
            if let s = inputSlots[name] {
                values[s] = tensor
                live += tensor.byteCount
            }
        }
        for step in steps {
            let context = OpContext(inputs: step.inputs.map { $0.flatMap { values[$0] } }, attributes: step.attributes,
                                    opset: model.opset, outputCount: step.outputs.count, memo: step.memo, constantInputs: step.constantInputs)
            // Released now so that a kernel holding the only reference may reuse the buffer;
            // counted until the node is done, since its context still holds them.
            var released = 0
            for s in step.release {
                released += values[s]?.byteCount ?? 0
                values[s] = nil
            }
            let results: [Tensor]
            let started = profiling ? DispatchTime.now().uptimeNanoseconds : 0
            defer {
                if profiling {
                    let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
                    var key = Session.profileKey(step.node.opType, context)
                    if profilingShapes { key += " " + context.inputs.prefix(2).map { $0.map { "\($0.shape)" } ?? "-" }.joined(separator: " ") }
                    profile[key, default: (0, 0)].seconds += seconds
                    profile[key, default: (0, 0)].count += 1
                }
            }
            do {
                if step.scope.isEmpty && step.node.opType != "If" {
                    results = try step.op.run(context)
                } else {
                    var outer: [String: Tensor] = [:]
                    for (name, s) in step.scope { outer[name] = context.inputs[step.inputs.firstIndex(of: s)!] }
                    results = try Session.runIf(context, outer: outer, opset: model.opset)
                }
            } catch let error as NNError {
                throw NNError.nodeFailed(node: step.label, op: step.node.opType, error.description)
            }
            guard results.count >= step.outputs.filter({ $0 >= 0 }).count else {
                throw NNError.nodeFailed(node: step.label, op: step.node.opType, "produced \(results.count) outputs, \(step.outputs.count) named")
            }
            for (s, result) in zip(step.outputs, results) where s >= 0 {
                if verifiesShapes, let inferred = slotShapes[s], inferred != result.shape {
                    throw NNError.nodeFailed(node: step.label, op: step.node.opType, "made \(result.shape) where shape inference said \(inferred)")
                }
                values[s] = result
                live += result.byteCount
            }
            peak = max(peak, live)
            live -= released
        }
        self.peak = peak
        self.profile = profile
        var outputs: [String: Tensor] = [:]
        for (name, s) in outputSlots { outputs[name] = values[s] }
        return outputs
    }

    /// If: the branch the condition picks, run by name over the surrounding values.
    static func runIf(_ c: OpContext, outer: [String: Tensor], opset: Int) throws -> [Tensor] {
        let condition = try c.input(0)
        guard condition.count == 1, let flag = condition.bools?.first ?? condition.int64s.map({ $0[0] != 0 }) else {
            throw NNError.invalidTensor("If's condition must be one bool, got \(condition.dataType) \(condition.shape)")
        }
        guard let branch = c.attributes.graph(flag ? "then_branch" : "else_branch") else { throw NNError.invalidTensor("If without both branches") }
        return try evaluate(branch, outer: outer, opset: opset)
    }

    /// Runs a subgraph with a name-keyed environment (branches are a few nodes).
    static func evaluate(_ graph: Graph, outer: [String: Tensor], opset: Int) throws -> [Tensor] {
        var env = outer.merging(graph.initializers) { _, inner in inner }
        for node in graph.nodes {
            guard let op = Operators.table[node.opType] else { throw NNError.invalidTensor("\(node.opType) is not supported") }
            let inputs: [Tensor?] = try node.inputs.map { name in
                if name.isEmpty { return nil }
                guard let t = env[name] else { throw NNError.invalidTensor("a branch reads \"\(name)\", which is not defined") }
                return t
            }
            let context = OpContext(inputs: inputs, attributes: Attributes(values: node.attributes), opset: opset, outputCount: node.outputs.count)
            let results: [Tensor]
            if node.opType == "If" {
                var scope: [String: Tensor] = [:]
                for attribute in node.attributes.values {
                    if case .graph(let inner) = attribute { for name in inner.outerNames { scope[name] = env[name] } }
                }
                results = try runIf(context, outer: scope, opset: opset)
            } else {
                results = try op.run(context)
            }
            for (name, result) in zip(node.outputs, results) where !name.isEmpty { env[name] = result }
        }
        return try graph.outputs.map { name in
            guard let t = env[name] else { throw NNError.invalidTensor("a branch does not produce its output \"\(name)\"") }
            return t
        }
    }

    /// Every declared input given, nothing else, with the declared type, rank and fixed extents.
    func check(_ feeds: [String: Tensor]) throws {
        for name in feeds.keys where inputSlots[name] == nil {
            throw NNError.badInput("the model has no input \"\(name)\" (its inputs: \(model.inputs.map(\.name).joined(separator: ", ")))")
        }
        for input in model.inputs {
            guard let tensor = feeds[input.name] else { throw NNError.badInput("input \"\(input.name)\" is missing") }
            if let type = input.dataType, type != tensor.dataType {
                throw NNError.badInput("input \"\(input.name)\" is \(type), got \(tensor.dataType)")
            }
            if let fixed = inputShapes[input.name], fixed != tensor.shape, input.shape?.contains(where: { $0 == nil }) ?? true {
                throw NNError.badInput("input \"\(input.name)\" was fixed at \(fixed.map(String.init).joined(separator: "×")) when the session was prepared, "
                                       + "got \(tensor.shape.map(String.init).joined(separator: "×"))")
            }
            if let shape = input.shape {
                let fits = shape.count == tensor.rank && zip(shape, tensor.shape).allSatisfy { $0 == nil || $0 == $1 }
                guard fits else {
                    let declared = shape.map { $0.map(String.init) ?? "?" }.joined(separator: "×")
                    throw NNError.badInput("input \"\(input.name)\" is \(declared), got \(tensor.shape.map(String.init).joined(separator: "×"))")
                }
            }
        }
    }
}
