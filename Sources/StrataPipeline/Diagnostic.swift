/// One problem found in a pipeline file, with a stable code and where it is.
public struct Diagnostic: Sendable, Equatable, Codable, CustomStringConvertible {
    public enum Severity: String, Sendable, Codable { case error, warning }

    /// Stable codes: scripts and tests match on them.
    public enum Code: String, Sendable, Codable, CaseIterable {
        case invalidJSON = "invalid_json"
        case invalidType = "invalid_type"
        case missingField = "missing_field"
        case unsupportedVersion = "unsupported_version"
        case unknownStage = "unknown_stage"
        case duplicateID = "duplicate_id"
        case invalidEdge = "invalid_edge"
        case unknownInput = "unknown_input"
        case unknownNode = "unknown_node"
        case unknownPort = "unknown_port"
        case missingInput = "missing_input"
        case typeMismatch = "type_mismatch"
        case cycleDetected = "cycle_detected"
        case paramInvalid = "param_invalid"
        case unknownParam = "unknown_param"
        case noSink = "no_sink"
        case unusedOutput = "unused_output"
        // Found when a run is built from the command line and the machine.
        case undeclaredInput = "undeclared_input"
        case inputNotGiven = "input_not_given"
        case inputNotFound = "input_not_found"
        case invalidOverride = "invalid_override"
        case outputNotWritable = "output_not_writable"
        case setupFailed = "setup_failed"
        case resumeUnsupported = "resume_unsupported"
        case noFrames = "no_frames"
        case notShardable = "not_shardable"
        case shardMode = "shard_mode"
        case recordsMissing = "records_missing"

        /// The sysexits code a command exits with for this problem: 65 for a bad pipeline file,
        /// 64 for a command line that does not fit it, 66 for a missing input, 73 for an
        /// output folder that cannot be created (setup failures carry their own).
        public var exitCode: Int32 {
            switch self {
            case .undeclaredInput, .inputNotGiven, .invalidOverride, .resumeUnsupported, .noFrames, .notShardable, .shardMode: return 64
            case .inputNotFound, .recordsMissing: return 66
            case .outputNotWritable: return 73
            default: return 65
            }
        }
    }

    public var severity: Severity
    public var code: Code
    /// RFC 6901 JSON Pointer to the field, such as `/nodes/2/inputs/image`.
    public var pointer: String
    /// The node concerned, when there is one.
    public var node: String?
    public var message: String

    public init(_ severity: Severity, _ code: Code, at pointer: String, node: String? = nil, _ message: String) {
        (self.severity, self.code, self.pointer, self.node, self.message) = (severity, code, pointer, node, message)
    }

    /// `file:/pointer: error[code]: message`, as compilers print.
    public func formatted(file: String) -> String {
        "\(file):\(pointer): \(severity.rawValue)[\(code.rawValue)]: \(message)"
    }

    public var description: String { formatted(file: "pipeline") }
}

/// JSON Pointer building (RFC 6901 escaping of ~ and /).
enum Pointer {
    static func path(_ parts: [Any]) -> String {
        parts.map { "/" + "\($0)".replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1") }.joined()
    }
}

/// The closest candidate to a misspelt name, if any is close enough to suggest.
func suggestion(for name: String, among candidates: [String]) -> String? {
    func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        var previous = Array(0...b.count)
        for i in 1...max(1, a.count) where !a.isEmpty {
            var current = [i] + [Int](repeating: 0, count: b.count)
            for j in 1...max(1, b.count) where !b.isEmpty {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return a.isEmpty ? b.count : (b.isEmpty ? a.count : previous[b.count])
    }
    let scored = candidates.map { ($0, distance(name.lowercased(), $0.lowercased())) }.min { $0.1 < $1.1 }
    guard let (best, d) = scored, d <= max(2, name.count / 3) else { return nil }
    return best
}
