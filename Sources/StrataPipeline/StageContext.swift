import Foundation
import StrataCore

/// What a stage factory gets: its node's params (defaults filled in), the pipeline inputs
/// wired to its ports, and where outputs go.
public struct StageContext: Sendable {
    /// The node's id.
    public let node: String
    /// The node's position in the file, for JSON Pointers.
    public let nodeIndex: Int
    /// Every declared param, given or defaulted; params without a default and not given are absent.
    public let params: [String: JSONValue]
    /// Input port → the value of the pipeline input wired to it (`"$inputs.name"` edges).
    public let boundInputs: [String: JSONValue]
    /// The run's output folder; sinks write under it.
    public let outputDirectory: URL
    /// Threads the run may use.
    public let threads: Int
    /// Input port → the type of what is wired to it (for a port that takes several types).
    public let inputTypes: [String: PortType]
    /// The deepest bits per sample among the sources this node's frames come from (16 for a
    /// 16-bit PNG, 32 for floats), so a writer can keep them; nil when none says.
    public let sourceBitDepth: Int?
    /// Where ``note(_:)`` keeps what the stage tells the user while it is built.
    public let notes: RunNotes

    public init(node: String, nodeIndex: Int, params: [String: JSONValue], boundInputs: [String: JSONValue] = [:],
                outputDirectory: URL, threads: Int = 1, inputTypes: [String: PortType] = [:], sourceBitDepth: Int? = nil,
                notes: RunNotes = RunNotes()) {
        self.notes = notes
        self.inputTypes = inputTypes
        self.sourceBitDepth = sourceBitDepth
        self.node = node
        self.nodeIndex = nodeIndex
        self.params = params
        self.boundInputs = boundInputs
        self.outputDirectory = outputDirectory
        self.threads = threads
    }

    /// Something the user should know about how this node will run (a model's input size
    /// differing from the views, an option that changes nothing): `strata run` prints it
    /// before the first frame, naming the node.
    public func note(_ text: String) { notes.add("\(node): \(text)") }

    /// Something the user should know about one frame (depth taken as invalid, fewer layers
    /// than asked): `strata run` prints it after the run, naming the node and the frame.
    public func note(_ text: String, frame: FrameInfo) { notes.add("\(node): frame \(frame.number): \(text)") }

    /// An error about param `name` (reported as `param_invalid` at its JSON Pointer).
    public func invalid(_ name: String, _ why: String) -> StageSetupError {
        StageSetupError(nodeIndex: nodeIndex, param: name, message: "\(name): \(why)")
    }

    public func int(_ name: String) throws -> Int { try required(name, optionalInt) }

    /// The value `optional` reads for `name`, which must be there.
    private func required<T>(_ name: String, _ optional: (String) throws -> T?) throws -> T {
        guard let value = try optional(name) else { throw invalid(name, "a value is required") }
        return value
    }

    public func optionalInt(_ name: String) throws -> Int? {
        guard let value = params[name], value != .null else { return nil }
        guard case .number(let n) = value, n == n.rounded(), abs(n) < 1e15 else { throw invalid(name, "expected an integer, got \(value)") }
        return Int(n)
    }

    public func double(_ name: String) throws -> Double { try required(name, optionalDouble) }

    public func optionalDouble(_ name: String) throws -> Double? {
        guard let value = params[name], value != .null else { return nil }
        guard case .number(let n) = value else { throw invalid(name, "expected a number, got \(value)") }
        return n
    }

    public func string(_ name: String) throws -> String { try required(name, optionalString) }

    public func optionalString(_ name: String) throws -> String? {
        guard let value = params[name], value != .null else { return nil }
        guard case .string(let s) = value else { throw invalid(name, "expected a string, got \(value)") }
        return s
    }

    public func bool(_ name: String) throws -> Bool {
        guard let value = params[name], value != .null else { throw invalid(name, "a value is required") }
        guard case .bool(let b) = value else { throw invalid(name, "expected a boolean, got \(value)") }
        return b
    }

    /// The path or value given for the pipeline input wired to `port`.
    public func inputPath(_ port: String) throws -> String {
        switch boundInputs[port] {
        case .string(let s)?: return s
        case let other?: return other.description
        case nil: throw StageSetupError(nodeIndex: nodeIndex, param: nil, message: "input \"\(port)\" must be wired to a pipeline input")
        }
    }

    /// `relative` under the output folder (absolute paths are refused: outputs stay in the folder).
    public func outputURL(_ relative: String, param: String) throws -> URL {
        guard !relative.hasPrefix("/") else { throw invalid(param, "\"\(relative)\" must be relative to the output folder") }
        guard !relative.split(separator: "/").contains("..") else {
            throw invalid(param, "\"\(relative)\" must stay inside the output folder (no ..)")
        }
        return outputDirectory.appendingPathComponent(relative)
    }
}

/// A node that cannot be built from its params; the runner reports it as a diagnostic.
public struct StageSetupError: Error, Sendable, CustomStringConvertible {
    public var nodeIndex: Int
    /// The param at fault, when there is one.
    public var param: String?
    public var message: String

    public init(nodeIndex: Int, param: String?, message: String) {
        (self.nodeIndex, self.param, self.message) = (nodeIndex, param, message)
    }

    public var description: String { message }
}

/// The notes stages leave while a run is built, in the order they came.
public final class RunNotes: Sendable {
    private let lines = Mutex<[String]>([])

    public init() {}

    func add(_ line: String) { lines.withLock { $0.append(line) } }

    /// Every note so far, "node: text".
    public var all: [String] { lines.withLock { $0 } }
}
