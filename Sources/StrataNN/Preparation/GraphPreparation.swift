import Foundation

/// What a session runs instead of the file's graph: constant subgraphs computed once, and
/// the patterns exporters repeat fused into single kernels.
///
/// - Shape inference (`ShapeInference`): from the input shapes — declared, or fixed by the
///   caller for a dynamic export — every value's shape, operator by operator.
/// - Constant folding: a node whose inputs are all constants runs at load, and a Shape or
///   Size of a value whose shape is known is a constant (so the Shape → Gather → Unsqueeze →
///   Concat → Reshape chains of dynamic exports fold away, as do Cast and Reshape of weights
///   and position-embedding resizes).
/// - Conv + BatchNormalization: the normalization folded into the weights and bias.
/// - Conv + Relu / Clip: the activation applied as the convolution writes its output.
/// - Conv + Add of a tensor of the output's shape (the residual of MBConv blocks and of
///   DPT's fusion units): added as the convolution writes its output.
/// - MatMul + Add of a constant row vector: the bias added as the product is finished.
/// - GELU as older exports spell it (Div by √2, Erf, Add 1, Mul, Mul 0.5): one Gelu.
/// - LayerNorm as exports before opset 17 spell it (ReduceMean, Sub, Pow 2, ReduceMean,
///   Add ε, Sqrt, Div, Mul γ, Add β): one LayerNormalization.
/// - MatMul → Softmax → MatMul: one attention kernel, with Q's constant scale and K's
///   transpose taken in.
struct GraphPreparation {
    var nodes: [Node]
    var constants: [String: Tensor]
    /// Values the caller sees: never fused away.
    let outputs: Set<String>
    let opset: Int
    /// What each rewrite did, for `strata nn info` and the tests.
    var counts: [String: Int] = [:]
    /// The shape of every non-constant value that follows from the input shapes.
    var shapes: [String: [Int]] = [:]
    /// The first node whose input shapes its operator cannot take (it would fail when run).
    private(set) var shapeFailure: String?

    /// Prepares `model`'s graph; `inputShapes` gives the inputs' full shapes (a declared
    /// static shape is used for an input it does not name).
    init(model: Model, inputShapes: [String: [Int]] = [:], cubePadding: CubePadding? = nil) {
        nodes = model.nodes
        constants = model.initializers
        outputs = Set(model.outputs.map(\.name))
        opset = model.opset
        for input in model.inputs {
            if let given = inputShapes[input.name] {
                shapes[input.name] = given
            } else if let declared = input.shape, declared.allSatisfy({ $0 != nil }) {
                shapes[input.name] = declared.map { $0! }
            }
        }
        foldConstants()
        fuseConvBatchNorm()
        fuseConvActivation()
        fuseConvResidual()
        fuseMatMulBias()
        fuseGelu()
        fuseLayerNorm()
        fuseAttention()
        if let cubePadding { padFromNeighbourFaces(cubePadding) }
    }

    // MARK: Bookkeeping

    /// How many nodes read each value (graph outputs count as a reader).
    private func readers() -> [String: Int] {
        var count: [String: Int] = [:]
        for node in nodes {
            for name in node.inputs where !name.isEmpty { count[name, default: 0] += 1 }
            for attribute in node.attributes.values {
                if case .graph(let g) = attribute { for name in g.outerNames { count[name, default: 0] += 1 } }
            }
        }
        for name in outputs { count[name, default: 0] += 1 }
        return count
    }

    /// The node producing each value.
    private func producers() -> [String: Int] {
        var map: [String: Int] = [:]
        for (i, node) in nodes.enumerated() { for name in node.outputs where !name.isEmpty { map[name] = i } }
        return map
    }

    mutating func record(_ rewrite: String) { counts[rewrite, default: 0] += 1 }

    // MARK: Constant folding

    /// Operators whose result depends only on their inputs (not random, not stateful).
    private static let unfoldable: Set<String> = ["If", "RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike", "Bernoulli", "Multinomial"]

    mutating func foldConstants() {
        var kept: [Node] = []
        var pending = nodes
        var next = 0
        while next < pending.count {
            let node = pending[next]
            next += 1
            if let branch = takenBranch(node) {
                pending.insert(contentsOf: branch, at: next)
                record("If on a known condition inlined")
                continue
            }
            let inputs = node.inputs.map { $0.isEmpty ? nil : constants[$0] }
            let context = OpContext(inputs: inputs, attributes: Attributes(values: node.attributes), opset: opset, outputCount: node.outputs.count)
            let known = zip(node.inputs, inputs).allSatisfy { $0.0.isEmpty || $0.1 != nil }
            let producesOutput = node.outputs.contains { outputs.contains($0) }
            if known, !Self.unfoldable.contains(node.opType), let op = Operators.table[node.opType], !producesOutput,
               // A node that fails here will fail at run time too, with its name: leave it.
               let results = try? op.run(context), results.count >= node.outputs.filter({ !$0.isEmpty }).count {
                for (name, value) in zip(node.outputs, results) where !name.isEmpty { constants[name] = value }
                record("constant nodes folded")
                continue
            }
            let shapes = node.inputs.map { constants[$0]?.shape ?? self.shapes[$0] }
            // The extents of a value whose shape is known are a constant.
            if !producesOutput, (node.opType == "Shape" || node.opType == "Size"), let shape = shapes.first ?? nil {
                constants[node.outputs[0]] = node.opType == "Shape" ? ShapeOps.shapeValue(shape, context.attributes)
                                                                    : Tensor(shape: [], int64: [Int64(shape.reduce(1, *))])
                record("shapes of known values folded")
                continue
            }
            // A node whose shapes do not fit fails at run time, with its name; here its outputs
            // stay unknown and the first such node is remembered for `strata nn info`.
            do {
                if let inferred = try ShapeInference.outputShapes(node, shapes: shapes, context: context) {
                    for (name, shape) in zip(node.outputs, inferred) where !name.isEmpty { self.shapes[name] = shape }
                }
            } catch {
                if shapeFailure == nil { shapeFailure = "node \"\(node.name.isEmpty ? node.opType : node.name)\" (\(node.opType)): \(error)" }
            }
            kept.append(node)
        }
        nodes = kept
    }

    /// The nodes of the branch an If takes when its condition is a constant (the exporters'
    /// "squeeze the channel if there is one" on a known shape), its own values renamed under
    /// the If's first output and its results passed on by Identity; nil for any other node.
    private mutating func takenBranch(_ node: Node) -> [Node]? {
        guard node.opType == "If", let condition = node.inputs.first.flatMap({ constants[$0] }), condition.count == 1,
              let flag = condition.bools?.first ?? condition.int64s.map({ $0[0] != 0 }),
              case .graph(let branch)? = node.attributes[flag ? "then_branch" : "else_branch"],
              branch.outputs.count == node.outputs.count,
              // A nested subgraph would read the renamed values by their old names: kept as it is.
              !branch.nodes.contains(where: { $0.attributes.values.contains { if case .graph = $0 { true } else { false } } }) else { return nil }
        let prefix = "\(node.outputs[0])::\(flag ? "then" : "else")::"
        let defined = Set(branch.initializers.keys).union(branch.nodes.flatMap(\.outputs).filter { !$0.isEmpty })
        func renamed(_ name: String) -> String { defined.contains(name) ? prefix + name : name }
        for (name, tensor) in branch.initializers { constants[prefix + name] = tensor }
        var inlined = branch.nodes.map { inner in
            var copy = inner
            copy.inputs = inner.inputs.map(renamed)
            copy.outputs = inner.outputs.map { $0.isEmpty ? $0 : renamed($0) }
            return copy
        }
        for (result, output) in zip(branch.outputs, node.outputs) where !output.isEmpty {
            inlined.append(Node(name: "\(node.name)::\(output)", opType: "Identity", domain: "", inputs: [renamed(result)], outputs: [output], attributes: [:]))
        }
        return inlined
    }

    // MARK: Fusions

    /// The single node reading `value`, if exactly one does and it is not a graph output.
    private func soleReader(of value: String, _ readers: [String: Int]) -> Int? {
        guard readers[value] == 1, !outputs.contains(value) else { return nil }
        return nodes.firstIndex { $0.inputs.contains(value) }
    }

    mutating func fuseConvBatchNorm() {
        var i = 0
        while i < nodes.count {
            defer { i += 1 }
            let conv = nodes[i]
            guard conv.opType == "Conv", conv.inputs.count >= 2, let w = constants[conv.inputs[1]], let weights = w.floats,
                  conv.inputs.count < 3 || constants[conv.inputs[2]] != nil,
                  let j = soleReader(of: conv.outputs[0], readers()), nodes[j].opType == "BatchNormalization",
                  nodes[j].inputs.count == 5, nodes[j].outputs.count == 1 || nodes[j].outputs.dropFirst().allSatisfy(\.isEmpty),
                  let scale = constants[nodes[j].inputs[1]]?.floats, let shift = constants[nodes[j].inputs[2]]?.floats,
                  let mean = constants[nodes[j].inputs[3]]?.floats, let variance = constants[nodes[j].inputs[4]]?.floats,
                  let (multiplier, offset) = try? NormOps.batchNormAffine(scale: scale, bias: shift, mean: mean, variance: variance,
                                                                           epsilon: Attributes(values: nodes[j].attributes).float("epsilon", 1e-5)),
                  multiplier.count == w.shape[0] else { continue }
            let perChannel = weights.count / w.shape[0]
            let folded = weights.enumerated().map { $0.element * multiplier[$0.offset / perChannel] }
            let bias = conv.inputs.count >= 3 ? constants[conv.inputs[2]]!.floats! : [Float](repeating: 0, count: multiplier.count)
            let foldedBias = (0..<multiplier.count).map { bias[$0] * multiplier[$0] + offset[$0] }
            let wName = conv.outputs[0] + "::weight", bName = conv.outputs[0] + "::bias"
            constants[wName] = Tensor(shape: w.shape, floats: folded)
            constants[bName] = Tensor(shape: [multiplier.count], floats: foldedBias)
            var fused = conv
            fused.inputs = [conv.inputs[0], wName, bName]
            fused.outputs = [nodes[j].outputs[0]]
            nodes[i] = fused
            nodes.remove(at: j)
            record("Conv + BatchNormalization")
        }
    }

    mutating func fuseConvActivation() {
        var i = 0
        while i < nodes.count {
            defer { i += 1 }
            guard nodes[i].opType == "Conv", nodes[i].attributes["strata.activation"] == nil,
                  let j = soleReader(of: nodes[i].outputs[0], readers()) else { continue }
            let next = nodes[j]
            var activation: [Float]?  // [] relu, [lo, hi] clip
            switch next.opType {
            case "Relu": activation = []
            case "Clip":
                if opset < 11 {
                    let a = Attributes(values: next.attributes)
                    activation = [a.float("min", -.greatestFiniteMagnitude), a.float("max", .greatestFiniteMagnitude)]
                } else {
                    let lo = next.inputs.count > 1 && !next.inputs[1].isEmpty ? constants[next.inputs[1]]?.floats?.first : -.greatestFiniteMagnitude
                    let hi = next.inputs.count > 2 && !next.inputs[2].isEmpty ? constants[next.inputs[2]]?.floats?.first : .greatestFiniteMagnitude
                    if let lo, let hi { activation = [lo, hi] }
                }
            default: break
            }
            guard let activation else { continue }
            var fused = nodes[i]
            fused.attributes["strata.activation"] = .floats(activation)
            fused.outputs = next.outputs
            nodes[i] = fused
            nodes.remove(at: j)
            record("Conv + \(next.opType)")
        }
    }

    mutating func fuseConvResidual() {
        var i = 0
        while i < nodes.count {
            defer { i += 1 }
            let conv = nodes[i]
            guard conv.opType == "Conv", conv.attributes["strata.residual"] == nil, conv.inputs.count <= 3,
                  let j = soleReader(of: conv.outputs[0], readers()), nodes[j].opType == "Add",
                  let other = other(nodes[j], than: conv.outputs[0]), other != conv.outputs[0], constants[other] == nil,
                  // Only where both shapes are known and equal: no broadcasting into the output.
                  let shape = shapes[conv.outputs[0]], shapes[other] == shape else { continue }
            var fused = conv
            fused.inputs = (conv.inputs + ["", ""]).prefix(3) + [other]
            fused.attributes["strata.residual"] = .int(1)
            fused.outputs = nodes[j].outputs
            // The fused node stands where the Add was: the residual may be computed after the convolution.
            nodes[j] = fused
            nodes.remove(at: i)
            i -= 1
            record("Conv + Add")
        }
    }

    mutating func fuseMatMulBias() {
        var i = 0
        while i < nodes.count {
            defer { i += 1 }
            let matmul = nodes[i]
            guard matmul.opType == "MatMul", matmul.inputs.count == 2, let b = constants[matmul.inputs[1]], b.rank == 2,
                  let j = soleReader(of: matmul.outputs[0], readers()), nodes[j].opType == "Add" else { continue }
            let add = nodes[j]
            let other = add.inputs[0] == matmul.outputs[0] ? add.inputs[1] : add.inputs[0]
            guard let bias = constants[other], bias.floats != nil, bias.count == b.shape[1], bias.shape.dropLast().allSatisfy({ $0 == 1 }),
                  bias.rank <= 1 else { continue }
            var fused = matmul
            fused.inputs = matmul.inputs + [other]
            fused.outputs = add.outputs
            nodes[i] = fused
            nodes.remove(at: j)
            record("MatMul + Add")
        }
    }

    /// The scalar value of a constant input, if it is one.
    private func scalar(_ name: String) -> Float? {
        guard let t = constants[name], t.count == 1 else { return nil }
        return t.floats?.first ?? t.int64s.map { Float($0[0]) }
    }

    /// The other operand of a binary node whose one operand is `value`.
    private func other(_ node: Node, than value: String) -> String? {
        guard node.inputs.count == 2 else { return nil }
        if node.inputs[0] == value { return node.inputs[1] }
        if node.inputs[1] == value { return node.inputs[0] }
        return nil
    }

    mutating func fuseGelu() {
        var i = 0
        while i < nodes.count {
            defer { i += 1 }
            // Div(x, √2) or Mul(x, 1/√2) → Erf → Add 1 → Mul x → Mul 0.5 (either Mul first).
            let first = nodes[i]
            let x = first.inputs.first ?? ""
            guard first.inputs.count == 2, let c = scalar(first.inputs[1]),
                  (first.opType == "Div" && abs(c - 1.41421356) < 1e-4) || (first.opType == "Mul" && abs(c - 0.70710678) < 1e-4) else { continue }
            let r = readers()
            guard let e = soleReader(of: first.outputs[0], r), nodes[e].opType == "Erf",
                  let a = soleReader(of: nodes[e].outputs[0], r), nodes[a].opType == "Add",
                  let one = other(nodes[a], than: nodes[e].outputs[0]), scalar(one) == 1,
                  let m1 = soleReader(of: nodes[a].outputs[0], r), nodes[m1].opType == "Mul" else { continue }
            // The other factor of the first Mul: x itself ((x · (1 + erf)) · 0.5), or x · 0.5
            // computed by its own Mul ((x · 0.5) · (1 + erf)).
            var remove: Set<Int> = [e, a, m1]
            var last = m1
            if other(nodes[m1], than: nodes[a].outputs[0]) == x {
                guard let m2 = soleReader(of: nodes[m1].outputs[0], r), nodes[m2].opType == "Mul",
                      let half = other(nodes[m2], than: nodes[m1].outputs[0]), scalar(half) == 0.5 else { continue }
                last = m2
                remove.insert(m2)
            } else {
                guard let halfX = other(nodes[m1], than: nodes[a].outputs[0]), r[halfX] == 1, let h = producers()[halfX],
                      nodes[h].opType == "Mul", other(nodes[h], than: x).flatMap(scalar) == 0.5 else { continue }
                remove.insert(h)
            }
            let gelu = Node(name: first.name, opType: "Gelu", domain: "", inputs: [x], outputs: nodes[last].outputs, attributes: [:])
            nodes[i] = gelu
            nodes = nodes.enumerated().filter { !remove.contains($0.offset) }.map(\.element)
            // Removed nodes before i shift it left; the loop's increment must not skip one.
            i -= remove.filter { $0 < i }.count
            record("GELU pattern")
        }
    }

    mutating func fuseLayerNorm() {
        var i = 0
        while i < nodes.count {
            defer { i += 1 }
            let mean = nodes[i]
            guard mean.opType == "ReduceMean", lastAxisOnly(mean) else { continue }
            let x = mean.inputs[0]
            let r = readers()
            // Sub(x, mean) read by Pow and by Div.
            guard let s = nodes.firstIndex(where: { $0.opType == "Sub" && $0.inputs == [x, mean.outputs[0]] }), r[mean.outputs[0]] == 1,
                  r[nodes[s].outputs[0]] == 2, !outputs.contains(nodes[s].outputs[0]) else { continue }
            let d = nodes[s].outputs[0]
            guard let p = nodes.firstIndex(where: { $0.opType == "Pow" && $0.inputs.first == d }), scalar(nodes[p].inputs[1]) == 2,
                  let v = soleReader(of: nodes[p].outputs[0], r), nodes[v].opType == "ReduceMean", lastAxisOnly(nodes[v]),
                  let ae = soleReader(of: nodes[v].outputs[0], r), nodes[ae].opType == "Add",
                  let epsName = other(nodes[ae], than: nodes[v].outputs[0]), let epsilon = scalar(epsName),
                  let q = soleReader(of: nodes[ae].outputs[0], r), nodes[q].opType == "Sqrt",
                  let dv = soleReader(of: nodes[q].outputs[0], r), nodes[dv].opType == "Div", nodes[dv].inputs == [d, nodes[q].outputs[0]],
                  let mg = soleReader(of: nodes[dv].outputs[0], r), nodes[mg].opType == "Mul",
                  let gamma = other(nodes[mg], than: nodes[dv].outputs[0]), constants[gamma]?.rank == 1,
                  let ab = soleReader(of: nodes[mg].outputs[0], r), nodes[ab].opType == "Add",
                  let beta = other(nodes[ab], than: nodes[mg].outputs[0]), constants[beta]?.rank == 1 else { continue }
            let layerNorm = Node(name: mean.name, opType: "LayerNormalization", domain: "", inputs: [x, gamma, beta], outputs: nodes[ab].outputs,
                                 attributes: ["axis": .int(-1), "epsilon": .float(epsilon)])
            let remove = Set([s, p, v, ae, q, dv, mg, ab])
            nodes[i] = layerNorm
            nodes = nodes.enumerated().filter { !remove.contains($0.offset) }.map(\.element)
            record("LayerNorm pattern")
        }
    }

    /// A ReduceMean over the last axis only, keeping it.
    private func lastAxisOnly(_ node: Node) -> Bool {
        let a = Attributes(values: node.attributes)
        guard a.int("keepdims", 1) == 1 else { return false }
        let axes = node.inputs.count > 1 && !node.inputs[1].isEmpty ? constants[node.inputs[1]]?.int64s.map { $0.map(Int.init) } : a.ints("axes")
        return axes == [-1]
    }

    /// MatMul → Softmax → MatMul, the attention of every transformer block: one kernel that
    /// keeps each block of scores in cache (`AttentionOps`). The softmax's axis goes along;
    /// the kernel falls back to the three operators if it is not the last one at run time.
    /// Two neighbours go in too when only the scores read them: a Mul of Q or Kᵀ by a
    /// constant (the 1/√d of ViT exports, attribute `scale`: the first product's factor),
    /// and the Transpose that turns K into Kᵀ (attribute `keysTransposed` 0: the kernel
    /// reads K as stored, transposing one head into its cache). Each was a pass over Q or K
    /// in memory, 4–6 ms of Depth Anything V2 Small at 518².
    mutating func fuseAttention() {
        var i = 0
        while i < nodes.count {
            defer { i += 1 }
            let scores = nodes[i]
            guard scores.opType == "MatMul", scores.inputs.count == 2, let s = soleReader(of: scores.outputs[0], readers()),
                  nodes[s].opType == "Softmax", let p = soleReader(of: nodes[s].outputs[0], readers()),
                  nodes[p].opType == "MatMul", nodes[p].inputs.count == 2, nodes[p].inputs[0] == nodes[s].outputs[0] else { continue }
            var attributes: [String: Attribute] = [:]
            if let axis = nodes[s].attributes["axis"] { attributes["axis"] = axis }
            var inputs = scores.inputs + [nodes[p].inputs[1]]
            var gone: Set<Int> = [s, i]
            let (count, made) = (readers(), producers())
            /// The node making `value` if it is `op` and only the scores read what it makes.
            func feeding(_ value: String, _ op: String) -> Int? {
                guard let n = made[value], nodes[n].opType == op, count[value] == 1, !outputs.contains(value) else { return nil }
                return n
            }
            var scale: Float = 1
            for slot in 0..<2 {
                guard let m = feeding(inputs[slot], "Mul"), nodes[m].inputs.count == 2 else { continue }
                let (a, b) = (nodes[m].inputs[0], nodes[m].inputs[1])
                // A factor of rank 0 or 1 broadcasts without changing the operand's shape.
                let factor = scalar(b) != nil && (constants[b]?.rank ?? 2) <= 1 ? b : scalar(a) != nil && (constants[a]?.rank ?? 2) <= 1 ? a : nil
                guard let factor, let value = scalar(factor) else { continue }
                scale *= value
                inputs[slot] = factor == b ? a : b
                gone.insert(m)
            }
            if let t = feeding(inputs[1], "Transpose"), let perm = Attributes(values: nodes[t].attributes).ints("perm"), perm.count >= 2,
               perm == Array(0..<(perm.count - 2)) + [perm.count - 1, perm.count - 2] {
                inputs[1] = nodes[t].inputs[0]
                attributes["keysTransposed"] = .int(0)
                gone.insert(t)
                record("attention keys")
            }
            if scale != 1 {
                attributes["scale"] = .float(scale)
                record("attention scale")
            }
            let fused = Node(name: scores.name, opType: "strata.Attention", domain: "", inputs: inputs, outputs: nodes[p].outputs,
                             attributes: attributes)
            // The fused node stands where the second product was: V may be computed after the scores.
            nodes[p] = fused
            let before = gone.filter { $0 < i }.count
            nodes = nodes.enumerated().filter { !gone.contains($0.offset) }.map(\.element)
            i -= before + 1
            record("attention")
        }
    }
}
