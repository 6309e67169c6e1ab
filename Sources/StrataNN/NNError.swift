import StrataCore

/// Why a model cannot be loaded or run.
public enum NNError: Error, Equatable, CustomStringConvertible, ExitCodeProviding {
    /// The file is not an ONNX model (or is damaged).
    case invalidModel(path: String, String)
    /// Operators the engine does not implement, each with where it is (node name or index).
    case unsupportedOperators(path: String, [String])
    /// A tensor is of a type or shape the operation cannot take.
    case invalidTensor(String)
    /// A node failed while running.
    case nodeFailed(node: String, op: String, String)
    /// An input the model needs was not given, or one it does not have was.
    case badInput(String)

    public var description: String {
        switch self {
        case .invalidModel(let path, let why): return "\(path): not a usable ONNX model: \(why)"
        case .unsupportedOperators(let path, let list):
            return "\(path): \(list.count) unsupported operator use\(list.count == 1 ? "" : "s"): \(list.joined(separator: "; "))"
        case .invalidTensor(let why): return why
        case .nodeFailed(let node, let op, let why): return "node \"\(node)\" (\(op)): \(why)"
        case .badInput(let why): return why
        }
    }

    /// 65 for data that does not fit (a model, a tensor), 64 for a bad request.
    public var exitCode: Int32 {
        if case .badInput = self { return 64 }
        return 65
    }
}
