/// If: the branch the condition picks runs as a subgraph (dynamic-shape exports use it for
/// `squeeze` of an axis that may or may not be 1). The session runs it, since a branch reads
/// values of the graph around it; this entry checks the branches at load.
enum ControlOps {
    static func register(_ t: inout [String: Operator]) {
        t["If"] = Operator(check: { node, context in
            let a = Attributes(values: node.attributes)
            guard let then = a.graph("then_branch"), let otherwise = a.graph("else_branch") else { return "If without both branches" }
            let problems = then.problems(context) + otherwise.problems(context)
            return problems.isEmpty ? nil : "in a branch: " + problems.joined(separator: "; ")
        }, run: { _ in
            throw NNError.invalidTensor("If runs only inside a session")
        })
    }
}
