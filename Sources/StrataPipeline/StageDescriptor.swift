/// What flows along an edge.
public enum PortType: String, Sendable, Codable, CaseIterable {
    case image, depth, mask, cube, patches, layers, mesh
    /// Pipeline inputs: files the command line names.
    case video, imageSequence, file
    case number, string

    /// Whether an output of this type may be wired to an input of type `input`: the same
    /// type, or a mask where an image is taken (a mask is a one-channel image).
    public func canFeed(_ input: PortType) -> Bool {
        self == input || (self == .mask && input == .image)
    }
}

/// A named, typed port of a stage.
public struct PortSpec: Sendable, Equatable, Codable {
    public var name: String
    public var type: PortType
    /// Inputs only: whether the node must wire it.
    public var required: Bool
    public var doc: String
    /// Inputs only: further types the port takes besides `type` (a writer that takes an
    /// image or a cubemap).
    public var also: [PortType]

    public init(_ name: String, _ type: PortType, required: Bool = true, also: [PortType] = [], doc: String = "") {
        (self.name, self.type, self.required, self.also, self.doc) = (name, type, required, also, doc)
    }

    /// Whether an output of type `type` may be wired to this input.
    public func takes(_ type: PortType) -> Bool { type.canFeed(self.type) || also.contains(type) }

    /// The types this input takes, as `image|cube`.
    public var typeList: String { ([type] + also).map(\.rawValue).joined(separator: "|") }
}

/// The type of a stage parameter, with what values it accepts.
public enum ParamType: Sendable, Equatable, Codable {
    case integer(min: Int?, max: Int?)
    case number(min: Double?, max: Double?)
    case boolean
    case string
    case choice([String])
}

/// A stage parameter: type, default, unit and a one-line doc.
public struct ParamSpec: Sendable, Equatable, Codable {
    public var name: String
    public var type: ParamType
    public var `default`: JSONValue?
    public var unit: String?
    public var doc: String

    public init(_ name: String, _ type: ParamType, default: JSONValue? = nil, unit: String? = nil, doc: String) {
        self.name = name
        self.type = type
        self.default = `default`
        self.unit = unit
        self.doc = doc
    }

    /// Why `value` is not acceptable, or nil when it is.
    public func problem(with value: JSONValue) -> String? {
        switch (type, value) {
        case (.integer(let lo, let hi), .number(let n)):
            guard n == n.rounded() else { return "expected an integer, got \(value)" }
            if let lo, n < Double(lo) { return "\(value) is below the minimum \(lo)" }
            if let hi, n > Double(hi) { return "\(value) is above the maximum \(hi)" }
            return nil
        case (.number(let lo, let hi), .number(let n)):
            if let lo, n < lo { return "\(value) is below the minimum \(JSONValue.number(lo))" }
            if let hi, n > hi { return "\(value) is above the maximum \(JSONValue.number(hi))" }
            return nil
        case (.boolean, .bool), (.string, .string):
            return nil
        case (.choice(let options), .string(let s)):
            return options.contains(s) ? nil : "\(value) is not one of \(options.joined(separator: ", "))"
        case (.integer, _): return "expected an integer, got \(value.typeName)"
        case (.number, _): return "expected a number, got \(value.typeName)"
        case (.boolean, _): return "expected a boolean, got \(value.typeName)"
        case (.string, _), (.choice, _): return "expected a string, got \(value.typeName)"
        }
    }
}

/// How a stage consumes frames.
public enum StageKind: String, Sendable, Codable {
    /// Produces frames from pipeline inputs.
    case source
    /// Maps each frame independently (may run on several frames at once).
    case perFrame
    /// Keeps state across frames, which it sees in order.
    case stateful
    /// Writes outputs; a pipeline needs at least one.
    case sink
}

/// How a stage behaves when `--shard` splits a run's frames across jobs.
public enum ShardBehavior: String, Sendable, Codable, CaseIterable {
    /// Each frame's result depends on that frame alone: shards write exactly what one run would.
    case perFrame = "per-frame"
    /// Keeps state across frames, and splits into a map and a reduce: sharded jobs run
    /// everything upstream of the stage and store what it reads per frame; `--finalize` runs
    /// it and everything after it over the whole selection, in order.
    case needsFinalize = "needs-finalize"
    /// Keeps state across frames and cannot be split: a sharded run is refused.
    case notShardable = "not-shardable"
}

/// Everything the runner and `strata stages describe` know about a stage.
public struct StageDescriptor: Sendable, Equatable, Codable {
    /// Dotted lowercase name, such as `video.decode`.
    public var name: String
    public var kind: StageKind
    /// What `--shard` may do with it; stateful stages default to not shardable.
    public var sharding: ShardBehavior
    /// One line.
    public var doc: String
    public var inputs: [PortSpec]
    public var outputs: [PortSpec]
    public var params: [ParamSpec]

    public init(name: String, kind: StageKind, sharding: ShardBehavior? = nil, doc: String, inputs: [PortSpec] = [],
                outputs: [PortSpec] = [], params: [ParamSpec] = []) {
        (self.name, self.kind, self.doc, self.inputs, self.outputs, self.params) = (name, kind, doc, inputs, outputs, params)
        self.sharding = sharding ?? (kind == .stateful ? .notShardable : .perFrame)
    }
}
