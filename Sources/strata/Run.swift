import ArgumentParser
import Foundation
import StrataCore
import StrataPipeline
import StrataStages

#if canImport(Glibc)
import Glibc
#endif

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a pipeline file on a video, an image sequence or an image.",
        discussion: """
        Frames stream through the pipeline's stages, several at once across cores; every \
        file is written under a temporary name and renamed, so an interrupted run leaves only \
        whole files, and --resume finishes exactly the missing frames. Output files are \
        numbered from --start-number (1) in the order --frames selects input frames (from 0).

        --shard i/n takes every n-th chunk of --shard-chunk frames starting with chunk i \
        (i from 0), so n batch jobs (a Slurm array, a Kubernetes indexed job) given the same \
        output folder together write exactly what one run would. A pipeline with a stage \
        that needs a finalize step (depth.align) is split in two: the shards run what comes \
        before that stage and store a record per frame under OUTPUT/.strata-records, then \
        one job with --finalize instead of --shard runs the rest over every frame, in order. \
        Stages that cannot be split are refused with --shard.

        Ctrl-C (SIGINT) or SIGTERM stops taking frames, finishes those in flight and exits \
        130 (143 for SIGTERM); a second one stops at once.

        Examples:
          strata run Pipelines/video-to-png.json --output-dir out
          strata run Pipelines/video-depth.json --output-dir out --shard 0/4
          strata run Pipelines/video-depth.json --output-dir out --finalize

        Exit codes: 0 done, 64 usage, 65 bad pipeline or data, 66 missing input, 70 \
        internal, 73 output cannot be created, 74 I/O, 130 interrupted.
        """
    )

    @Argument(help: "The pipeline JSON file.")
    var pipeline: String

    @Option(name: .customLong("input"), help: ArgumentHelp("A pipeline input, name=path (or name=value); repeatable.", valueName: "name=path"))
    var inputs: [String] = []

    @Option(name: .customLong("output-dir"), help: "The folder outputs go to (created).")
    var outputDir: String

    @Option(help: "Input frames to process, counted from 0: 10-200x2, 10-, -50, x3.")
    var frames: String?

    @Option(help: "This job's share, i/n with i from 0 (e.g. $SLURM_ARRAY_TASK_ID/4).")
    var shard: String?

    @Option(name: .customLong("shard-chunk"), help: "Consecutive frames per shard chunk.")
    var shardChunk = 100

    @Flag(help: "After every shard is done: run the stages from the one that needs a finalize step on, over every frame.")
    var finalize = false

    @Flag(help: "Skip frames whose output files all exist.")
    var resume = false

    @Flag(name: .customLong("dry-run"), help: "Check everything and print the resolved pipeline (defaults filled in) without running it.")
    var dryRun = false

    @Option(help: "Frames processed at once (default: one per core).")
    var threads: Int?

    @Option(help: "auto (a bar on a terminal), none, or json (one line per event on stdout).")
    var progress = "auto"

    @Option(name: .customLong("set"), help: ArgumentHelp("Override a param, node.param=value (JSON or plain text); repeatable.", valueName: "node.param=value"))
    var overrides: [String] = []

    @Option(name: .customLong("start-number"), help: "Number of the first output frame.")
    var startNumber = 1

    @Option(help: "How problems with the pipeline are printed: text (stderr) or json (stdout).")
    var diagnostics = "text"

    func validate() throws {
        guard ["auto", "none", "json"].contains(progress) else { throw ValidationError("--progress must be auto, none or json") }
        guard ["text", "json"].contains(diagnostics) else { throw ValidationError("--diagnostics must be text or json") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        guard shardChunk >= 1 else { throw ValidationError("--shard-chunk must be at least 1") }
        if finalize && shard != nil { throw ValidationError("--finalize runs once after every shard is done: give it without --shard") }
        guard startNumber >= 0 else { throw ValidationError("--start-number must be 0 or more") }
        for input in inputs where !input.contains("=") || input.hasPrefix("=") {
            throw ValidationError("--input \(input): expected name=path")
        }
    }

    func run() throws {
        guard let data = FileManager.default.contents(atPath: pipeline) else {
            printError("\(pipeline): no such file")
            throw ExitCode(66)
        }
        var options = RunOptions(outputDirectory: URL(fileURLWithPath: outputDir))
        options.baseDirectory = URL(fileURLWithPath: pipeline).absoluteURL.deletingLastPathComponent()
        for input in inputs {
            let eq = input.firstIndex(of: "=")!
            options.inputs[String(input[..<eq])] = String(input[input.index(after: eq)...])
        }
        options.overrides = overrides
        options.resume = resume
        options.finalize = finalize
        options.startNumber = startNumber
        if let threads {
            options.threads = threads
            Parallel.maxThreads = threads
        }
        do {
            if let frames { options.frames = try FrameRange(parsing: frames) }
            if let shard { options.shard = try Shard(parsing: shard, chunk: shardChunk) }
        } catch let error as ExitCodeProviding {
            printError("\(error)")
            throw ExitCode(error.exitCode)
        }

        let run: PipelineRun
        do {
            run = try PipelineRun(data: data, registry: StageLibrary.registry, options: options)
        } catch let error as PipelineError {
            try report(error.diagnostics)
            throw ExitCode(error.exitCode)
        }
        try report(run.warnings)
        for line in run.sourceSummaries { FileHandleStream.standardError.write("strata: \(line)\n") }
        for line in run.notes { FileHandleStream.standardError.write("strata: note: \(line)\n") }
        if dryRun {
            try printDryRun(run)
            return
        }

        let display = ProgressDisplay(mode: progress == "auto" ? (isatty(2) == 1 ? .bar : .none) : progress == "json" ? .json : .none)
        display.start(run)
        Interruption.watch(run)
        let summary: RunSummary
        defer { printFrameNotes(run.frameNotes) }
        do {
            summary = try run.run(progress: display.frameDone)
        } catch let error as FrameFailure {
            display.failed(error)
            printError(error.description)
            throw ExitCode(error.exitCode)
        } catch let error as PipelineError {
            display.failed(nil)
            try report(error.diagnostics)
            throw ExitCode(error.exitCode)
        }
        display.end(summary)
        let rate = summary.seconds > 0 ? String(format: " (%.1f frames/s)", Double(summary.processed) / summary.seconds) : ""
        let replayed = summary.plan.replay.isEmpty ? "" : ", \(summary.plan.replay.count) of them replayed through the stateful stages to rebuild their state"
        let skipped = summary.plan.alreadyDone > 0 ? "; \(summary.plan.alreadyDone) were already done\(replayed)" : ""
        if summary.interrupted {
            FileHandleStream.standardError.write("strata: interrupted after \(summary.processed) of \(summary.plan.pending.count) frames\(skipped); finish with --resume\n")
            throw ExitCode(Interruption.exitCode)
        }
        // Replayed frames pass through the run but write nothing: they are not counted as written.
        FileHandleStream.standardError.write("strata: \(summary.processed - summary.plan.replay.count) frames to \(outputDir) in \(String(format: "%.1f", summary.seconds)) s\(rate)\(skipped)\n")
        if run.phase == .map, let folder = run.recordFolder, let shard = run.options.shard {
            FileHandleStream.standardError.write("strata: shard \(shard) stored its frame records in \(folder.path); once every shard is done, run the same command with --finalize instead of --shard to write the final files\n")
        }
    }

    /// What stages said of single frames: the first few, then how many more.
    func printFrameNotes(_ lines: [String]) {
        let shown = 20
        for line in lines.prefix(shown) { FileHandleStream.standardError.write("strata: note: \(line)\n") }
        if lines.count > shown { FileHandleStream.standardError.write("strata: note: … and \(lines.count - shown) more frame notes\n") }
    }

    func report(_ found: [Diagnostic]) throws {
        if !found.isEmpty { try printDiagnostics(found, file: pipeline, json: diagnostics == "json") }
    }

    func printDryRun(_ run: PipelineRun) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        print(String(decoding: try encoder.encode(run.resolved), as: UTF8.self))
        let plan = run.plan
        var lines = ["strata: dry run: the inputs hold \(plan.available) frames; \(plan.selected) selected"]
        if let shard = run.options.shard { lines.append("shard \(shard) takes \(plan.inShard)") }
        if run.phase != .whole, let folder = run.recordFolder {
            lines.append(run.phase == .map ? "records to \(folder.path)" : "finalizing from \(folder.path)")
        }
        if resume { lines.append("\(plan.alreadyDone) already done") }
        lines.append("\(plan.pending.count) to process")
        var text = lines.joined(separator: ", ") + "\n"
        if let first = plan.pending.first {
            text += "strata: frame \(first.number) (input frame \(first.index)) would write "
                + run.outputFiles(for: first).map(\.path).joined(separator: ", ") + "\n"
        }
        FileHandleStream.standardError.write(text)
    }
}

/// The thread that takes SIGINT and SIGTERM; written once, before the handler that reads it
/// is installed.
nonisolated(unsafe) private var signalWaiter = pthread_t()

/// SIGINT and SIGTERM for the whole process: blocked in `Strata.main` before any other
/// thread exists (threads inherit the mask, FFmpeg's decoder threads included) and taken
/// by one thread with `sigwait`. Without a run to stop, a signal exits at once as the
/// default action would (128 + the signal); while `strata run` processes frames, the first
/// one cancels the run (frames in flight finish) and a second exits at once.
///
/// A handler or a dispatch source is not enough: the kernel may deliver the signal to any
/// thread that does not block it, and one created before the handler may not. Blocking is
/// not enough either: one thread already runs when `main` starts (the runtime's), with the
/// signals unblocked, and a signal the kernel gave it took the default action — the process
/// died mid-write, leaving a temporary file (a fresh-clone CI run caught it). So the signals
/// also get a handler, which runs only in such a thread and passes the signal on to the
/// waiting thread.
enum Interruption {
    private static let target = Mutex<PipelineRun?>(nil)
    private static let received = Mutex<Int32?>(nil)

    /// Blocks the signals and starts the thread that takes them; call first thing in `main`.
    static func install() {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        pthread_sigmask(SIG_BLOCK, &set, nil)
        let blocked = set
        let started = DispatchSemaphore(value: 0)
        let waiter = Thread {
            signalWaiter = pthread_self()
            started.signal()
            var signals = blocked
            while true {
                var number: Int32 = 0
                guard sigwait(&signals, &number) == 0 else { continue }
                let first = received.withLock { value -> Bool in
                    defer { value = value ?? number }
                    return value == nil
                }
                guard first, let run = target.withLock({ $0 }) else { _exit(128 + number) }
                run.cancel()
                FileHandleStream.standardError.write("\nstrata: interrupted: finishing the frames in flight (again to stop at once)\n")
            }
        }
        waiter.start()
        started.wait()
        // For threads that do not block the signals: hand the signal to the waiter (which
        // blocks it, so it stays pending there until sigwait takes it). pthread_kill is
        // async-signal-safe.
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { number in _ = pthread_kill(signalWaiter, number) }
        action.sa_flags = SA_RESTART
        sigemptyset(&action.sa_mask)
        for number in [SIGINT, SIGTERM] {
            var previous = sigaction()
            sigaction(number, nil, &previous)
            // A parent that ignores the signal (a shell's background job, nohup) keeps it ignored.
            if let handler = previous.__sigaction_handler.sa_handler, unsafeBitCast(handler, to: Int.self) == 1 { continue }
            sigaction(number, &action, nil)
        }
    }

    /// From now on a signal cancels `run` instead of exiting.
    static func watch(_ run: PipelineRun) { target.withLock { $0 = run } }

    /// 128 + the signal that stopped the run.
    static var exitCode: Int32 { 128 + (received.withLock { $0 } ?? SIGINT) }
}
