import ArgumentParser
import Foundation
import StrataCore
import StrataIO
import StrataNN
import StrataSphere

/// `strata nn`: look inside an ONNX model and run it by hand.
struct NN: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nn",
        abstract: "Inspect and run ONNX models on Strata's engine.",
        subcommands: [NNInfo.self, NNRun.self]
    )
}

struct NNInfo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Describe an ONNX model: inputs, outputs, opset, operators, parameters, unsupported operators.",
        discussion: """
        Exits 65 when the model uses operators the engine does not run (they are listed). \
        With --shape, the model is also prepared for that input shape (a dynamic export's \
        height and width fixed): how many nodes a run executes, and every output's shape.

        Examples:
          strata nn info depth_anything_v2_vits.onnx
          strata nn info depth_anything_v2_vits.onnx --shape image=1x3x518x518
        """
    )

    @Argument(help: "The .onnx file.")
    var model: String

    @Flag(help: "Print JSON on stdout instead of text.")
    var json = false

    @Option(name: .customLong("shape"), help: "NAME=1x3x518x518: prepare the model for this input shape (once per input to fix).")
    var shapes: [String] = []

    /// NAME=AxBxC parsed (× and , separate extents too).
    static func parseShape(_ spec: String) throws -> (String, [Int]) {
        guard let eq = spec.lastIndex(of: "=") else { throw ValidationError("--shape \(spec): NAME=1x3x518x518 expected") }
        let extents = spec[spec.index(after: eq)...].split(whereSeparator: { "x×,".contains($0) }).map { Int($0) }
        guard !extents.isEmpty, extents.allSatisfy({ ($0 ?? -1) >= 0 }) else {
            throw ValidationError("--shape \(spec): the extents must be whole numbers ≥ 0 separated by x, as in 1x3x518x518")
        }
        return (String(spec[..<eq]), extents.map { $0! })
    }

    func validate() throws { for spec in shapes { _ = try Self.parseShape(spec) } }

    struct Description: Encodable {
        struct Value: Encodable { var name: String; var type: String; var shape: [String] }
        var path: String
        var producer: String
        var irVersion: Int
        var opset: Int
        var inputs: [Value]
        var outputs: [Value]
        var operators: [String: Int]
        var nodes: Int
        var parameters: Int
        var unsupported: [String]
        /// With --shape: the inputs fixed, nodes a run executes and the outputs' shapes.
        var prepared: Prepared?
    }

    struct Prepared: Encodable {
        var inputs: [String: [Int]]
        var nodes: Int
        var outputs: [String: [Int]]
        var rewrites: [String: Int]
        /// The first node that cannot take these shapes (a run would fail there).
        var failure: String?
    }

    func run() throws {
        try reportingNNErrors {
            let m = try Model.inspect(contentsOf: URL(fileURLWithPath: model))
            func describe(_ v: Model.Value) -> Description.Value {
                Description.Value(name: v.name, type: v.dataType?.description ?? "other",
                                  shape: v.shape.map { $0.map { $0.map(String.init) ?? "?" } } ?? ["?"])
            }
            let d = Description(path: model, producer: m.producer, irVersion: m.irVersion, opset: m.opset, inputs: m.inputs.map(describe),
                                outputs: m.outputs.map(describe), operators: m.operatorCounts, nodes: m.nodes.count,
                                parameters: m.parameterCount, unsupported: m.unsupported, prepared: try prepare(m))
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                print(String(decoding: try encoder.encode(d), as: UTF8.self))
            } else {
                print("\(model): ONNX IR \(d.irVersion), opset \(d.opset)\(d.producer.isEmpty ? "" : ", from \(d.producer)")")
                for (label, values) in [("input", d.inputs), ("output", d.outputs)] {
                    for v in values { print("  \(label) \(v.name): \(v.type) \(v.shape.joined(separator: "×"))") }
                }
                print("  \(d.nodes) nodes, \(d.parameters) parameters")
                print("  operators: " + d.operators.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
                if let p = d.prepared {
                    let text = { (shape: [Int]) in shape.map(String.init).joined(separator: "×") }
                    let inputs = p.inputs.sorted { $0.key < $1.key }.map { "\($0.key) \(text($0.value))" }.joined(separator: ", ")
                    print("  prepared for \(inputs): \(p.nodes) of \(d.nodes) nodes run")
                    if let failure = p.failure { print("    cannot run at this shape: \(failure)") }
                    for v in d.outputs { print("    output \(v.name): \(p.outputs[v.name].map(text) ?? "shape known only when run")") }
                }
                if d.unsupported.isEmpty {
                    print("  every operator is supported")
                } else {
                    print("  unsupported (\(d.unsupported.count)):")
                    for u in d.unsupported { print("    \(u)") }
                }
            }
            if !d.unsupported.isEmpty { throw ExitCode(65) }
            if let failure = d.prepared?.failure {
                printError("\(model) cannot run at \(shapes.joined(separator: ", ")): \(failure)")
                throw ExitCode(65)
            }
        }
    }
}

extension NNInfo {
    /// The model prepared for the --shape inputs (nil without any, or when it cannot run).
    func prepare(_ m: Model) throws -> Prepared? {
        guard !shapes.isEmpty, m.unsupported.isEmpty else { return nil }
        var fixed: [String: [Int]] = [:]
        for spec in shapes {
            let (name, shape) = try Self.parseShape(spec)
            guard fixed[name] == nil else { throw UsageError(message: "--shape \(name) is given twice") }
            fixed[name] = shape
        }
        let session = try Session(model: m, threads: 1, inputShapes: fixed)
        var outputs: [String: [Int]] = [:]
        for v in m.outputs { outputs[v.name] = session.valueShapes[v.name] }
        return Prepared(inputs: session.inputShapes, nodes: session.nodeCount, outputs: outputs, rewrites: session.rewrites,
                        failure: session.shapeFailure)
    }
}

struct NNRun: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run an ONNX model on inputs from .npy files or images; write every output as .npy.",
        discussion: """
        An input is NAME=FILE; FILE is a .npy array (any shape) or an image (fed as 1×C×H×W \
        floats in 0…1). A model with one input also takes FILE alone.

        --cube-padding is for inputs whose batch holds cube faces in F R B L U D order (N a \
        multiple of 6, square faces, such as a 6×3×256×256 array of a cubemap's faces): every \
        Conv, MaxPool and AveragePool that pads takes its padding from the neighbouring \
        faces, turned to match across each edge, instead of zeros.

        Examples:
          strata nn run midas_v21_small_256.onnx --input 0=frame.npy --output out/
          strata nn run depth.onnx --input image=faces.npy --output out/ --cube-padding
        """
    )

    @Argument(help: "The .onnx file.")
    var model: String

    @Option(name: .customLong("input"), help: "NAME=FILE, once per model input.")
    var inputs: [String] = []

    @Option(help: "The folder to write OUTPUT-NAME.npy files into (created if missing).")
    var output: String

    @Option(help: "Threads for the engine (default: every core).")
    var threads: Int?

    @Flag(name: .customLong("cube-padding"), help: "Pad from the neighbouring cube faces (batches of 6 faces, F R B L U D) instead of zeros.")
    var cubePadding = false

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        if inputs.isEmpty { throw ValidationError("give the model's inputs with --input NAME=FILE") }
    }

    func run() throws {
        try reportingNNErrors {
            let m = try Model(contentsOf: URL(fileURLWithPath: model))
            var feeds: [String: Tensor] = [:]
            for spec in inputs {
                let (name, file) = try parse(spec, model: m)
                guard feeds[name] == nil else { throw UsageError(message: "--input \(name) is given twice") }
                feeds[name] = try load(file)
            }
            // Prepared for the shapes given: a dynamic export's shape arithmetic runs once, here.
            let cube = cubePadding ? CubePadding { n, p in Cubemap.copyPaddingSources(faceSize: n, padding: p) } : nil
            let session = try Session(model: m, threads: threads, inputShapes: feeds.mapValues(\.shape), cubePadding: cube)
            if cubePadding {
                let count = session.rewrites["cube padding", default: 0]
                // A note, not an error: a model without padded layers runs as it is.
                FileHandleStream.standardError.write(count > 0
                    ? "strata: cube padding: \(count) padded layers pad from the neighbouring faces\n"
                    : "strata: note: --cube-padding changed nothing: no padded Conv or pool sees a batch of whole cubes of square faces (\(feeds.values.map { $0.shape.map(String.init).joined(separator: "×") }.joined(separator: ", ")))\n")
            }
            let start = Date()
            let outputs = try session.run(feeds)
            let seconds = Date().timeIntervalSince(start)
            let folder = URL(fileURLWithPath: output)
            do { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) } catch {
                throw MediaError(path: output, .notWritable(error.localizedDescription))
            }
            for value in m.outputs {
                guard let tensor = outputs[value.name] else { continue }
                let file = folder.appendingPathComponent(Self.fileName(value.name) + ".npy")
                try NPYArray(tensor).write(to: file)
                print("\(value.name): \(tensor.dataType) \(tensor.shape.map(String.init).joined(separator: "×"))\(Self.summary(tensor)) → \(file.path)")
            }
            FileHandleStream.standardError.write(String(format: "strata: ran %@ in %.3f s on %d thread%@\n", model, seconds, session.threads, session.threads == 1 ? "" : "s"))
        }
    }

    /// NAME=FILE, or FILE alone for a model with one input.
    func parse(_ spec: String, model m: Model) throws -> (String, String) {
        if let eq = spec.firstIndex(of: "="), m.inputs.contains(where: { $0.name == String(spec[..<eq]) }) {
            return (String(spec[..<eq]), String(spec[spec.index(after: eq)...]))
        }
        if m.inputs.count == 1, !spec.contains("=") || FileManager.default.fileExists(atPath: spec) { return (m.inputs[0].name, spec) }
        let name = spec.split(separator: "=", maxSplits: 1).first.map(String.init) ?? spec
        throw UsageError(message: "--input \(spec): the model has no input \"\(name)\" (its inputs: \(m.inputs.map(\.name).joined(separator: ", ")))")
    }

    func load(_ file: String) throws -> Tensor {
        let url = URL(fileURLWithPath: file)
        if url.pathExtension.lowercased() == "npy" { return Tensor(try NPYArray.read(url)) }
        return Tensor(try ImageFile.read(url))
    }

    /// An output name made safe as a file name.
    static func fileName(_ name: String) -> String {
        let safe = String(name.map { $0.isLetter || $0.isNumber || "-_.".contains($0) ? $0 : "_" })
        return safe.isEmpty || safe.hasPrefix(".") ? "output" + safe : safe
    }

    static func summary(_ t: Tensor) -> String {
        guard let v = t.floats, !v.isEmpty else { return "" }
        let finite = v.filter(\.isFinite)
        guard let lo = finite.min(), let hi = finite.max() else { return ", no finite values" }
        let mean = finite.reduce(0, +) / Float(finite.count)
        return String(format: ", min %.6g max %.6g mean %.6g", lo, hi, mean)
    }
}

/// Runs a command body, turning the engine's and the media layer's errors into a message and a sysexits code.
func reportingNNErrors(_ body: () throws -> Void) throws {
    try reportingErrors {
        do { try body() } catch let error as NNError {
            printError(error.description)
            throw ExitCode(error.exitCode)
        }
    }
}

extension Tensor {
    /// The array's elements under its shape.
    init(_ array: NPYArray) {
        switch array.elements {
        case .float(let v): self.init(shape: array.shape, floats: v)
        case .int64(let v): self.init(shape: array.shape, int64: v)
        case .bool(let v): self.init(shape: array.shape, bools: v)
        }
    }
}

extension NPYArray {
    /// The tensor's elements under its shape.
    init(_ tensor: Tensor) {
        switch tensor.storage {
        case .float(let v): self.init(shape: tensor.shape, elements: .float(v))
        case .int64(let v): self.init(shape: tensor.shape, elements: .int64(v))
        case .bool(let v): self.init(shape: tensor.shape, elements: .bool(v))
        }
    }
}
