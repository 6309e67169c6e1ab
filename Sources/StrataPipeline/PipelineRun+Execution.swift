import Foundation
import StrataCore

extension PipelineRun {
    /// Processes the pending frames: each worker thread takes the next frame in order, reads
    /// it from the sources, and carries it through every stage. At most `threads` frames are
    /// alive at once, so memory does not grow with the length of the input.
    ///
    /// A failing frame stops the run: no new frame starts, frames in flight finish (their
    /// files are kept), and the failure is thrown with the frame, node and cause.
    public func run(progress: (@Sendable (RunProgress) -> Void)? = nil) throws -> RunSummary {
        do {
            try FileManager.default.createDirectory(at: options.outputDirectory, withIntermediateDirectories: true)
        } catch {
            throw PipelineError([Diagnostic(.error, .outputNotWritable, at: "",
                                            "output folder \(options.outputDirectory.path): \((error as NSError).localizedDescription)")])
        }
        for step in steps {
            guard let sink = step.sink else { continue }
            do { try sink.prepare() } catch { throw FrameFailure(frame: nil, node: step.id, underlying: error) }
        }

        let start = Date()
        let pending = plan.pending
        let execution = Execution(gates: steps.map { $0.kind == .stateful ? OrderGate() : nil })
        var shared: [String: any Sendable] = inputValues
        for source in sources where source.broadcast {
            do {
                let values = try source.source.read(0)
                for port in values.ports { shared["\(source.id).\(port)"] = values[port] }
            } catch {
                throw FrameFailure(frame: pending.first, node: source.id, underlying: error)
            }
        }
        let base = UncheckedSendable(shared)  // values are Sendable; the dictionary is only read

        let workers = max(1, min(options.threads, pending.count))
        let group = DispatchGroup()
        for _ in 0..<workers {
            group.enter()
            let thread = Thread { [self] in
                work(pending: pending, base: base.value, execution: execution, start: start, progress: progress)
                group.leave()
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
        group.wait()

        let (done, failure) = execution.state.withLock { ($0.done, $0.failure) }
        if let failure { throw failure }
        let interrupted = done < pending.count
        if !interrupted {
            for step in steps {
                guard let sink = step.sink else { continue }
                do { try sink.finish() } catch { throw FrameFailure(frame: nil, node: step.id, underlying: error) }
            }
        }
        return RunSummary(plan: plan, processed: done, interrupted: interrupted, seconds: Date().timeIntervalSince(start))
    }

    /// Shared state of the workers.
    final class Execution: Sendable {
        struct State {
            var next = 0
            var done = 0
            var failure: FrameFailure?
        }
        let state = Mutex(State())
        /// Held while taking a frame and reading it from sequential sources, so they see increasing indices.
        let reader = NSLock()
        /// One per step; stateful steps have a gate that admits frames in order.
        let gates: [OrderGate?]

        init(gates: [OrderGate?]) { self.gates = gates }

        /// Keeps the failure of the earliest frame; later frames waiting at a gate give up.
        func fail(_ failure: FrameFailure) {
            state.withLock { state in
                if let earlier = state.failure, let a = earlier.frame?.position, let b = failure.frame?.position, a <= b { return }
                state.failure = failure
            }
            for gate in gates { gate?.abort() }
        }
    }

    private func work(pending: [FrameInfo], base: [String: any Sendable], execution: Execution, start: Date,
                      progress: (@Sendable (RunProgress) -> Void)?) {
        while true {
            execution.reader.lock()
            let taken: Int? = execution.state.withLock { state in
                guard state.failure == nil, state.next < pending.count, !cancelled.withLock({ $0 }) else { return nil }
                state.next += 1
                return state.next - 1
            }
            guard let ticket = taken else {
                execution.reader.unlock()
                return
            }
            let frame = pending[ticket]
            var values = base
            var node = ""
            var holdingReader = true
            do {
                for source in sources where !source.broadcast && !source.source.isRandomAccess {
                    node = source.id
                    let out = try source.source.read(frame.index)
                    for port in out.ports { values["\(source.id).\(port)"] = out[port] }
                }
                execution.reader.unlock()
                holdingReader = false
                for source in sources where !source.broadcast && source.source.isRandomAccess {
                    node = source.id
                    let out = try source.source.read(frame.index)
                    for port in out.ports { values["\(source.id).\(port)"] = out[port] }
                }
                for (s, step) in steps.enumerated() {
                    node = step.id
                    var inputs = PortValues()
                    for (port, key) in step.inputs { inputs[port] = values[key] }
                    if let processor = step.processor {
                        let gate = execution.gates[s]
                        try gate?.wait(for: ticket)
                        defer { gate?.pass(ticket) }
                        let out = try processor.process(inputs, frame: frame)
                        for port in out.ports { values["\(step.id).\(port)"] = out[port] }
                    } else if let sink = step.sink {
                        try sink.write(inputs, frame: frame)
                    }
                    for key in step.release { values[key] = nil }
                }
            } catch is OrderGate.Aborted {
                return
            } catch {
                if holdingReader { execution.reader.unlock() }
                execution.fail(FrameFailure(frame: frame, node: node, underlying: error))
                return
            }
            execution.state.withLock { state in
                state.done += 1
                // Reported under the lock so that observers see `done` count up one by one.
                progress?(RunProgress(done: state.done, total: pending.count, frame: frame, elapsed: Date().timeIntervalSince(start)))
            }
        }
    }
}

/// Admits frames to a stateful stage one at a time, in the order they were taken.
final class OrderGate: @unchecked Sendable {
    struct Aborted: Error {}

    private let condition = NSCondition()
    private var next = 0
    private var aborted = false

    func wait(for ticket: Int) throws {
        condition.lock()
        defer { condition.unlock() }
        while next != ticket && !aborted { condition.wait() }
        if aborted && next != ticket { throw Aborted() }
    }

    func pass(_ ticket: Int) {
        condition.lock()
        next = ticket + 1
        condition.broadcast()
        condition.unlock()
    }

    func abort() {
        condition.lock()
        aborted = true
        condition.broadcast()
        condition.unlock()
    }
}
