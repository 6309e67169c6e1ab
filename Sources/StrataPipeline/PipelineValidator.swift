import Foundation

/// Checks a pipeline against a registry before anything runs, collecting every problem.
public struct PipelineValidator: Sendable {
    public let registry: StageRegistry

    public init(registry: StageRegistry) { self.registry = registry }

    /// Decodes and validates pipeline JSON; decoding problems come back as diagnostics too.
    public func validate(data: Data) -> (spec: PipelineSpec?, diagnostics: [Diagnostic]) {
        do {
            let spec = try JSONDecoder().decode(PipelineSpec.self, from: data)
            return (spec, validate(spec))
        } catch let error as DecodingError {
            if case .dataCorrupted(let context) = error, context.codingPath.isEmpty, let located = Self.syntaxError(in: data) {
                return (nil, [Diagnostic(.error, .invalidJSON, at: "", located)])
            }
            return (nil, [Self.diagnostic(for: error)])
        } catch {
            return (nil, [Diagnostic(.error, .invalidJSON, at: "", "\(error)")])
        }
    }

    /// Where JSON syntax breaks, as "line L, column C: reason" (Foundation reports a character offset).
    static func syntaxError(in data: Data) -> String? {
        do {
            _ = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
            return nil
        } catch {
            let text = (error as NSError).userInfo["NSDebugDescription"] as? String ?? "\(error)"
            guard let range = text.range(of: "character "), let offset = Int(text[range.upperBound...].prefix { $0.isNumber }) else {
                return text
            }
            let bytes = [UInt8](data.prefix(offset))
            let line = bytes.filter { $0 == 0x0A }.count + 1
            let column = offset - (bytes.lastIndex(of: 0x0A).map { $0 + 1 } ?? 0) + 1
            let reason = text.components(separatedBy: " around").first ?? text
            return "invalid JSON at line \(line), column \(column): \(reason)"
        }
    }

    static func diagnostic(for error: DecodingError) -> Diagnostic {
        func pointer(_ path: [CodingKey]) -> String {
            Pointer.path(path.map { $0.intValue.map { $0 as Any } ?? $0.stringValue as Any })
        }
        switch error {
        case .typeMismatch(let type, let context):
            return Diagnostic(.error, .invalidType, at: pointer(context.codingPath), "expected \(Self.jsonName(type))")
        case .valueNotFound(let type, let context):
            return Diagnostic(.error, .invalidType, at: pointer(context.codingPath), "expected \(Self.jsonName(type)), got null")
        case .keyNotFound(let key, let context):
            return Diagnostic(.error, .missingField, at: pointer(context.codingPath + [key]), "the required field \"\(key.stringValue)\" is missing")
        case .dataCorrupted(let context):
            // Syntax errors: Foundation's message carries the line and column.
            let underlying = (context.underlyingError as NSError?)?.userInfo["NSDebugDescription"] as? String
            return Diagnostic(.error, .invalidJSON, at: pointer(context.codingPath), underlying ?? context.debugDescription)
        @unknown default:
            return Diagnostic(.error, .invalidJSON, at: "", "\(error)")
        }
    }

    static func jsonName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Int.Type, is Double.Type: return "a number"
        case is Bool.Type: return "a boolean"
        default: return "an \(String(describing: type).hasPrefix("Array") ? "array" : "object")"
        }
    }

    /// Every problem of a decoded pipeline, errors and warnings, in file order.
    public func validate(_ spec: PipelineSpec) -> [Diagnostic] {
        var out: [Diagnostic] = []
        if spec.version != 1 {
            out.append(Diagnostic(.error, .unsupportedVersion, at: "/version", "version \(spec.version) is not supported (this Strata reads version 1)"))
        }
        for (name, input) in spec.inputs.sorted(by: { $0.key < $1.key }) where PortType(rawValue: input.type) == nil {
            out.append(Diagnostic(.error, .invalidType, at: Pointer.path(["inputs", name, "type"]),
                                  "unknown input type \"\(input.type)\" (one of \(PortType.allCases.map(\.rawValue).joined(separator: ", ")))"))
        }
        var firstIndex: [String: Int] = [:]
        for (i, node) in spec.nodes.enumerated() {
            if let earlier = firstIndex[node.id] {
                out.append(Diagnostic(.error, .duplicateID, at: Pointer.path(["nodes", i, "id"]), node: node.id,
                                      "the id \"\(node.id)\" is already used by /nodes/\(earlier)"))
            } else {
                firstIndex[node.id] = i
            }
        }
        var consumed: Set<String> = []  // "node.port" edges something reads
        var edges: [String: Set<String>] = [:]  // node id → the node ids it reads from
        for (i, node) in spec.nodes.enumerated() {
            guard let stage = registry[node.stage] else {
                let hint = suggestion(for: node.stage, among: Array(registry.stages.keys)).map { " (did you mean \"\($0)\"?)" } ?? ""
                out.append(Diagnostic(.error, .unknownStage, at: Pointer.path(["nodes", i, "stage"]), node: node.id,
                                      "unknown stage \"\(node.stage)\"\(hint)"))
                for edge in node.inputs.values { consumed.insert(edge) }
                continue
            }
            // Params.
            for (name, value) in node.params.sorted(by: { $0.key < $1.key }) {
                let at = Pointer.path(["nodes", i, "params", name])
                guard let param = stage.params.first(where: { $0.name == name }) else {
                    let hint = suggestion(for: name, among: stage.params.map(\.name)).map { " (did you mean \"\($0)\"?)" } ?? ""
                    out.append(Diagnostic(.error, .unknownParam, at: at, node: node.id,
                                          "stage \(stage.name) has no param \"\(name)\"\(hint)"))
                    continue
                }
                if let problem = param.problem(with: value) {
                    out.append(Diagnostic(.error, .paramInvalid, at: at, node: node.id, "\(name): \(problem)"))
                }
            }
            // Inputs.
            for (port, edge) in node.inputs.sorted(by: { $0.key < $1.key }) {
                let at = Pointer.path(["nodes", i, "inputs", port])
                consumed.insert(edge)
                guard let wanted = stage.inputs.first(where: { $0.name == port }) else {
                    out.append(Diagnostic(.error, .unknownPort, at: at, node: node.id,
                                          "stage \(stage.name) has no input \"\(port)\" (available: \(stage.inputs.map(\.name).joined(separator: ", ")))"))
                    continue
                }
                guard let (sourceNode, type) = resolve(edge, in: spec, at: at, node: node.id, diagnostics: &out) else { continue }
                if let sourceNode, firstIndex[node.id] == i { edges[node.id, default: []].insert(sourceNode) }
                if !wanted.takes(type) {
                    out.append(Diagnostic(.error, .typeMismatch, at: at, node: node.id,
                                          "\"\(edge)\" carries \(type.rawValue), but input \"\(port)\" of \(stage.name) takes \(wanted.typeList)"))
                }
            }
            for port in stage.inputs where port.required && node.inputs[port.name] == nil {
                out.append(Diagnostic(.error, .missingInput, at: Pointer.path(["nodes", i, "inputs"]), node: node.id,
                                      "node \"\(node.id)\" needs its \"\(port.name)\" input (\(port.type.rawValue))"))
            }
        }
        if let cycle = findCycle(edges) {
            out.append(Diagnostic(.error, .cycleDetected, at: "/nodes", "the nodes form a cycle: \(cycle.joined(separator: " → "))"))
        }
        let stages = spec.nodes.compactMap { registry[$0.stage] }
        if !spec.nodes.isEmpty && stages.count == spec.nodes.count && !stages.contains(where: { $0.kind == .sink }) {
            out.append(Diagnostic(.error, .noSink, at: "/nodes", "nothing writes an output: add a sink stage such as image.write"))
        }
        for (i, node) in spec.nodes.enumerated() {
            guard let stage = registry[node.stage], stage.kind != .sink else { continue }
            for port in stage.outputs where !consumed.contains("\(node.id).\(port.name)") {
                out.append(Diagnostic(.warning, .unusedOutput, at: Pointer.path(["nodes", i]), node: node.id,
                                      "output \"\(port.name)\" of node \"\(node.id)\" is not used"))
            }
        }
        return out
    }

    /// The producing node (nil for a pipeline input) and type of an edge, or nil after
    /// reporting why it does not resolve.
    func resolve(_ edge: String, in spec: PipelineSpec, at: String, node: String,
                 diagnostics: inout [Diagnostic]) -> (String?, PortType)? {
        if edge.hasPrefix("$inputs.") {
            let name = String(edge.dropFirst("$inputs.".count))
            guard let input = spec.inputs[name] else {
                diagnostics.append(Diagnostic(.error, .unknownInput, at: at, node: node,
                                              "the pipeline has no input \"\(name)\" (declared: \(spec.inputs.keys.sorted().joined(separator: ", ")))"))
                return nil
            }
            return PortType(rawValue: input.type).map { (nil, $0) }
        }
        let parts = edge.split(separator: ".", maxSplits: 1).map(String.init)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
            diagnostics.append(Diagnostic(.error, .invalidEdge, at: at, node: node,
                                          "\"\(edge)\" is not an edge (expected \"node.port\" or \"$inputs.name\")"))
            return nil
        }
        guard let source = spec.nodes.first(where: { $0.id == parts[0] }) else {
            let hint = suggestion(for: parts[0], among: spec.nodes.map(\.id)).map { " (did you mean \"\($0)\"?)" } ?? ""
            diagnostics.append(Diagnostic(.error, .unknownNode, at: at, node: node, "no node has the id \"\(parts[0])\"\(hint)"))
            return nil
        }
        guard let stage = registry[source.stage] else { return nil }  // reported at its own node
        guard let output = stage.outputs.first(where: { $0.name == parts[1] }) else {
            diagnostics.append(Diagnostic(.error, .unknownPort, at: at, node: node,
                                          "node \"\(source.id)\" has no output \"\(parts[1])\" (available: \(stage.outputs.map(\.name).joined(separator: ", ")))"))
            return nil
        }
        return (source.id, output.type)
    }

    /// A cycle among the node edges, as ids with the first repeated at the end, or nil.
    func findCycle(_ edges: [String: Set<String>]) -> [String]? {
        var state: [String: Int] = [:]  // 1 visiting, 2 done
        var stack: [String] = []
        func visit(_ id: String) -> [String]? {
            state[id] = 1
            stack.append(id)
            for next in (edges[id] ?? []).sorted() {
                if state[next] == 1 {
                    let start = stack.firstIndex(of: next)!
                    return Array(stack[start...]) + [next]
                }
                if state[next] == nil, let cycle = visit(next) { return cycle }
            }
            stack.removeLast()
            state[id] = 2
            return nil
        }
        for id in edges.keys.sorted() where state[id] == nil {
            if let cycle = visit(id) { return cycle }
        }
        return nil
    }
}
