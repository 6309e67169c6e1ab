import Foundation
import SwiftProtobuf

/// An ONNX model loaded for inference: its graph, weights and declared inputs and outputs.
///
/// Loading refuses a model that uses anything the engine does not run, listing every
/// unsupported operator use and where it is, so a run never fails half way for that.
public struct Model: Sendable {
    /// A graph input or output as declared: name, element type and shape (nil for a
    /// symbolic dimension such as a dynamic height).
    public struct Value: Sendable, Equatable {
        public var name: String
        public var dataType: Tensor.DataType?
        public var shape: [Int?]?
    }

    /// The file the model came from.
    public let path: String
    /// The standard operator set the model was exported for.
    public let opset: Int
    /// Inputs the caller feeds (graph inputs that are not weights).
    public private(set) var inputs: [Value]
    /// Outputs the model produces.
    public let outputs: [Value]
    /// The nodes in file order (ONNX requires topological order).
    public let nodes: [Node]
    /// Weights and other constants by name.
    public let initializers: [String: Tensor]
    /// Every use of something the engine does not run, with where it is (empty for a
    /// model that loads; only `inspect` returns a model with some).
    public let unsupported: [String]
    /// The tool that wrote the file, and its version.
    public let producer: String
    /// The ONNX IR version of the file.
    public let irVersion: Int

    /// The model with the first extent of every input left open, so that an export made
    /// for one image can be prepared for a batch. Whether the graph itself fixes the batch
    /// somewhere (a Reshape to 1 × …) shows in the prepared session's output shapes.
    public func withOpenBatch() -> Model {
        var copy = self
        for k in copy.inputs.indices where copy.inputs[k].shape?.isEmpty == false { copy.inputs[k].shape![0] = nil }
        return copy
    }

    /// Loads `url` (and any external-data files beside it); refuses a model that uses
    /// anything the engine does not run, listing every such use.
    public init(contentsOf url: URL) throws {
        try self.init(data: Model.read(url), path: url.path, folder: url.deletingLastPathComponent())
    }

    /// Reads `url` for a description (`strata nn info`): a model with unsupported
    /// operators is returned with them listed in `unsupported` rather than refused.
    public static func inspect(contentsOf url: URL) throws -> Model {
        try Model(data: read(url), path: url.path, folder: url.deletingLastPathComponent(), refusingUnsupported: false)
    }

    static func read(_ url: URL) throws -> Data {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder) else { throw NNError.unreadable(path: url.path, "no such file") }
        guard !isFolder.boolValue else { throw NNError.unreadable(path: url.path, "is a folder, not a model file") }
        do { return try Data(contentsOf: url) } catch {
            throw NNError.unreadable(path: url.path, "cannot read: \((error as NSError).localizedDescription)")
        }
    }

    /// Parses a serialized ModelProto; external data is looked up in `folder`.
    public init(data: Data, path: String = "<memory>", folder: URL? = nil) throws {
        try self.init(data: data, path: path, folder: folder, refusingUnsupported: true)
    }

    init(data: Data, path: String, folder: URL?, refusingUnsupported: Bool) throws {
        let proto: Onnx_ModelProto
        do { proto = try Onnx_ModelProto(serializedBytes: data) } catch {
            throw NNError.invalidModel(path: path, "the protobuf does not parse (\(error))")
        }
        guard proto.hasGraph else { throw NNError.invalidModel(path: path, "it has no graph") }
        self.path = path
        producer = [proto.producerName, proto.producerVersion].filter { !$0.isEmpty }.joined(separator: " ")
        irVersion = Int(proto.irVersion)
        opset = Int(proto.opsetImport.first { $0.domain == "" || $0.domain == "ai.onnx" }?.version ?? 0)
        let graph = proto.graph
        var weights: [String: Tensor] = [:]
        for tensor in graph.initializer {
            do { weights[tensor.name] = try Tensor(proto: tensor, folder: folder) } catch {
                throw NNError.invalidModel(path: path, "initializer \"\(tensor.name)\": \(error)")
            }
        }
        initializers = weights
        inputs = graph.input.filter { weights[$0.name] == nil }.map(Value.init(proto:))
        outputs = graph.output.map(Value.init(proto:))
        var nodes: [Node] = []
        var unsupported: [String] = []
        // Element types the engine holds: float (double narrowed), integers (widened to
        // int64) and bool. A graph input or output of another type cannot be fed or returned.
        for value in graph.input + graph.output where weights[value.name] == nil {
            let code = value.type.tensorType.elemType
            if value.type.tensorType.hasShape || code != 0, !Tensor.heldTypes.contains(code) {
                unsupported.append("\(graph.input.contains(value) ? "input" : "output") \"\(value.name)\": element type \(onnxTypeNames[code] ?? "\(code)") is not supported")
            }
        }
        var ranks: [String: Int] = [:]
        for value in graph.input + graph.valueInfo + graph.output where value.type.tensorType.hasShape {
            ranks[value.name] = value.type.tensorType.shape.dim.count
        }
        for (name, tensor) in weights { ranks[name] = tensor.rank }
        let context = LoadContext(opset: opset, ranks: ranks)
        for (index, proto) in graph.node.enumerated() {
            let node: Node
            do { node = try Node(proto: proto, folder: folder) } catch {
                throw NNError.invalidModel(path: path, "node \(index) (\(proto.opType)): \(error)")
            }
            if let why = Operators.problem(with: node, context: context) { unsupported.append("\(node.label(index)): \(why)") }
            nodes.append(node)
        }
        if !(1...20).contains(opset) { unsupported.insert("opset \(opset): the engine runs opsets up to 20 (tested on 9 to 18)", at: 0) }
        if refusingUnsupported && !unsupported.isEmpty { throw NNError.unsupportedOperators(path: path, unsupported) }
        self.unsupported = unsupported
        self.nodes = nodes
    }

    /// How many times each operator type appears.
    public var operatorCounts: [String: Int] { nodes.reduce(into: [:]) { $0[$1.opType, default: 0] += 1 } }

    /// Weight elements in all.
    public var parameterCount: Int { initializers.values.reduce(0) { $0 + $1.count } }
}

extension Model.Value {
    init(proto: Onnx_ValueInfoProto) {
        name = proto.name
        let type = proto.type.tensorType
        dataType = Tensor.DataType(onnx: type.elemType)
        shape = type.hasShape ? type.shape.dim.map { dim -> Int? in
            if case .dimValue(let v)? = dim.value { return Int(v) }
            return nil
        } : nil
    }
}

extension Node {
    init(proto: Onnx_NodeProto, folder: URL?) throws {
        name = proto.name
        opType = proto.opType
        domain = proto.domain
        inputs = proto.input
        outputs = proto.output
        var attributes: [String: Attribute] = [:]
        for a in proto.attribute {
            switch a.type {
            case .float: attributes[a.name] = .float(a.f)
            case .int: attributes[a.name] = .int(Int(a.i))
            case .string: attributes[a.name] = .string(String(decoding: a.s, as: UTF8.self))
            case .tensor: attributes[a.name] = .tensor(try Tensor(proto: a.t, folder: folder))
            case .floats: attributes[a.name] = .floats(a.floats)
            case .ints: attributes[a.name] = .ints(a.ints.map { Int($0) })
            case .strings: attributes[a.name] = .strings(a.strings.map { String(decoding: $0, as: UTF8.self) })
            case .graph: attributes[a.name] = .graph(try Graph(proto: a.g, folder: folder))
            case .graphs: attributes[a.name] = .graphs
            default:
                // Old exports leave `type` unset: infer it from the field that is filled.
                if a.hasF { attributes[a.name] = .float(a.f) } else if a.hasI { attributes[a.name] = .int(Int(a.i)) }
                else if a.hasS { attributes[a.name] = .string(String(decoding: a.s, as: UTF8.self)) }
                else if a.hasT { attributes[a.name] = .tensor(try Tensor(proto: a.t, folder: folder)) }
                else if !a.ints.isEmpty { attributes[a.name] = .ints(a.ints.map { Int($0) }) }
                else if !a.floats.isEmpty { attributes[a.name] = .floats(a.floats) }
            }
        }
        self.attributes = attributes
    }
}
