import Foundation
import StrataCore

/// How one run is asked for: what `strata run` takes on its command line.
public struct RunOptions: Sendable {
    /// Pipeline input name → path or value (`--input name=path`).
    public var inputs: [String: String] = [:]
    /// Param overrides, `node.param=value` (`--set`); the value is JSON when it parses as JSON.
    public var overrides: [String] = []
    /// Where sinks write.
    public var outputDirectory: URL
    /// Input frames to process, counted from 0.
    public var frames: FrameRange = .all
    /// This machine's share of the frames.
    public var shard: Shard?
    /// Run the stages at and after the needs-finalize stages over every selected frame,
    /// from the records the shards wrote.
    public var finalize = false
    /// Skip frames whose outputs all exist (replaying them through stateful stages).
    public var resume = false
    /// Frames in flight at once (each on its own thread).
    public var threads = Parallel.activeCores
    /// The number the first selected frame's outputs carry (ffmpeg's `-start_number`).
    public var startNumber = 1
    /// The folder relative input defaults in the pipeline file are resolved against (the file's own).
    public var baseDirectory: URL?

    public init(outputDirectory: URL) { self.outputDirectory = outputDirectory }
}

/// Shard `index` of `count`: every `count`-th chunk of `chunk` consecutive selected frames,
/// starting with chunk `index`, so that batch jobs 0…count−1 together cover every frame once.
public struct Shard: Sendable, Equatable, CustomStringConvertible {
    public var index: Int
    public var count: Int
    public var chunk: Int

    public init(index: Int, count: Int, chunk: Int = 100) {
        precondition(count >= 1 && (0..<count).contains(index) && chunk >= 1, "invalid shard")
        (self.index, self.count, self.chunk) = (index, count, chunk)
    }

    /// Parses `i/n` (i counts from 0, as Slurm array and Kubernetes job indices do).
    public init(parsing text: String, chunk: Int = 100) throws {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]) else {
            throw ShardError(text: text, reason: "expected i/n, such as 0/4")
        }
        guard n >= 1 else { throw ShardError(text: text, reason: "the shard count must be at least 1") }
        guard (0..<n).contains(i) else { throw ShardError(text: text, reason: "the shard index counts from 0 and must be below \(n)") }
        guard chunk >= 1 else { throw ShardError(text: text, reason: "the chunk size must be at least 1") }
        self.init(index: i, count: n, chunk: chunk)
    }

    /// Whether the frame at `position` of the selection belongs to this shard.
    public func contains(position: Int) -> Bool { (position / chunk) % count == index }

    public var description: String { "\(index)/\(count)" }
}

/// A `--shard` that cannot be parsed.
public struct ShardError: Error, Sendable, CustomStringConvertible, ExitCodeProviding {
    public var text: String
    public var reason: String
    public var description: String { "invalid shard \"\(text)\": \(reason)" }
    public var exitCode: Int32 { 64 }
}

/// Which frames a run touches.
public struct FramePlan: Sendable, Equatable {
    /// Frames the inputs hold.
    public var available: Int
    /// Frames `--frames` and the sources select, before sharding.
    public var selected: Int
    /// Frames in this shard (all selected ones without sharding).
    public var inShard: Int
    /// Frames of the shard whose outputs already exist (skipped by `--resume`).
    public var alreadyDone: Int
    /// The frames to process, in order.
    public var pending: [FrameInfo]
    /// Positions of pending frames that are already done and only pass through the stateful
    /// stages (and what feeds them) to rebuild their state: `--resume` of a stateful run.
    public var replay: Set<Int> = []
    /// The first selected frame (position 0), whether or not this run processes it: the
    /// frame that steps reading only stills run on.
    public var first: FrameInfo
}

/// How a run went.
public struct RunSummary: Sendable, Equatable {
    public var plan: FramePlan
    /// Frames processed and written by this run.
    public var processed: Int
    /// Whether `cancel()` stopped it before every pending frame was done.
    public var interrupted: Bool
    public var seconds: Double
}

/// Progress after each finished frame.
public struct RunProgress: Sendable {
    /// Frames finished by this run.
    public var done: Int
    /// Frames this run set out to process.
    public var total: Int
    /// The frame just finished.
    public var frame: FrameInfo
    /// Seconds since the first frame started.
    public var elapsed: Double
}

/// A run that cannot start: every problem found, each a diagnostic.
public struct PipelineError: Error, Sendable, CustomStringConvertible, ExitCodeProviding {
    public var diagnostics: [Diagnostic]
    public var exitCode: Int32

    public init(_ diagnostics: [Diagnostic], exitCode: Int32? = nil) {
        self.diagnostics = diagnostics
        let errors = diagnostics.filter { $0.severity == .error }
        // A bad file outranks a command line that does not fit it.
        self.exitCode = exitCode ?? (errors.contains { $0.code.exitCode == 65 } ? 65 : errors.first?.code.exitCode ?? 65)
    }

    public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}

/// A frame that failed: which frame, in which node, and why.
public struct FrameFailure: Error, CustomStringConvertible, ExitCodeProviding, @unchecked Sendable {
    /// The frame, or nil when a sink failed while finishing the run.
    public var frame: FrameInfo?
    public var node: String
    public var underlying: any Error

    public var exitCode: Int32 { (underlying as? ExitCodeProviding)?.exitCode ?? 70 }

    public var description: String {
        let place = frame.map { "frame \($0.number) (input frame \($0.index))" } ?? "finishing the run"
        return "\(place), node \"\(node)\": \(underlying)"
    }
}
