/// One operator use in a graph, with its attributes decoded.
public struct Node: Sendable, Equatable {
    /// The node's name in the file (may be empty).
    public var name: String
    /// The ONNX operator type, such as `Conv`.
    public var opType: String
    /// The operator set domain ("" or "ai.onnx" for the standard operators).
    public var domain: String
    /// Input value names; "" marks an omitted optional input.
    public var inputs: [String]
    /// Output value names.
    public var outputs: [String]
    /// Attributes by name.
    public var attributes: [String: Attribute]

    /// The name used in messages: the node's own, else its op type and index.
    func label(_ index: Int) -> String { name.isEmpty ? "\(opType) #\(index)" : name }
}

/// A node attribute.
public enum Attribute: Sendable, Equatable {
    case float(Float)
    case int(Int)
    case string(String)
    case tensor(Tensor)
    case floats([Float])
    case ints([Int])
    case strings([String])
    /// A subgraph (If's branches).
    case graph(Graph)
    /// Lists of subgraphs (none of the supported operators take them).
    case graphs
}

/// A node's attributes with typed look-ups and ONNX defaults.
struct Attributes: Sendable {
    let values: [String: Attribute]

    func optionalFloat(_ name: String) -> Float? {
        if case .float(let v)? = values[name] { return v }
        return nil
    }

    func int(_ name: String, _ fallback: Int) -> Int {
        if case .int(let v)? = values[name] { return v }
        return fallback
    }

    func optionalInt(_ name: String) -> Int? {
        if case .int(let v)? = values[name] { return v }
        return nil
    }

    func float(_ name: String, _ fallback: Float) -> Float {
        switch values[name] {
        case .float(let v)?: return v
        case .int(let v)?: return Float(v)
        default: return fallback
        }
    }

    func ints(_ name: String) -> [Int]? {
        switch values[name] {
        case .ints(let v)?: return v
        case .int(let v)?: return [v]
        default: return nil
        }
    }

    func floats(_ name: String) -> [Float]? {
        if case .floats(let v)? = values[name] { return v }
        return nil
    }

    func string(_ name: String, _ fallback: String) -> String {
        if case .string(let v)? = values[name] { return v }
        return fallback
    }

    func graph(_ name: String) -> Graph? {
        if case .graph(let g)? = values[name] { return g }
        return nil
    }

    func tensor(_ name: String) -> Tensor? {
        if case .tensor(let v)? = values[name] { return v }
        return nil
    }
}
