/// A JSON Schema (draft 2020-12) for pipeline files, generated from a registry so that
/// editors check stage names, ports and params as the runner would.
public enum PipelineSchema {
    public static func generate(_ registry: StageRegistry) -> JSONValue {
        func object(_ pairs: [(String, JSONValue)]) -> JSONValue { .object(Dictionary(uniqueKeysWithValues: pairs)) }
        let edge = object([("type", .string("string")), ("pattern", .string(#"^(\$inputs\.[A-Za-z0-9_-]+|[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$"#))])
        let nodes: [JSONValue] = registry.stages.keys.sorted().map { name in
            let stage = registry.stages[name]!
            let params: [(String, JSONValue)] = stage.params.map { param in
                var schema: [(String, JSONValue)] = [("description", .string(param.doc + (param.unit.map { " (\($0))" } ?? "")))]
                switch param.type {
                case .integer(let lo, let hi):
                    schema.append(("type", .string("integer")))
                    if let lo { schema.append(("minimum", .number(Double(lo)))) }
                    if let hi { schema.append(("maximum", .number(Double(hi)))) }
                case .number(let lo, let hi):
                    schema.append(("type", .string("number")))
                    if let lo { schema.append(("minimum", .number(lo))) }
                    if let hi { schema.append(("maximum", .number(hi))) }
                case .boolean: schema.append(("type", .string("boolean")))
                case .string: schema.append(("type", .string("string")))
                case .choice(let options): schema.append(("enum", .array(options.map { .string($0) })))
                }
                if let value = param.default { schema.append(("default", value)) }
                return (param.name, object(schema))
            }
            let inputs: [(String, JSONValue)] = stage.inputs.map { ($0.name, edge) }
            return object([
                ("if", object([("properties", object([("stage", object([("const", .string(name))]))]))])),
                ("then", object([("description", .string(stage.doc)), ("properties", object([
                    ("inputs", object([("type", .string("object")), ("properties", object(inputs)), ("additionalProperties", .bool(false)),
                                       ("required", .array(stage.inputs.filter(\.required).map { .string($0.name) }))])),
                    ("params", object([("type", .string("object")), ("properties", object(params)), ("additionalProperties", .bool(false))])),
                ]))])),
            ])
        }
        let node = object([
            ("type", .string("object")),
            ("required", .array([.string("id"), .string("stage")])),
            ("properties", object([("id", object([("type", .string("string"))])),
                                   ("stage", object([("enum", .array(registry.stages.keys.sorted().map { .string($0) }))])),
                                   ("inputs", object([("type", .string("object"))])), ("params", object([("type", .string("object"))]))])),
            ("allOf", .array(nodes)),
        ])
        return object([
            ("$schema", .string("https://json-schema.org/draft/2020-12/schema")),
            ("title", .string("Strata pipeline")),
            ("type", .string("object")),
            ("required", .array([.string("version"), .string("nodes")])),
            ("properties", object([
                ("$schema", object([("type", .string("string"))])),
                ("version", object([("const", .number(1))])),
                ("name", object([("type", .string("string"))])),
                ("inputs", object([("type", .string("object")), ("additionalProperties", object([
                    ("type", .string("object")), ("required", .array([.string("type")])),
                    ("properties", object([("type", object([("enum", .array(PortType.allCases.map { .string($0.rawValue) }))])), ("default", object([]))])),
                ]))])),
                ("nodes", object([("type", .string("array")), ("items", node)])),
            ])),
        ])
    }
}
