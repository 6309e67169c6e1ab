import Foundation
import StrataCore

extension PipelineRun {
    /// Processes the pending frames: a reader thread takes them in order from the sequential
    /// sources (a video decoder), and `threads` workers each carry one frame through every
    /// stage. At most `threads` + 2 frames are alive at once, so memory does not grow with
    /// the length of the input.
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
        var shared = [(any Sendable)?](repeating: nil, count: slotCount)
        for (slot, value) in initialValues { shared[slot] = value }
        for source in sources where source.broadcast {
            do {
                let values = try source.source.read(0)
                for (port, slot) in source.outputs { shared[slot] = values[port] }
            } catch {
                throw FrameFailure(frame: pending.first, node: source.id, underlying: error)
            }
        }
        // Steps that read only shared values run now, on the first frame; their sinks write
        // only where this run holds the first frame (one shard; not a resumed run that has it).
        if !pending.isEmpty, steps.contains(where: \.once) {
            let first = plan.first
            let holdsFirst = pending[0].position == 0
            for step in steps where step.once {
                do {
                    var inputs = PortValues()
                    for (port, slot) in step.inputs { inputs[port] = shared[slot] }
                    if let processor = step.processor {
                        let out = try processor.process(consume inputs, frame: first)
                        for (port, slot) in step.outputs { shared[slot] = out[port] }
                    } else if let sink = step.sink, holdsFirst {
                        try sink.write(consume inputs, frame: first)
                    }
                } catch {
                    throw FrameFailure(frame: first, node: step.id, underlying: error)
                }
            }
        }
        let base = UncheckedSendable(shared)  // the values are Sendable; the array is only copied

        // Sequential sources (a video decoder) are read ahead on their own thread into a queue
        // as deep as there are workers, so decoding overlaps the stages; without them the
        // workers take frame numbers straight from the queue. Either way at most
        // 2 × threads + 1 frames are alive at once.
        let workers = max(1, min(options.threads, pending.count))
        let sequential = sources.contains { !$0.broadcast && !$0.source.isRandomAccess }
        let queue = sequential ? FrameQueue(capacity: workers) : FrameQueue(tickets: pending.count)
        let execution = Execution(queue: queue, gates: steps.map { $0.kind == .stateful ? OrderGate() : nil })
        current.withLock { $0 = execution }
        if cancelled.withLock({ $0 }) { queue.close() }
        let group = DispatchGroup()
        if sequential {
            spawn(group) { [self] in read(pending: pending, base: base.value, execution: execution) }
        }
        for _ in 0..<workers {
            spawn(group) { [self] in
                work(pending: pending, base: base.value, execution: execution, start: start, progress: progress)
            }
        }
        group.wait()
        current.withLock { $0 = nil }

        let (done, failure) = execution.state.withLock { ($0.done, $0.failure) }
        if let failure { throw failure }
        let interrupted = done < pending.count
        if !interrupted {
            for source in finishingSources {
                do { try source.source.finish() } catch { throw FrameFailure(frame: nil, node: source.id, underlying: error) }
            }
            for step in steps {
                guard let sink = step.sink else { continue }
                do { try sink.finish() } catch { throw FrameFailure(frame: nil, node: step.id, underlying: error) }
            }
        }
        return RunSummary(plan: plan, processed: done, interrupted: interrupted, seconds: Date().timeIntervalSince(start))
    }

    private func spawn(_ group: DispatchGroup, _ body: @escaping @Sendable () -> Void) {
        group.enter()
        let thread = Thread {
            body()
            group.leave()
        }
        thread.stackSize = 8 << 20
        thread.start()
    }

    /// Shared state of the reader and the workers.
    final class Execution: Sendable {
        struct State {
            var done = 0
            var failure: FrameFailure?
        }
        let state = Mutex(State())
        /// Frames handed to the workers.
        let queue: FrameQueue
        /// One per step; stateful steps have a gate that admits frames in order.
        let gates: [OrderGate?]

        init(queue: FrameQueue, gates: [OrderGate?]) { (self.queue, self.gates) = (queue, gates) }

        /// Keeps the failure of the earliest frame; no frame starts after it, and frames
        /// waiting at a gate give up.
        func fail(_ failure: FrameFailure) {
            state.withLock { state in
                if let earlier = state.failure, let a = earlier.frame?.position, let b = failure.frame?.position, a <= b { return }
                state.failure = failure
            }
            queue.close()
            for gate in gates { gate?.abort() }
        }
    }

    /// The reader thread: frames in order from the sequential sources (a decoder reads forward).
    private func read(pending: [FrameInfo], base: [(any Sendable)?], execution: Execution) {
        let queue = execution.queue
        defer { queue.finish() }
        let sequential = sources.filter { !$0.broadcast && !$0.source.isRandomAccess }
        for ticket in pending.indices {
            var values = base
            for source in sequential {
                do {
                    let out = try source.source.read(pending[ticket].index)
                    for (port, slot) in source.outputs { values[slot] = out[port] }
                } catch {
                    execution.fail(FrameFailure(frame: pending[ticket], node: source.id, underlying: error))
                    return
                }
            }
            // Handed over, not shared: a copy kept here would make an in-place stage copy the image.
            guard queue.put(ticket, consume values) else { return }
        }
    }

    /// A worker thread: takes the next frame and carries it through every stage.
    private func work(pending: [FrameInfo], base: [(any Sendable)?], execution: Execution, start: Date,
                      progress: (@Sendable (RunProgress) -> Void)?) {
        let queue = execution.queue
        let randomAccess = sources.filter { !$0.broadcast && $0.source.isRandomAccess }
        var values = base  // this worker's frame values, refilled for each frame
        while let ticket = queue.take(into: &values, base: base) {
            let frame = pending[ticket]
            let replaying = plan.replay.contains(frame.position)
            var node = ""
            do {
                for source in randomAccess {
                    node = source.id
                    let out = try source.source.read(frame.index)
                    for (port, slot) in source.outputs { values[slot] = out[port] }
                }
                for (s, step) in steps.enumerated() where !step.once && (!replaying || step.rebuildsState) {
                    node = step.id
                    var inputs = PortValues()
                    for (port, slot) in step.inputs { inputs[port] = values[slot] }
                    // Values this step reads last move into its inputs, so a stage that takes
                    // one holds the only reference and may change it in place without a copy.
                    for slot in step.release { values[slot] = nil }
                    if let processor = step.processor {
                        let gate = execution.gates[s]
                        try gate?.wait(for: ticket)
                        defer { gate?.pass(ticket) }
                        let out = try processor.process(consume inputs, frame: frame)
                        for (port, slot) in step.outputs { values[slot] = out[port] }
                    } else if let sink = step.sink {
                        try sink.write(consume inputs, frame: frame)
                    }
                }
            } catch is OrderGate.Aborted {
                return
            } catch {
                execution.fail(FrameFailure(frame: frame, node: node, underlying: error))
                return
            }
            execution.state.withLock { state in
                state.done += 1
                // Reported under the lock so that observers see `done` count up one by one.
                if let progress {
                    progress(RunProgress(done: state.done, total: pending.count, frame: frame, elapsed: Date().timeIntervalSince(start)))
                }
            }
        }
    }
}

/// The bounded hand-off from the reader thread to the workers. Frames leave in the order
/// they came; once closed (a failure, a cancel) no frame leaves, so the frames processed are
/// always the first ones taken, which keeps stateful stages' order gap-free.
final class FrameQueue: @unchecked Sendable {
    private let condition = NSCondition()
    private var items: [(ticket: Int, values: [(any Sendable)?])] = []
    private var closed = false
    private var finished = false
    private let capacity: Int
    /// Without a reader: the next frame number to hand out, of `tickets`.
    private var nextTicket = 0
    private let tickets: Int?

    /// A queue a reader thread fills with `put`.
    init(capacity: Int) {
        (self.capacity, tickets) = (capacity, nil)
    }

    /// A queue that hands out frame numbers 0..<tickets, without values.
    init(tickets: Int) {
        (capacity, self.tickets) = (0, tickets)
    }

    /// Adds a frame, waiting while the queue is full; false once the queue is closed.
    func put(_ ticket: Int, _ values: [(any Sendable)?]) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while items.count >= capacity && !closed { condition.wait() }
        guard !closed else { return false }
        items.append((ticket, values))
        condition.broadcast()
        return true
    }

    /// The next frame's number, with its values moved into `values` (the reader's, or `base`
    /// without a reader); nil when the reader is done and the queue empty, or it was closed.
    ///
    /// The values move rather than being returned: a second binding to them would keep each
    /// one referenced, and a stage taking one to change in place would then have to copy it.
    func take(into values: inout [(any Sendable)?], base: [(any Sendable)?]) -> Int? {
        condition.lock()
        defer { condition.unlock() }
        if let tickets {
            guard !closed, nextTicket < tickets else { return nil }
            nextTicket += 1
            for slot in base.indices { values[slot] = base[slot] }  // reuses the worker's array
            return nextTicket - 1
        }
        while items.isEmpty && !closed && !finished { condition.wait() }
        guard !closed, !items.isEmpty else { return nil }
        condition.broadcast()
        let ticket = items[0].ticket
        values = items.removeFirst().values
        return ticket
    }

    /// The reader has no more frames.
    func finish() {
        condition.lock()
        finished = true
        condition.broadcast()
        condition.unlock()
    }

    /// Stops the hand-off: frames waiting in the queue are dropped.
    func close() {
        condition.lock()
        closed = true
        items.removeAll()
        condition.broadcast()
        condition.unlock()
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
