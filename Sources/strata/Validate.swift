import ArgumentParser
import Foundation
import StrataPipeline
import StrataStages

struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a pipeline file: every problem at once, each with a code and a JSON Pointer.",
        discussion: "Exits 0 when the pipeline is valid (warnings allowed), 65 when it has errors, 66 when the file is missing."
    )

    @Argument(help: "The pipeline JSON file.")
    var file: String

    @Option(help: "text (one line per problem on stderr) or json (an array on stdout).")
    var diagnostics: String = "text"

    func validate() throws {
        guard ["text", "json"].contains(diagnostics) else { throw ValidationError("--diagnostics must be text or json") }
    }

    func run() throws {
        guard let data = FileManager.default.contents(atPath: file) else {
            printError("\(file): no such file")
            throw ExitCode(66)
        }
        let found = PipelineValidator(registry: StageLibrary.registry).validate(data: data).diagnostics
        try printDiagnostics(found, file: file, json: diagnostics == "json")
        if found.contains(where: { $0.severity == .error }) { throw ExitCode(65) }
    }
}

struct Stages: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The stages pipelines can use.",
        subcommands: [List.self, Describe.self]
    )

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One line per stage: name, kind, what it does.")
        func run() {
            let names = StageLibrary.registry.stages.keys.sorted()
            let column = (names.map(\.count).max() ?? 0) + 2
            for name in names {
                let stage = StageLibrary.registry.stages[name]!
                print(name.padding(toLength: column, withPad: " ", startingAt: 0) + stage.kind.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0) + stage.doc)
            }
        }
    }

    struct Describe: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A stage's ports and params with types, defaults and units.")

        @Argument(help: "The stage name, e.g. video.decode.")
        var name: String

        func run() throws {
            guard let stage = StageLibrary.registry[name] else {
                let names = StageLibrary.registry.stages.keys.sorted()
                let close = names.min { a, b in a.commonPrefix(with: name).count > b.commonPrefix(with: name).count }
                printError("unknown stage \"\(name)\"" + (close.map { " (did you mean \"\($0)\"?)" } ?? "") + "; see `strata stages list`")
                throw ExitCode(64)
            }
            print("\(stage.name) (\(stage.kind.rawValue)): \(stage.doc)")
            print("sharding: \(stage.sharding.rawValue) — " + [
                .perFrame: "shards write exactly what one run writes",
                .needsFinalize: "shards store a record per frame; `strata run --finalize` runs this stage and those after it",
                .notShardable: "refused with --shard: run on one machine",
            ][stage.sharding]!)
            if !stage.inputs.isEmpty { print("inputs:") }
            for port in stage.inputs { print("  \(port.name): \(port.typeList)\(port.required ? "" : " (optional)")\(port.doc.isEmpty ? "" : " — \(port.doc)")") }
            if !stage.outputs.isEmpty { print("outputs:") }
            for port in stage.outputs { print("  \(port.name): \(port.type.rawValue)\(port.doc.isEmpty ? "" : " — \(port.doc)")") }
            if !stage.params.isEmpty { print("params:") }
            for param in stage.params {
                let type: String
                switch param.type {
                case .integer(let lo, let hi): type = "integer" + range(lo.map(String.init), hi.map(String.init))
                case .number(let lo, let hi): type = "number" + range(lo.map { String($0) }, hi.map { String($0) })
                case .boolean: type = "boolean"
                case .string: type = "string"
                case .choice(let options): type = options.joined(separator: "|")
                }
                let extra = (param.default.map { ", default \($0)" } ?? "") + (param.unit.map { ", in \($0)" } ?? "")
                print("  \(param.name): \(type)\(extra) — \(param.doc)")
            }
        }

        func range(_ lo: String?, _ hi: String?) -> String {
            lo == nil && hi == nil ? "" : " \(lo ?? "−∞")…\(hi ?? "∞")"
        }
    }
}

struct Schema: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the JSON Schema of pipeline files, generated from the stage registry.")

    func run() throws {
        print(try Schema.text())
    }

    static func text() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(PipelineSchema.generate(StageLibrary.registry)), as: UTF8.self)
    }
}
