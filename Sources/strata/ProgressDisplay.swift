import Foundation
import StrataCore
import StrataPipeline

/// Shows a run's progress: a bar on stderr for people, or JSON lines on stdout for machines.
final class ProgressDisplay: Sendable {
    enum Mode { case bar, json, none }

    let mode: Mode
    private let lastBar = Mutex(Date.distantPast)

    init(mode: Mode) { self.mode = mode }

    struct Event: Encodable {
        var event: String
        var pipeline: String?
        var available: Int?
        var selected: Int?
        var shard: String?
        var alreadyDone: Int?
        var pending: Int?
        var done: Int?
        var total: Int?
        var number: Int?
        var index: Int?
        var elapsed: Double?
        var fps: Double?
        var eta: Double?
        var status: String?
        var processed: Int?
        var error: String?
        var frame: Int?
        var node: String?
    }

    private func emit(_ event: Event) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(event) else { return }
        FileHandle.standardOutput.write(data + Data("\n".utf8))
    }

    func start(_ run: PipelineRun) {
        guard mode == .json else { return }
        let plan = run.plan
        emit(Event(event: "start", pipeline: run.resolved.name, available: plan.available, selected: plan.selected,
                   shard: run.options.shard?.description, alreadyDone: plan.alreadyDone, pending: plan.pending.count))
    }

    /// Called by the runner after each frame, one call at a time.
    func frameDone(_ progress: RunProgress) {
        let fps = progress.elapsed > 0 ? Double(progress.done) / progress.elapsed : 0
        let eta = fps > 0 ? Double(progress.total - progress.done) / fps : 0
        switch mode {
        case .none: return
        case .json:
            emit(Event(event: "frame", done: progress.done, total: progress.total, number: progress.frame.number, index: progress.frame.index,
                       elapsed: (progress.elapsed * 1000).rounded() / 1000, fps: (fps * 100).rounded() / 100, eta: eta.rounded()))
        case .bar:
            // A terminal needs no more than ten redraws a second.
            let now = Date()
            let due = lastBar.withLock { last -> Bool in
                guard progress.done == progress.total || now.timeIntervalSince(last) >= 0.1 else { return false }
                last = now
                return true
            }
            guard due else { return }
            let fraction = progress.total > 0 ? Double(progress.done) / Double(progress.total) : 1
            let width = 30, filled = Int(fraction * Double(width))
            let bar = String(repeating: "=", count: filled) + (filled < width ? ">" : "") + String(repeating: " ", count: max(0, width - filled - 1))
            let line = String(format: "\r\u{1B}[K%d/%d [%@] %3.0f%% %.1f fps ETA %@", progress.done, progress.total, bar,
                              fraction * 100, fps, Self.clock(eta))
            FileHandleStream.standardError.write(line + (progress.done == progress.total ? "\n" : ""))
        }
    }

    func end(_ summary: RunSummary) {
        if mode == .bar && summary.interrupted { FileHandleStream.standardError.write("\n") }
        guard mode == .json else { return }
        emit(Event(event: "end", alreadyDone: summary.plan.alreadyDone, pending: summary.plan.pending.count,
                   elapsed: (summary.seconds * 1000).rounded() / 1000, status: summary.interrupted ? "interrupted" : "completed",
                   processed: summary.processed))
    }

    func failed(_ failure: FrameFailure?) {
        if mode == .bar { FileHandleStream.standardError.write("\n") }
        guard mode == .json else { return }
        emit(Event(event: "end", status: "failed", error: failure.map { "\($0.underlying)" },
                   frame: failure?.frame?.number, node: failure?.node))
    }

    static func clock(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }
}
