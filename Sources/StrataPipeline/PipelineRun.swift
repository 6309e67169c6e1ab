import Foundation
import StrataCore

/// A pipeline bound to its inputs and built into stages, ready to run: everything that can
/// be wrong with the file, the command line or the inputs is found when it is made.
public final class PipelineRun: @unchecked Sendable {
    /// The pipeline as it will run: nodes in execution order, every param filled in, and the
    /// inputs' values as their defaults (what `--dry-run` prints; runnable as it is).
    public let resolved: PipelineSpec
    /// Warnings found on the way (unused outputs).
    public let warnings: [Diagnostic]
    /// Which frames the run touches.
    public let plan: FramePlan
    public let options: RunOptions

    struct Source {
        let id: String
        let source: any FrameSource
        /// Output port → slot of the frame's values.
        let outputs: [(port: String, slot: Int)]
        /// A one-frame source beside longer ones: read once, shared by every frame.
        var broadcast = false
    }

    struct Step {
        let id: String
        let kind: StageKind
        /// Whether a stateful step reads what this step makes (or it is one): such steps run on
        /// frames `--resume` replays to rebuild the state, the others skip them.
        var rebuildsState = false
        /// A stateful step whose outputs depend on the frames before (not one that only needs order).
        var keepsState = false
        /// Input port → slot of the value it reads.
        let inputs: [(port: String, slot: Int)]
        let outputs: [(port: String, slot: Int)]
        let processor: (any FrameProcessor)?
        let sink: (any FrameSink)?
        /// Slots no later step reads: dropped after this step so a frame holds only what is still needed.
        var release: [Int] = []
        /// Reads only values every frame shares (stills beside a longer source, the pipeline's
        /// inputs, what other such steps make): runs once, before the frames, and a sink
        /// among these writes once, as the first frame.
        var once = false
    }

    /// Numbers every value a frame carries ("node.port" or "$inputs.name") so that a frame's
    /// values are an array, not a dictionary keyed by strings built per frame.
    struct Slots {
        private(set) var index: [String: Int] = [:]
        mutating func callAsFunction(_ key: String) -> Int {
            if let slot = index[key] { return slot }
            index[key] = index.count
            return index.count - 1
        }
    }

    let sources: [Source]
    /// The pipeline's own sources where this run writes final files (not a map shard's):
    /// their `finish` runs after the last frame.
    let finishingSources: [Source]
    let steps: [Step]
    /// What this run does of the pipeline: all of it, a shard's map step, or the finalize step.
    public let phase: RunPhase
    /// Where the map step stores, and the finalize step reads, each frame's values at the cut
    /// (nil for a whole run).
    public let recordFolder: URL?
    /// "$inputs.name" → value, available to every node.
    let inputValues: [String: JSONValue]
    /// How many values a frame carries, and those every frame starts with (the pipeline inputs).
    let slotCount: Int
    let initialValues: [(slot: Int, value: any Sendable)]
    let cancelled = Mutex(false)
    /// The execution in progress, for `cancel()`.
    let current = Mutex<Execution?>(nil)

    /// Builds a run from pipeline JSON. Throws a ``PipelineError`` holding every problem.
    public convenience init(data: Data, registry: StageRegistry, options: RunOptions) throws {
        let validator = PipelineValidator(registry: registry)
        let decoded = validator.validate(data: data)
        guard let spec = decoded.spec else { throw PipelineError(decoded.diagnostics) }
        try self.init(spec: spec, registry: registry, options: options)
    }

    /// Builds a run from a decoded pipeline.
    public init(spec original: PipelineSpec, registry: StageRegistry, options: RunOptions) throws {
        self.options = options
        var spec = original
        var problems = Self.apply(options.overrides, to: &spec)
        problems += PipelineValidator(registry: registry).validate(spec)
        let (values, inputProblems) = Self.bind(options, to: spec)
        problems += inputProblems
        problems += Self.checkOutputFolder(options.outputDirectory)
        guard !problems.contains(where: { $0.severity == .error }) else { throw PipelineError(problems) }
        warnings = problems
        inputValues = Dictionary(uniqueKeysWithValues: values.map { ("$inputs.\($0.key)", $0.value) })

        // Sharding: stages after a needs-finalize stage form the reduce side.
        let reduceSide = Self.finalizeSide(spec, registry: registry)
        let phase: RunPhase = options.finalize ? .finalize : (options.shard != nil && !reduceSide.isEmpty ? .map : .whole)
        self.phase = phase
        let shardProblems = Self.checkSharding(spec, registry: registry, options: options, reduceSide: reduceSide)
        guard shardProblems.isEmpty else { throw PipelineError(shardProblems) }

        // Execution order: producers before consumers, file order among equals.
        let order = Self.topologicalOrder(spec)
        var resolvedNodes: [PipelineSpec.Node] = []
        var sources: [Source] = []
        var steps: [Step] = []
        var slot = Slots()
        var setupProblems: [Diagnostic] = []
        var setupCode: Int32?
        var sourceBits: [String: Int] = [:]
        let runNotes = RunNotes()
        self.runNotes = runNotes
        for i in order {
            let node = spec.nodes[i]
            let stage = registry[node.stage]!
            var params: [String: JSONValue] = [:]
            for param in stage.params { if let value = node.params[param.name] ?? param.default { params[param.name] = value } }
            resolvedNodes.append(PipelineSpec.Node(id: node.id, stage: node.stage, inputs: node.inputs, params: params))
            // The finalize step reads the map side's values from records: its stages (a
            // network) are not loaded. Sources still open, for the frame plan.
            if phase == .finalize && !reduceSide.contains(node.id) && stage.kind != .source { continue }
            var bound: [String: JSONValue] = [:]
            for (port, edge) in node.inputs where edge.hasPrefix("$inputs.") { bound[port] = inputValues[edge] }
            var inputTypes: [String: PortType] = [:]
            for (port, edge) in node.inputs { inputTypes[port] = Self.type(of: edge, in: spec, registry: registry) }
            let context = StageContext(node: node.id, nodeIndex: i, params: params, boundInputs: bound,
                                       outputDirectory: options.outputDirectory, threads: options.threads, inputTypes: inputTypes,
                                       sourceBitDepth: Self.ancestors(of: node.id, in: spec).compactMap { sourceBits[$0] }.max(),
                                       notes: runNotes)
            do {
                guard let factory = registry.factory(node.stage) else {
                    throw StageError("stage \(node.stage) has no implementation in this build", exitCode: 70)
                }
                let instance = try factory(context)
                let inputs = node.inputs.sorted { $0.key < $1.key }.map { (port: $0.key, slot: slot($0.value)) }
                let outputs = stage.outputs.map { (port: $0.name, slot: slot("\(node.id).\($0.name)")) }
                switch (instance, stage.kind) {
                case (.source(let source), .source):
                    sources.append(Source(id: node.id, source: source, outputs: outputs))
                    sourceBits[node.id] = source.bitDepth
                case (.processor(let processor), .perFrame), (.processor(let processor), .stateful):
                    steps.append(Step(id: node.id, kind: stage.kind, keepsState: stage.kind == .stateful && stage.sharding != .perFrame,
                                      inputs: inputs, outputs: outputs, processor: processor, sink: nil))
                case (.sink(let sink), .sink):
                    steps.append(Step(id: node.id, kind: .sink, inputs: inputs, outputs: [], processor: nil, sink: sink))
                default:
                    throw StageError("stage \(node.stage) is declared \(stage.kind.rawValue) but built as something else", exitCode: 70)
                }
            } catch let error as StageSetupError {
                let at = error.param.map { Pointer.path(["nodes", i, "params", $0]) } ?? Pointer.path(["nodes", i])
                setupProblems.append(Diagnostic(.error, error.param == nil ? .setupFailed : .paramInvalid, at: at, node: node.id, error.message))
            } catch {
                let code = (error as? ExitCodeProviding)?.exitCode ?? 70
                if code == 66, let input = node.inputs.values.sorted().first(where: { $0.hasPrefix("$inputs.") }) {
                    // The stage could not find the file the command line named.
                    let name = String(input.dropFirst("$inputs.".count))
                    setupProblems.append(Diagnostic(.error, .inputNotFound, at: Pointer.path(["inputs", name]), node: node.id, "\(error)"))
                } else {
                    setupProblems.append(Diagnostic(.error, .setupFailed, at: Pointer.path(["nodes", i]), node: node.id, "\(error)"))
                    setupCode = setupCode ?? code
                }
            }
        }
        guard setupProblems.isEmpty else {
            let exitCode = setupProblems.contains { $0.code != .setupFailed } ? nil : setupCode
            throw PipelineError(setupProblems, exitCode: exitCode)
        }

        // Split at the cut: the map step stores what the reduce side reads; the finalize step
        // reads it back instead of running the map side.
        var recordFolder: URL?
        var recordOutputs: [(port: String, slot: Int)] = []
        if phase != .whole {
            let cut = Self.cut(spec, reduceSide: reduceSide)
            let folder = Self.recordFolder(options: options, cut: cut, inputs: values,
                                           mapNodes: resolvedNodes.filter { !reduceSide.contains($0.id) })
            recordFolder = folder
            recordOutputs = cut.map { (port: $0, slot: slot($0)) }
            if phase == .map {
                steps = steps.filter { !reduceSide.contains($0.id) }
                steps.append(Step(id: Self.recordNode, kind: .sink, inputs: recordOutputs, outputs: [], processor: nil,
                                  sink: FrameRecordSink(folder: folder)))
            } else {
                steps = steps.filter { reduceSide.contains($0.id) }
            }
        }
        self.recordFolder = recordFolder

        // Which steps a replayed frame runs: the stateful ones and those they read from.
        var stateSlots = Set<Int>()
        for s in steps.indices.reversed() where steps[s].keepsState || steps[s].outputs.contains(where: { stateSlots.contains($0.slot) }) {
            steps[s].rebuildsState = true
            stateSlots.formUnion(steps[s].inputs.map(\.slot))
        }

        // Drop each value after its last reader.
        let inputSlots = Set(inputValues.keys.compactMap { slot.index[$0] })
        var lastReader: [Int: Int] = [:]
        for (s, step) in steps.enumerated() { for (_, key) in step.inputs { lastReader[key] = s } }
        for (key, s) in lastReader where !inputSlots.contains(key) { steps[s].release.append(key) }
        slotCount = slot.index.count
        initialValues = inputValues.compactMap { key, value in slot.index[key].map { ($0, value as any Sendable) } }

        let available = Self.frameCount(sources.map(\.source))
        for i in sources.indices { sources[i].broadcast = available > 1 && sources[i].source.frameCount == 1 }
        if phase != .finalize, sources.contains(where: \.broadcast) {
            // A still's layers, say, are the same for every frame of the camera path beside
            // it: made and written once, not once a frame.
            var shared = Set(initialValues.map(\.slot))
            for source in sources where source.broadcast { shared.formUnion(source.outputs.map(\.slot)) }
            for s in steps.indices where !steps[s].inputs.isEmpty && steps[s].inputs.allSatisfy({ shared.contains($0.slot) }) {
                steps[s].once = true
                shared.formUnion(steps[s].outputs.map(\.slot))
            }
        }
        self.steps = steps
        plan = try Self.plan(available: available, sources: sources, sinks: steps.compactMap { s in s.sink.map { (s.id, $0, s.once) } },
                             stateful: steps.contains { $0.keepsState }, options: options)
        finishingSources = phase == .map ? [] : sources
        if phase == .finalize, let recordFolder {
            try Self.checkRecords(in: recordFolder, for: plan.pending)
            sources = [Source(id: Self.recordNode, source: FrameRecordSource(folder: recordFolder, frameCount: available), outputs: recordOutputs)]
        }
        self.sources = sources
        notes = runNotes.all

        var resolvedInputs = spec.inputs
        for (name, value) in values { resolvedInputs[name]?.default = value }
        resolved = PipelineSpec(version: spec.version, name: spec.name, inputs: resolvedInputs, nodes: resolvedNodes)
    }

    /// What stages said while they were built, "node: text", in execution order.
    public let notes: [String]
    private let runNotes: RunNotes

    /// What stages said about single frames during the run ("node: frame N: text"), in the
    /// order they said it.
    public var frameNotes: [String] { Array(runNotes.all.dropFirst(notes.count)) }

    /// What each source read, one line each (`frames: clip.mp4: video, 36 frames, …`).
    public var sourceSummaries: [String] { sources.compactMap { s in s.source.summary.map { "\(s.id): \($0)" } } }

    /// The files the sinks write for `frame`, in execution order (those the sinks can name).
    public func outputFiles(for frame: FrameInfo) -> [URL] {
        steps.filter { !$0.once || frame.position == 0 }.compactMap { $0.sink?.outputs(for: frame) }.flatMap { $0 }
    }

    /// Stops taking new frames; frames in flight finish and `run` returns an interrupted summary.
    public func cancel() {
        cancelled.withLock { $0 = true }
        current.withLock { $0 }?.queue.close()
    }

    /// Frames the sources hold together: the shortest of those longer than one frame (stills
    /// accompany every frame), one when all are stills or there are none.
    static func frameCount(_ sources: [any FrameSource]) -> Int {
        sources.map(\.frameCount).filter { $0 != 1 }.min() ?? (sources.isEmpty ? 1 : sources.map(\.frameCount).min()!)
    }

    /// `sinks`: id, sink, and whether it writes once (as the first frame) rather than for every frame.
    static func plan(available: Int, sources: [Source], sinks: [(String, any FrameSink, Bool)], stateful: Bool,
                     options: RunOptions) throws -> FramePlan {
        var selected = 0
        var inShard: [FrameInfo] = []
        var first: FrameInfo?
        for index in options.frames.indices(count: available) where sources.allSatisfy({ $0.broadcast || $0.source.selects(index) }) {
            let frame = FrameInfo(index: index, position: selected, number: options.startNumber + selected)
            selected += 1
            if first == nil { first = frame }
            if options.shard?.contains(position: frame.position) ?? true { inShard.append(frame) }
        }
        guard selected > 0 else {
            throw PipelineError([Diagnostic(.error, .noFrames, at: "",
                                            "no frame to process: the inputs hold \(available) frames and --frames \(options.frames) selects none of them")])
        }
        if options.shard != nil, let (id, _, _) = sinks.first(where: { $0.1.outputs(for: inShard.first ?? FrameInfo(index: 0, position: 0, number: options.startNumber)) == nil }) {
            throw PipelineError([Diagnostic(.error, .notShardable, at: "", node: id,
                                            "node \"\(id)\" writes one file for the whole run, so each shard would write its own: run without --shard")])
        }
        var pending = inShard
        var replay = Set<Int>()
        if options.resume {
            if let (id, _, _) = sinks.first(where: { $0.1.outputs(for: inShard.first ?? FrameInfo(index: 0, position: 0, number: options.startNumber)) == nil }) {
                throw PipelineError([Diagnostic(.error, .resumeUnsupported, at: "", node: id,
                                                "node \"\(id)\" writes one file for the whole run, so --resume cannot tell which frames are done")])
            }
            let manager = FileManager.default
            let done = inShard.map { frame in
                sinks.allSatisfy { _, sink, once in
                    (once && frame.position != 0) || sink.outputs(for: frame)!.allSatisfy { manager.fileExists(atPath: $0.path) }
                }
            }
            if stateful {
                // A stateful stage must see every frame from the first: the done frames before
                // the last missing one are replayed through it (and what feeds it), unwritten.
                let end = done.lastIndex(of: false).map { $0 + 1 } ?? 0
                pending = Array(inShard[..<end])
                replay = Set(pending.indices.filter { done[$0] }.map { pending[$0].position })
            } else {
                pending = inShard.indices.filter { !done[$0] }.map { inShard[$0] }
            }
            return FramePlan(available: available, selected: selected, inShard: inShard.count,
                             alreadyDone: done.filter { $0 }.count, pending: pending, replay: replay, first: first!)
        }
        return FramePlan(available: available, selected: selected, inShard: inShard.count,
                         alreadyDone: 0, pending: pending, replay: replay, first: first!)
    }

    /// Applies `node.param=value` overrides; problems with their syntax or node are diagnostics
    /// (an unknown param is left for the validator, which suggests the closest).
    static func apply(_ overrides: [String], to spec: inout PipelineSpec) -> [Diagnostic] {
        var problems: [Diagnostic] = []
        for text in overrides {
            guard let eq = text.firstIndex(of: "="), let dot = text[..<eq].firstIndex(of: "."),
                  dot > text.startIndex, text.index(after: dot) < eq else {
                problems.append(Diagnostic(.error, .invalidOverride, at: "", "--set \(text): expected node.param=value"))
                continue
            }
            let id = String(text[..<dot]), param = String(text[text.index(after: dot)..<eq])
            let raw = String(text[text.index(after: eq)...])
            guard let i = spec.nodes.firstIndex(where: { $0.id == id }) else {
                let hint = suggestion(for: id, among: spec.nodes.map(\.id)).map { " (did you mean \"\($0)\"?)" } ?? ""
                problems.append(Diagnostic(.error, .invalidOverride, at: "", "--set \(text): no node has the id \"\(id)\"\(hint)"))
                continue
            }
            spec.nodes[i].params[param] = JSONValue(parsing: raw)
        }
        return problems
    }

    /// The type an edge carries (`"node.port"` or `"$inputs.name"`), once the spec has been validated.
    static func type(of edge: String, in spec: PipelineSpec, registry: StageRegistry) -> PortType? {
        if edge.hasPrefix("$inputs.") { return spec.inputs[String(edge.dropFirst("$inputs.".count))].flatMap { PortType(rawValue: $0.type) } }
        guard let dot = edge.firstIndex(of: ".") else { return nil }
        let (id, port) = (String(edge[..<dot]), String(edge[edge.index(after: dot)...]))
        guard let node = spec.nodes.first(where: { $0.id == id }), let stage = registry[node.stage] else { return nil }
        return stage.outputs.first { $0.name == port }?.type
    }

    /// The value of every declared input: the command line's, else the file's default.
    static func bind(_ options: RunOptions, to spec: PipelineSpec) -> ([String: JSONValue], [Diagnostic]) {
        var problems: [Diagnostic] = []
        var values: [String: JSONValue] = [:]
        for name in options.inputs.keys.sorted() where spec.inputs[name] == nil {
            problems.append(Diagnostic(.error, .undeclaredInput, at: "/inputs",
                                       "--input \(name): the pipeline has no input \"\(name)\" (declared: \(spec.inputs.keys.sorted().joined(separator: ", ")))"))
        }
        for (name, input) in spec.inputs.sorted(by: { $0.key < $1.key }) {
            let at = Pointer.path(["inputs", name])
            guard let type = PortType(rawValue: input.type) else { continue }  // reported by the validator
            let given = options.inputs[name]
            let isPath = [.video, .file, .imageSequence].contains(type)
            var value: JSONValue
            if let given {
                value = isPath || type == .string ? .string(given) : JSONValue(parsing: given)
            } else if let fallback = input.default {
                value = fallback
                // A default path is relative to the pipeline file, so the file runs from anywhere.
                if isPath, case .string(let path) = fallback, !path.hasPrefix("/"), let base = options.baseDirectory {
                    value = .string(base.absoluteURL.appendingPathComponent(path).standardizedFileURL.path)
                }
            } else {
                problems.append(Diagnostic(.error, .inputNotGiven, at: at, "input \"\(name)\" (\(type.rawValue)) is not given: add --input \(name)=…"))
                continue
            }
            if type == .number, case .number = value {} else if type == .number {
                problems.append(Diagnostic(.error, .invalidType, at: at, "input \"\(name)\" takes a number, not \(value)"))
                continue
            }
            // A video input may be a frame pattern (in/%05d.png), which the stage resolves.
            if (type == .video || type == .file), case .string(let path) = value,
               type == .file || path.range(of: #"%0?[0-9]*d"#, options: .regularExpression) == nil {
                var isFolder: ObjCBool = false
                let origin = given != nil ? "--input \(name)=\(path)" : "input \"\(name)\" default \(path)"
                if !FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) {
                    problems.append(Diagnostic(.error, .inputNotFound, at: at, "\(origin): no such file"))
                    continue
                } else if isFolder.boolValue {
                    problems.append(Diagnostic(.error, .inputNotFound, at: at, "\(origin): is a folder, not a file"))
                    continue
                }
            }
            values[name] = value
        }
        return (values, problems)
    }

    /// Whether the output folder exists and is writable, or can be created.
    static func checkOutputFolder(_ folder: URL) -> [Diagnostic] {
        var candidate = folder.standardized
        let manager = FileManager.default
        while true {
            var isFolder: ObjCBool = false
            if manager.fileExists(atPath: candidate.path, isDirectory: &isFolder) {
                let what = candidate.path == folder.standardized.path ? "it" : candidate.path
                if !isFolder.boolValue {
                    return [Diagnostic(.error, .outputNotWritable, at: "", "output folder \(folder.path): \(what) is a file, not a folder")]
                }
                if !manager.isWritableFile(atPath: candidate.path) {
                    return [Diagnostic(.error, .outputNotWritable, at: "", "output folder \(folder.path): \(what) is not writable")]
                }
                return []
            }
            let parent = candidate.deletingLastPathComponent()
            if parent.path == candidate.path { return [] }
            candidate = parent
        }
    }

    /// Node indices so that every node comes after the nodes it reads; file order among equals.
    static func topologicalOrder(_ spec: PipelineSpec) -> [Int] {
        let index = Dictionary(spec.nodes.enumerated().map { ($0.element.id, $0.offset) }, uniquingKeysWith: { a, _ in a })
        var indegree = [Int](repeating: 0, count: spec.nodes.count)
        var readers = [[Int]](repeating: [], count: spec.nodes.count)
        for (i, node) in spec.nodes.enumerated() {
            let producers = Set(node.inputs.values.compactMap { edge -> Int? in
                guard !edge.hasPrefix("$inputs."), let dot = edge.firstIndex(of: ".") else { return nil }
                return index[String(edge[..<dot])]
            })
            indegree[i] = producers.count
            for p in producers { readers[p].append(i) }
        }
        var ready = (0..<spec.nodes.count).filter { indegree[$0] == 0 }
        var order: [Int] = []
        while !ready.isEmpty {
            let next = ready.removeFirst()
            order.append(next)
            for r in readers[next] {
                indegree[r] -= 1
                if indegree[r] == 0 { ready.append(r); ready.sort() }
            }
        }
        return order
    }
}

extension JSONValue {
    /// `text` as JSON when it parses as JSON (numbers, booleans, quoted strings, arrays),
    /// otherwise as a plain string, so `--set save.pattern=out/%05d.png` needs no quotes.
    public init(parsing text: String) {
        if let data = text.data(using: .utf8), let value = try? JSONDecoder().decode(JSONValue.self, from: data) {
            self = value
        } else {
            self = .string(text)
        }
    }
}
