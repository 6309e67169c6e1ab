import Foundation
import StrataCore

/// What a run does of its pipeline.
public enum RunPhase: String, Sendable {
    /// Every stage, in memory: one machine.
    case whole
    /// A shard of a pipeline with a needs-finalize stage: the stages before it, and a record
    /// per frame of what the stages after it read.
    case map
    /// `--finalize`: the needs-finalize stages and everything after them, over the whole
    /// selection in order, reading the records the shards wrote.
    case finalize
}

extension PipelineRun {
    /// The id under which the record sink and source appear in messages.
    static let recordNode = "(frame records)"

    /// The nodes at or after a needs-finalize stage: what `--finalize` runs.
    static func finalizeSide(_ spec: PipelineSpec, registry: StageRegistry) -> Set<String> {
        var side = Set(spec.nodes.filter { registry[$0.stage]?.sharding == .needsFinalize }.map(\.id))
        var grew = !side.isEmpty
        while grew {
            grew = false
            for node in spec.nodes where !side.contains(node.id) {
                if node.inputs.values.contains(where: { side.contains(producer(of: $0) ?? "") }) {
                    side.insert(node.id)
                    grew = true
                }
            }
        }
        return side
    }

    /// The nodes whose outputs reach `id`, directly or through others.
    static func ancestors(of id: String, in spec: PipelineSpec) -> Set<String> {
        var found = Set<String>()
        var queue = [id]
        while let next = queue.popLast() {
            guard let node = spec.nodes.first(where: { $0.id == next }) else { continue }
            for from in node.inputs.values.compactMap(producer(of:)) where found.insert(from).inserted { queue.append(from) }
        }
        return found
    }

    /// The node an edge comes from (nil for a pipeline input).
    static func producer(of edge: String) -> String? {
        guard !edge.hasPrefix("$inputs."), let dot = edge.firstIndex(of: ".") else { return nil }
        return String(edge[..<dot])
    }

    /// The values the map side makes and the reduce side reads, as `node.port`, sorted.
    static func cut(_ spec: PipelineSpec, reduceSide: Set<String>) -> [String] {
        var edges = Set<String>()
        for node in spec.nodes where reduceSide.contains(node.id) {
            for edge in node.inputs.values {
                if let from = producer(of: edge), !reduceSide.contains(from) { edges.insert(edge) }
            }
        }
        return edges.sorted()
    }

    /// Whether `--shard` and `--finalize` fit the pipeline: not-shardable stages refuse a
    /// shard, `--finalize` needs a needs-finalize stage, and the values at the cut must be
    /// storable. Checked before any stage is built.
    static func checkSharding(_ spec: PipelineSpec, registry: StageRegistry, options: RunOptions, reduceSide: Set<String>) -> [Diagnostic] {
        var problems: [Diagnostic] = []
        if options.finalize && options.shard != nil {
            problems.append(Diagnostic(.error, .shardMode, at: "",
                                       "--finalize runs once over the whole selection after every shard is done: give it without --shard"))
        }
        if options.finalize && reduceSide.isEmpty {
            problems.append(Diagnostic(.error, .shardMode, at: "",
                                       "--finalize: no stage of this pipeline needs a finalize step; its shards already write the final files"))
        }
        if options.shard != nil {
            for (i, node) in spec.nodes.enumerated() where registry[node.stage]?.sharding == .notShardable {
                problems.append(Diagnostic(.error, .notShardable, at: Pointer.path(["nodes", i]), node: node.id,
                                           "node \"\(node.id)\" (\(node.stage)) keeps state from frame to frame and cannot be split across shards: run the pipeline without --shard on one machine"))
            }
        }
        if options.shard != nil || options.finalize {
            for edge in cut(spec, reduceSide: reduceSide) {
                guard let type = type(of: edge, in: spec, registry: registry), !FrameRecord.canStore(type) else { continue }
                let reader = spec.nodes.firstIndex { reduceSide.contains($0.id) && $0.inputs.values.contains(edge) }!
                problems.append(Diagnostic(.error, .notShardable, at: Pointer.path(["nodes", reader]), node: spec.nodes[reader].id,
                                           "node \"\(spec.nodes[reader].id)\" reads \(edge), a \(type.rawValue), across the finalize cut; only images, masks, depth, numbers and strings can be stored between the shards and --finalize"))
            }
        }
        return problems
    }

    /// `OUTPUT/.strata-records/KEY`, KEY a hash of everything the map side's values depend
    /// on (its nodes and params, the inputs, the frame selection, the cut), so that records
    /// of other settings are never read, while the reduce side's params may still change
    /// between the shards and `--finalize`.
    static func recordFolder(options: RunOptions, cut: [String], inputs: [String: JSONValue], mapNodes: [PipelineSpec.Node]) -> URL {
        struct Fingerprint: Encodable {
            var nodes: [PipelineSpec.Node]
            var inputs: [String: JSONValue]
            var frames: String
            var startNumber: Int
            var cut: [String]
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let fingerprint = Fingerprint(nodes: mapNodes.sorted { $0.id < $1.id }, inputs: inputs, frames: options.frames.description,
                                startNumber: options.startNumber, cut: cut)
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a: stable across runs and machines, unlike Hasher
        for byte in (try? encoder.encode(fingerprint)) ?? Data() {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        return options.outputDirectory.appendingPathComponent(".strata-records").appendingPathComponent(String(format: "%016llx", hash))
    }

    /// Before a finalize step: every frame it will read has its record.
    static func checkRecords(in folder: URL, for frames: [FrameInfo]) throws {
        guard !frames.isEmpty else { return }
        let manager = FileManager.default
        guard manager.fileExists(atPath: folder.path) else {
            throw PipelineError([Diagnostic(.error, .recordsMissing, at: "",
                                            "--finalize: no frame records for this pipeline in \(folder.path): run the shards first (--shard i/n) with the same pipeline, --input, --frames, --start-number and --set of the nodes before the finalize stage")])
        }
        let missing = frames.filter { !manager.fileExists(atPath: FrameRecordSink.url(in: folder, index: $0.index).path) }
        guard let first = missing.first else { return }
        throw PipelineError([Diagnostic(.error, .recordsMissing, at: "",
                                        "--finalize: \(missing.count) of \(frames.count) frames have no record in \(folder.path) (the first: frame \(first.number), input frame \(first.index)): a shard has not finished; rerun it with --resume")])
    }
}
