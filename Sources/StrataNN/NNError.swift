import StrataCore

/// Why a model cannot be loaded or run.
public enum NNError: Error, Equatable, CustomStringConvertible, ExitCodeProviding {
    /// The file is missing or cannot be read.
    case unreadable(path: String, String)
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
        case .unreadable(let path, let why): return "\(path): \(why)"
        case .invalidModel(let path, let why): return "\(path): not a usable ONNX model: \(why)"
        case .unsupportedOperators(let path, let list):
            return "\(path): \(list.count) unsupported operator use\(list.count == 1 ? "" : "s"): \(list.joined(separator: "; "))"
        case .invalidTensor(let why): return why
        case .nodeFailed(let node, let op, let why): return "node \"\(node)\" (\(op)): \(why)"
        case .badInput(let why): return why
        }
    }

    /// 66 for a file that cannot be read, 64 for a bad request (inputs that do not fit the
    /// model), 65 for data the engine cannot use (a model, a tensor).
    public var exitCode: Int32 {
        switch self {
        case .unreadable: return 66
        case .badInput: return 64
        default: return 65
        }
    }
}
