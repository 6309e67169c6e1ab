import Foundation

/// A subgraph, as If's branches carry them: nodes in order, its own constants, and the
/// names of what it returns. Names it reads and does not define come from the graph
/// around it.
public struct Graph: Sendable, Equatable {
    /// The nodes in order.
    public var nodes: [Node]
    /// Constants defined in the subgraph.
    public var initializers: [String: Tensor]
    /// The values it returns, in order.
    public var outputs: [String]

    init(proto: Onnx_GraphProto, folder: URL?) throws {
        var weights: [String: Tensor] = [:]
        for tensor in proto.initializer { weights[tensor.name] = try Tensor(proto: tensor, folder: folder) }
        initializers = weights
        nodes = try proto.node.map { try Node(proto: $0, folder: folder) }
        outputs = proto.output.map(\.name)
    }

    /// Names read but not defined inside, including by nested subgraphs: what the
    /// subgraph takes from its surroundings.
    var outerNames: Set<String> {
        var defined = Set(initializers.keys)
        var needed = Set<String>()
        for node in nodes {
            for name in node.inputs where !name.isEmpty && !defined.contains(name) { needed.insert(name) }
            for attribute in node.attributes.values {
                if case .graph(let inner) = attribute { needed.formUnion(inner.outerNames.subtracting(defined)) }
            }
            defined.formUnion(node.outputs)
        }
        for name in outputs where !defined.contains(name) { needed.insert(name) }
        return needed
    }

    /// Every use of something the engine does not run inside, nested subgraphs included.
    func problems(_ context: LoadContext) -> [String] {
        nodes.enumerated().compactMap { index, node in
            Operators.problem(with: node, context: context).map { "\(node.label(index)): \($0)" }
        }
    }
}
