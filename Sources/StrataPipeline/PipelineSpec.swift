/// A pipeline file: named inputs and nodes wired by `"node.port"` or `"$inputs.name"` edges.
public struct PipelineSpec: Sendable, Equatable, Codable {
    /// A typed input the command line provides (`--input name=path`).
    public struct Input: Sendable, Equatable, Codable {
        public var type: String
        public var `default`: JSONValue?
        public init(type: String, default: JSONValue? = nil) {
            self.type = type
            self.default = `default`
        }
    }

    /// One stage instance.
    public struct Node: Sendable, Equatable, Codable {
        public var id: String
        public var stage: String
        /// Input port → edge (`"node.port"` or `"$inputs.name"`).
        public var inputs: [String: String]
        public var params: [String: JSONValue]

        public init(id: String, stage: String, inputs: [String: String] = [:], params: [String: JSONValue] = [:]) {
            (self.id, self.stage, self.inputs, self.params) = (id, stage, inputs, params)
        }

        private enum CodingKeys: String, CodingKey { case id, stage, inputs, params }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            id = try c.decode(String.self, forKey: .id)
            stage = try c.decode(String.self, forKey: .stage)
            inputs = try c.decodeIfPresent([String: String].self, forKey: .inputs) ?? [:]
            params = try c.decodeIfPresent([String: JSONValue].self, forKey: .params) ?? [:]
        }
    }

    public var version: Int
    public var name: String
    public var inputs: [String: Input]
    public var nodes: [Node]

    public init(version: Int = 1, name: String, inputs: [String: Input] = [:], nodes: [Node]) {
        (self.version, self.name, self.inputs, self.nodes) = (version, name, inputs, nodes)
    }

    private enum CodingKeys: String, CodingKey { case version, name, inputs, nodes }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        version = try c.decode(Int.self, forKey: .version)
        name = try c.decodeIfPresent(String.self, forKey: .name) ?? "pipeline"
        inputs = try c.decodeIfPresent([String: Input].self, forKey: .inputs) ?? [:]
        nodes = try c.decode([Node].self, forKey: .nodes)
    }
}
