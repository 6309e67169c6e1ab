import Foundation
import StrataCore
import XCTest
@testable import StrataPipeline

/// The runner on stages made for the test: every frame carries its index, so what arrives
/// where, in which order and how often is known exactly.
final class RunnerTests: XCTestCase {
    /// What the test stages saw.
    final class Recorder: Sendable {
        struct State {
            var written: [Int: Int] = [:]  // frame number → value written
            var writes = 0
            var statefulOrder: [Int] = []
            var live = 0
            var maxLive = 0
            var running = 0
            var maxRunning = 0
        }
        let state = Mutex(State())
    }

    /// A frame's payload whose lifetime the recorder counts.
    final class Token: Sendable {
        let index: Int
        let recorder: Recorder
        init(_ index: Int, _ recorder: Recorder) {
            (self.index, self.recorder) = (index, recorder)
            recorder.state.withLock { $0.live += 1; $0.maxLive = max($0.maxLive, $0.live) }
        }
        deinit { recorder.state.withLock { $0.live -= 1 } }
    }

    final class CountSource: FrameSource {
        let frameCount: Int
        let step: Int
        let recorder: Recorder
        var lastRead = -1
        init(_ count: Int, step: Int, _ recorder: Recorder) { (frameCount, self.step, self.recorder) = (count, step, recorder) }
        func selects(_ index: Int) -> Bool { index % step == 0 }
        func read(_ index: Int) throws -> PortValues {
            precondition(index > lastRead, "a sequential source read out of order")
            lastRead = index
            return PortValues(["value": index, "token": Token(index, recorder)])
        }
    }

    final class Still: FrameSource {
        var frameCount: Int { 1 }
        func read(_ index: Int) throws -> PortValues { PortValues(["value": 1000]) }
    }

    /// value × factor, after a short random pause so frames overtake each other.
    final class Scale: FrameProcessor {
        let factor: Int
        let recorder: Recorder
        init(_ factor: Int, _ recorder: Recorder) { (self.factor, self.recorder) = (factor, recorder) }
        func process(_ inputs: consuming PortValues, frame: FrameInfo) throws -> PortValues {
            recorder.state.withLock { $0.running += 1; $0.maxRunning = max($0.maxRunning, $0.running) }
            usleep(UInt32.random(in: 0...2000))
            recorder.state.withLock { $0.running -= 1 }
            return PortValues(["value": try inputs.get("value", as: Int.self) * factor])
        }
    }

    final class Add: FrameProcessor {
        func process(_ inputs: consuming PortValues, frame: FrameInfo) throws -> PortValues {
            PortValues(["value": try inputs.get("a", as: Int.self) + inputs.get("b", as: Int.self)])
        }
    }

    /// Records the order it sees frames in, and passes the value through.
    final class Ordered: FrameProcessor, @unchecked Sendable {
        let recorder: Recorder
        init(_ recorder: Recorder) { self.recorder = recorder }
        func process(_ inputs: consuming PortValues, frame: FrameInfo) throws -> PortValues {
            recorder.state.withLock { $0.statefulOrder.append(frame.index) }
            return PortValues(["value": try inputs.get("value", as: Int.self)])
        }
    }

    /// The running sum of the values so far: each output depends on every frame before it.
    final class Cumulative: FrameProcessor, @unchecked Sendable {
        let recorder: Recorder
        var sum = 0
        init(_ recorder: Recorder) { self.recorder = recorder }
        func process(_ inputs: consuming PortValues, frame: FrameInfo) throws -> PortValues {
            recorder.state.withLock { $0.statefulOrder.append(frame.index) }
            sum += try inputs.get("value", as: Int.self)
            return PortValues(["value": sum])
        }
    }

    /// Writes `<number>.txt` holding the value; fails at input frame `failAt`; cancels the run at `cancelAt`.
    final class Collect: FrameSink, @unchecked Sendable {
        let folder: URL
        let failAt: Int?
        let recorder: Recorder
        let perFrame: Bool
        var onWrite: (@Sendable (FrameInfo) -> Void)?
        init(_ folder: URL, failAt: Int?, perFrame: Bool, _ recorder: Recorder) {
            (self.folder, self.failAt, self.perFrame, self.recorder) = (folder, failAt, perFrame, recorder)
        }
        func outputs(for frame: FrameInfo) -> [URL]? { perFrame ? [folder.appendingPathComponent("\(frame.number).txt")] : nil }
        func prepare() throws { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) }
        func write(_ inputs: consuming PortValues, frame: FrameInfo) throws {
            if frame.index == failAt { throw StageError("frame \(frame.index) is cursed") }
            let value = try inputs.get("value", as: Int.self)
            try Data("\(value)".utf8).write(to: folder.appendingPathComponent("\(frame.number).txt"))
            recorder.state.withLock { $0.written[frame.number] = value; $0.writes += 1 }
            onWrite?(frame)
        }
    }

    var folder: URL!
    let recorder = Recorder()
    let collectHook = Mutex<(@Sendable (FrameInfo) -> Void)?>(nil)

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("strata-runner-\(UUID().uuidString)")
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
    }

    var registry: StageRegistry {
        var registry = StageRegistry()
        let recorder = self.recorder, hook = collectHook
        registry.register(StageDescriptor(name: "test.count", kind: .source, doc: "0, 1, 2, …",
                                          outputs: [PortSpec("value", .number), PortSpec("token", .string)],
                                          params: [ParamSpec("frames", .integer(min: 0, max: nil), default: .number(40), doc: "How many."),
                                                   ParamSpec("step", .integer(min: 1, max: nil), default: .number(1), doc: "Every n-th.")])) {
            .source(CountSource(try $0.int("frames"), step: try $0.int("step"), recorder))
        }
        registry.register(StageDescriptor(name: "test.still", kind: .source, doc: "One frame.", outputs: [PortSpec("value", .number)])) { _ in
            .source(Still())
        }
        registry.register(StageDescriptor(name: "test.scale", kind: .perFrame, doc: "× factor.",
                                          inputs: [PortSpec("value", .number)], outputs: [PortSpec("value", .number)],
                                          params: [ParamSpec("factor", .integer(min: nil, max: nil), default: .number(2), doc: "Factor.")])) {
            .processor(Scale(try $0.int("factor"), recorder))
        }
        registry.register(StageDescriptor(name: "test.add", kind: .perFrame, doc: "a + b.",
                                          inputs: [PortSpec("a", .number), PortSpec("b", .number)], outputs: [PortSpec("value", .number)])) { _ in
            .processor(Add())
        }
        // Sees frames in order but passes values through unchanged: per-frame under sharding.
        registry.register(StageDescriptor(name: "test.ordered", kind: .stateful, sharding: .perFrame, doc: "Sees frames in order.",
                                          inputs: [PortSpec("value", .number)], outputs: [PortSpec("value", .number)])) { _ in
            .processor(Ordered(recorder))
        }
        registry.register(StageDescriptor(name: "test.collect", kind: .sink, doc: "Records.",
                                          inputs: [PortSpec("value", .number)],
                                          params: [ParamSpec("failAt", .integer(min: 0, max: nil), doc: "Input frame that fails."),
                                                   ParamSpec("perFrame", .boolean, default: .bool(true), doc: "One file per frame.")])) { context in
            let sink = Collect(context.outputDirectory.appendingPathComponent(context.node), failAt: try context.optionalInt("failAt"),
                               perFrame: try context.bool("perFrame"), recorder)
            sink.onWrite = hook.withLock { $0 }
            return .sink(sink)
        }
        registry.register(StageDescriptor(name: "test.cumulative", kind: .stateful, sharding: .needsFinalize, doc: "Running sum.",
                                          inputs: [PortSpec("value", .number)], outputs: [PortSpec("value", .number)])) { _ in
            .processor(Cumulative(recorder))
        }
        registry.register(StageDescriptor(name: "test.running", kind: .stateful, doc: "Running sum, not shardable.",
                                          inputs: [PortSpec("value", .number)], outputs: [PortSpec("value", .number)])) { _ in
            .processor(Cumulative(recorder))
        }
        registry.register(StageDescriptor(name: "test.unbuilt", kind: .perFrame, doc: "No factory.",
                                          inputs: [PortSpec("value", .number)], outputs: [PortSpec("value", .number)]))
        return registry
    }

    /// source → scale ×2 → ordered → add(a: source, b: ordered) → collect: each frame writes 3 × index.
    func pipeline(frames: Int = 40, step: Int = 1, failAt: Int? = nil, extra: String = "") -> Data {
        let fail = failAt.map { #", "params": { "failAt": \#($0) }"# } ?? ""
        return Data("""
        { "version": 1, "name": "t", "inputs": { "label": { "type": "string", "default": "x" } },
          "nodes": [
            { "id": "sum", "stage": "test.add", "inputs": { "a": "src.value", "b": "kept.value" } },
            { "id": "save", "stage": "test.collect", "inputs": { "value": "sum.value" }\(fail) },
            { "id": "kept", "stage": "test.ordered", "inputs": { "value": "twice.value" } },
            { "id": "twice", "stage": "test.scale", "inputs": { "value": "src.value" } },
            { "id": "src", "stage": "test.count", "params": { "frames": \(frames), "step": \(step) } }\(extra)
          ] }
        """.utf8)
    }

    /// source → scale ×2 → `stage` (a running sum) → add(a: source, b: sum) → collect:
    /// frame i writes i + i(i + 1).
    func statefulPipeline(frames: Int, stage: String = "test.cumulative") -> Data {
        Data("""
        { "version": 1, "name": "s", "inputs": {},
          "nodes": [
            { "id": "src", "stage": "test.count", "params": { "frames": \(frames) } },
            { "id": "twice", "stage": "test.scale", "inputs": { "value": "src.value" } },
            { "id": "sum", "stage": "\(stage)", "inputs": { "value": "twice.value" } },
            { "id": "mix", "stage": "test.add", "inputs": { "a": "src.value", "b": "sum.value" } },
            { "id": "save", "stage": "test.collect", "inputs": { "value": "mix.value" } }
          ] }
        """.utf8)
    }

    func options(threads: Int = 4, _ configure: (inout RunOptions) throws -> Void = { _ in }) rethrows -> RunOptions {
        var options = RunOptions(outputDirectory: folder)
        options.threads = threads
        try configure(&options)
        return options
    }

    func written() -> [Int: Int] { recorder.state.withLock { $0.written } }

    func testFramesFlowThroughFanOutAndFanInWithEveryFrameOnce() throws {
        let run = try PipelineRun(data: pipeline(), registry: registry, options: options())
        XCTAssertEqual(run.resolved.nodes.map(\.id), ["src", "twice", "kept", "sum", "save"])
        let summary = try run.run()
        XCTAssertEqual(summary.processed, 40)
        XCTAssertFalse(summary.interrupted)
        XCTAssertEqual(written(), Dictionary(uniqueKeysWithValues: (0..<40).map { ($0 + 1, 3 * $0) }))
        XCTAssertEqual(recorder.state.withLock { $0.writes }, 40)
        XCTAssertEqual(try String(contentsOf: folder.appendingPathComponent("save/40.txt"), encoding: .utf8), "117")
    }

    func testPerFrameStagesRunConcurrentlyAndStatefulOnesSeeFramesInOrder() throws {
        let run = try PipelineRun(data: pipeline(frames: 120), registry: registry, options: options(threads: 4))
        _ = try run.run()
        let state = recorder.state.withLock { $0 }
        XCTAssertEqual(state.statefulOrder, Array(0..<120))
        XCTAssertGreaterThan(state.maxRunning, 1, "per-frame stages never overlapped")
        XCTAssertLessThanOrEqual(state.maxRunning, 4)
    }

    func testFramesAliveAtOnceNeverExceedTheThreads() throws {
        let run = try PipelineRun(data: pipeline(frames: 400), registry: registry, options: options(threads: 3))
        XCTAssertEqual(try run.run().processed, 400)
        let state = recorder.state.withLock { $0 }
        XCTAssertEqual(state.live, 0)
        XCTAssertLessThanOrEqual(state.maxLive, 2 * 3 + 1, "frames pile up: memory would grow with the input")
    }

    func testFrameRangeStepAndStartNumberNumberOutputsFromTheSelection() throws {
        let run = try PipelineRun(data: pipeline(frames: 40, step: 2), registry: registry, options: options {
            $0.frames = try FrameRange(parsing: "10-30x3")
            $0.startNumber = 0
        })
        // The source takes even frames, --frames every third from 10 (10, 13, 16, …): both select 10, 16, 22, 28.
        XCTAssertEqual(run.plan.pending.map(\.index), [10, 16, 22, 28])
        XCTAssertEqual(run.plan.pending.map(\.number), [0, 1, 2, 3])
        _ = try run.run()
        XCTAssertEqual(written(), [0: 30, 1: 48, 2: 66, 3: 84])
    }

    func testAStillAccompaniesEveryFrameOfALongerSource() throws {
        let extra = #", { "id": "logo", "stage": "test.still" }, { "id": "mix", "stage": "test.add", "inputs": { "a": "src.value", "b": "logo.value" } }, { "id": "out2", "stage": "test.collect", "inputs": { "value": "mix.value" } }"#
        let run = try PipelineRun(data: pipeline(frames: 10, extra: extra), registry: registry, options: options())
        XCTAssertEqual(run.plan.available, 10)
        _ = try run.run()
        for i in 0..<10 {
            XCTAssertEqual(try String(contentsOf: folder.appendingPathComponent("out2/\(i + 1).txt"), encoding: .utf8), "\(1000 + i)")
        }
    }

    func testAFailingFrameStopsTheRunNamingFrameAndNodeAndKeepsEarlierFrames() throws {
        let run = try PipelineRun(data: pipeline(frames: 200, failAt: 17), registry: registry, options: options(threads: 4))
        XCTAssertThrowsError(try run.run()) { error in
            guard let failure = error as? FrameFailure else { return XCTFail("\(error)") }
            XCTAssertEqual(failure.frame?.index, 17)
            XCTAssertEqual(failure.frame?.number, 18)
            XCTAssertEqual(failure.node, "save")
            XCTAssertEqual(failure.exitCode, 65)
            XCTAssertEqual(failure.description, "frame 18 (input frame 17), node \"save\": frame 17 is cursed")
        }
        let numbers = Set(written().keys)
        XCTAssertTrue(Set(1...17).isSubset(of: numbers), "frames before the failure were lost: \(numbers.sorted())")
        XCTAssertFalse(numbers.contains(18))
        XCTAssertLessThan(numbers.count, 30, "the run went on long after the failure")
    }

    func testShardsTogetherWriteExactlyWhatOneRunWrites() throws {
        _ = try PipelineRun(data: pipeline(frames: 53), registry: registry, options: options { $0.frames = try FrameRange(parsing: "3-") }).run()
        let full = written()
        XCTAssertEqual(full.count, 50)
        var union: [Int: Int] = [:]
        for i in 0..<3 {
            try FileManager.default.removeItem(at: folder)
            recorder.state.withLock { $0.written = [:] }
            let run = try PipelineRun(data: pipeline(frames: 53), registry: registry, options: options {
                $0.frames = try FrameRange(parsing: "3-")
                $0.shard = Shard(index: i, count: 3, chunk: 7)
            })
            XCTAssertEqual(run.plan.pending.map(\.position), (0..<50).filter { ($0 / 7) % 3 == i })
            _ = try run.run()
            for (number, value) in written() {
                XCTAssertNil(union[number], "frame \(number) written by two shards")
                union[number] = value
            }
        }
        XCTAssertEqual(union, full)
    }

    func testAStatefulPipelineShardsAsMapAndFinalizeToExactlyWhatOneRunWrites() throws {
        let expected = Dictionary(uniqueKeysWithValues: (3..<50).map { ($0 - 2, $0 + $0 * ($0 + 1) - 6) })
        _ = try PipelineRun(data: statefulPipeline(frames: 50), registry: registry, options: options { $0.frames = try FrameRange(parsing: "3-") }).run()
        XCTAssertEqual(written(), expected)
        let whole = written()
        try FileManager.default.removeItem(at: folder)
        recorder.state.withLock { $0 = .init() }

        for i in 0..<3 {
            let run = try PipelineRun(data: statefulPipeline(frames: 50), registry: registry, options: options {
                $0.frames = try FrameRange(parsing: "3-")
                $0.shard = Shard(index: i, count: 3, chunk: 4)
            })
            XCTAssertEqual(run.phase, .map)
            XCTAssertEqual(run.plan.pending.map(\.position), (0..<47).filter { ($0 / 4) % 3 == i })
            _ = try run.run()
        }
        // The shards ran the map side only: nothing final written, the stateful stage untouched.
        XCTAssertEqual(written(), [:])
        XCTAssertEqual(recorder.state.withLock { $0.statefulOrder }, [])
        let records = try XCTUnwrap(try PipelineRun(data: statefulPipeline(frames: 50), registry: registry, options: options {
            $0.frames = try FrameRange(parsing: "3-")
            $0.finalize = true
        }).recordFolder)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: records.path).filter { $0.hasSuffix(".record") }.count, 47)

        let finalize = try PipelineRun(data: statefulPipeline(frames: 50), registry: registry, options: options {
            $0.frames = try FrameRange(parsing: "3-")
            $0.finalize = true
        })
        XCTAssertEqual(finalize.phase, .finalize)
        XCTAssertEqual(try finalize.run().processed, 47)
        XCTAssertEqual(written(), whole)
        XCTAssertEqual(recorder.state.withLock { $0.statefulOrder }, Array(3..<50))
    }

    func testFinalizeRefusesMissingRecordsAndAPipelineWithoutAFinalizeStage() throws {
        var run = try PipelineRun(data: statefulPipeline(frames: 20), registry: registry, options: options { $0.shard = Shard(index: 0, count: 2, chunk: 5) })
        _ = try run.run()
        // Shard 1/2 never ran: frames 5–9 and 15–19 have no record.
        XCTAssertThrowsError(try PipelineRun(data: statefulPipeline(frames: 20), registry: registry, options: options { $0.finalize = true })) { error in
            let error = error as! PipelineError
            XCTAssertEqual(error.exitCode, 66)
            XCTAssertEqual(error.diagnostics.map(\.code), [.recordsMissing])
            XCTAssertTrue(error.description.contains("10 of 20 frames have no record"), error.description)
            XCTAssertTrue(error.description.contains("the first: frame 6, input frame 5"), error.description)
        }
        // Records of other map-side settings are never read.
        XCTAssertThrowsError(try PipelineRun(data: statefulPipeline(frames: 20), registry: registry, options: options {
            $0.finalize = true
            $0.overrides = ["twice.factor=3"]
        })) { error in
            XCTAssertEqual((error as! PipelineError).exitCode, 66)
            XCTAssertTrue("\(error)".contains("no frame records for this pipeline"), "\(error)")
        }
        // --finalize on a pipeline whose shards are already final; --finalize with --shard.
        for configure: (inout RunOptions) -> Void in [{ $0.finalize = true }, { $0.finalize = true; $0.shard = Shard(index: 0, count: 2) }] {
            XCTAssertThrowsError(try PipelineRun(data: pipeline(frames: 5), registry: registry, options: options(configure))) { error in
                XCTAssertEqual((error as! PipelineError).exitCode, 64)
                XCTAssertTrue((error as! PipelineError).diagnostics.allSatisfy { $0.code == .shardMode }, "\(error)")
            }
        }
        run = try PipelineRun(data: statefulPipeline(frames: 20), registry: registry, options: options { $0.shard = Shard(index: 1, count: 2, chunk: 5) })
        _ = try run.run()
        XCTAssertEqual(try PipelineRun(data: statefulPipeline(frames: 20), registry: registry, options: options { $0.finalize = true }).run().processed, 20)
    }

    func testANotShardableStageIsRefusedWithShardBeforeAnyFileIsWritten() throws {
        XCTAssertThrowsError(try PipelineRun(data: statefulPipeline(frames: 20, stage: "test.running"), registry: registry,
                                             options: options { $0.shard = Shard(index: 0, count: 2) })) { error in
            let error = error as! PipelineError
            XCTAssertEqual(error.exitCode, 64)
            XCTAssertEqual(error.diagnostics.map(\.code), [.notShardable])
            XCTAssertEqual(error.diagnostics.first?.node, "sum")
            XCTAssertEqual(error.diagnostics.first?.pointer, "/nodes/2")
            XCTAssertTrue(error.description.contains("keeps state from frame to frame"), error.description)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.path))
        // A sink that writes one file for the whole run cannot be sharded either.
        XCTAssertThrowsError(try PipelineRun(data: pipeline(frames: 20, extra: #", { "id": "one", "stage": "test.collect", "inputs": { "value": "src.value" }, "params": { "perFrame": false } }"#),
                                             registry: registry, options: options { $0.shard = Shard(index: 0, count: 2) })) { error in
            XCTAssertEqual((error as! PipelineError).diagnostics.map(\.code), [.notShardable])
            XCTAssertEqual((error as! PipelineError).diagnostics.first?.node, "one")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.path))
        // Without --shard it runs.
        XCTAssertEqual(try PipelineRun(data: statefulPipeline(frames: 20, stage: "test.running"), registry: registry, options: options()).run().processed, 20)
    }

    func testResumeReplaysDoneFramesThroughStatefulStagesAndWritesOnlyTheMissingOnes() throws {
        _ = try PipelineRun(data: statefulPipeline(frames: 30), registry: registry, options: options()).run()
        let whole = written()
        for n in [4, 11, 12] { try FileManager.default.removeItem(at: folder.appendingPathComponent("save/\(n).txt")) }
        recorder.state.withLock { $0 = .init() }
        let run = try PipelineRun(data: statefulPipeline(frames: 30), registry: registry, options: options { $0.resume = true })
        XCTAssertEqual(run.plan.alreadyDone, 27)
        // Frames up to the last missing one pass through the running sum; those done are not written again.
        XCTAssertEqual(run.plan.pending.map(\.number), Array(1...12))
        XCTAssertEqual(run.plan.replay, Set((0..<12).filter { ![3, 10, 11].contains($0) }))
        _ = try run.run()
        XCTAssertEqual(recorder.state.withLock { $0.statefulOrder }, Array(0..<12))
        XCTAssertEqual(written(), whole.filter { [4, 11, 12].contains($0.key) })
        XCTAssertEqual(written()[12], 11 + 11 * 12)
    }

    func testResumeProcessesExactlyTheFramesWithMissingOutputs() throws {
        _ = try PipelineRun(data: pipeline(frames: 30), registry: registry, options: options()).run()
        for n in [1, 7, 8, 30] { try FileManager.default.removeItem(at: folder.appendingPathComponent("save/\(n).txt")) }
        recorder.state.withLock { $0.written = [:] }
        let run = try PipelineRun(data: pipeline(frames: 30), registry: registry, options: options { $0.resume = true })
        XCTAssertEqual(run.plan.alreadyDone, 26)
        XCTAssertEqual(run.plan.pending.map(\.number), [1, 7, 8, 30])
        XCTAssertEqual(try run.run().processed, 4)
        XCTAssertEqual(written(), [1: 0, 7: 18, 8: 21, 30: 87])
    }

    func testCancelFinishesTheFramesInFlightAndReportsAnInterruptedRun() throws {
        // The sink cancels the run from inside once ten frames are written.
        let target = Mutex<PipelineRun?>(nil)
        let count = Mutex(0)
        collectHook.withLock {
            $0 = { _ in
                if count.withLock({ $0 += 1; return $0 }) == 10 { target.withLock { $0 }?.cancel() }
            }
        }
        let run = try PipelineRun(data: pipeline(frames: 500), registry: registry, options: options(threads: 3))
        target.withLock { $0 = run }
        let summary = try run.run()
        XCTAssertTrue(summary.interrupted)
        XCTAssertGreaterThanOrEqual(summary.processed, 10)

        XCTAssertLessThanOrEqual(summary.processed, 10 + 2 + 2, "frames kept starting after the cancel")
        XCTAssertEqual(written().count, summary.processed, "a frame counted as done was not written, or the reverse")
    }

    func testOverridesChangeParamsAndTheResolvedPipelineShowsEveryDefault() throws {
        let run = try PipelineRun(data: pipeline(frames: 5), registry: registry, options: options { $0.overrides = ["twice.factor=5"] })
        XCTAssertEqual(run.resolved.nodes.first { $0.id == "twice" }?.params, ["factor": .number(5)])
        XCTAssertEqual(run.resolved.nodes.first { $0.id == "save" }?.params, ["perFrame": .bool(true)])
        XCTAssertEqual(run.resolved.inputs["label"]?.default, .string("x"))
        _ = try run.run()
        XCTAssertEqual(written(), [1: 0, 2: 6, 3: 12, 4: 18, 5: 24])  // a + 5a
    }

    func testResumeRefusesSinksThatCannotNameTheirFiles() throws {
        let data = pipeline(frames: 5, extra: #", { "id": "all", "stage": "test.collect", "inputs": { "value": "src.value" }, "params": { "perFrame": false } }"#)
        XCTAssertThrowsError(try PipelineRun(data: data, registry: registry, options: options { $0.resume = true })) { error in
            let error = error as? PipelineError
            XCTAssertEqual(error?.diagnostics.map(\.code), [.resumeUnsupported])
            XCTAssertEqual(error?.diagnostics.first?.node, "all")
            XCTAssertEqual(error?.exitCode, 64)
        }
    }

    func testAStageWithoutAnImplementationFailsBeforeAnyFrame() throws {
        let data = pipeline(frames: 5, extra: #", { "id": "ghost", "stage": "test.unbuilt", "inputs": { "value": "src.value" } }, { "id": "out2", "stage": "test.collect", "inputs": { "value": "ghost.value" } }"#)
        XCTAssertThrowsError(try PipelineRun(data: data, registry: registry, options: options())) { error in
            let error = error as? PipelineError
            XCTAssertEqual(error?.diagnostics.map(\.code), [.setupFailed])
            XCTAssertEqual(error?.diagnostics.first?.pointer, "/nodes/5")
            XCTAssertEqual(error?.exitCode, 70)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.path))
    }

    // MARK: Moving values between stages

    /// Buffer addresses the image stages saw, and the values the sink read.
    final class Addresses: Sendable {
        let made = Mutex<[Int: UInt]>([:])
        let changed = Mutex<[Int: UInt]>([:])
        let seen = Mutex<[String: Float]>([:])
    }

    static func address(_ image: Image) -> UInt {
        image.pixels.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) }
    }

    func imageRegistry(_ addresses: Addresses) -> StageRegistry {
        var registry = StageRegistry()
        // Random-access, so frames are read on the workers: the hand-off from the reader
        // thread can still share a frame's values for a moment (see the issue notes).
        final class Make: FrameSource, Sendable {
            let addresses: Addresses
            init(_ a: Addresses) { addresses = a }
            var frameCount: Int { 6 }
            var isRandomAccess: Bool { true }
            func read(_ index: Int) throws -> PortValues {
                let image = Image(width: 64, height: 64, channels: 1) { _, _, _ in Float(index) }
                addresses.made.withLock { $0[index] = RunnerTests.address(image) }
                return PortValues(["image": image])
            }
        }
        final class AddOne: FrameProcessor {
            let addresses: Addresses
            init(_ a: Addresses) { addresses = a }
            func process(_ inputs: consuming PortValues, frame: FrameInfo) throws -> PortValues {
                var image: Image = try inputs.take("image")
                image.pixels.withUnsafeMutableBufferPointer { p in for i in p.indices { p[i] += 1 } }
                addresses.changed.withLock { $0[frame.index] = RunnerTests.address(image) }
                return PortValues(["image": image])
            }
        }
        final class Look: FrameSink {
            let addresses: Addresses
            let id: String
            init(_ a: Addresses, _ id: String) { (addresses, self.id) = (a, id) }
            func outputs(for frame: FrameInfo) -> [URL]? { [] }
            func write(_ inputs: consuming PortValues, frame: FrameInfo) throws {
                let image: Image = try inputs.get("image")
                addresses.seen.withLock { $0["\(id)/\(frame.index)"] = image.pixels[0] }
            }
        }
        registry.register(StageDescriptor(name: "img.make", kind: .source, doc: "Images.", outputs: [PortSpec("image", .image)])) { _ in
            .source(Make(addresses))
        }
        registry.register(StageDescriptor(name: "img.addOne", kind: .perFrame, doc: "+1 in place.",
                                          inputs: [PortSpec("image", .image)], outputs: [PortSpec("image", .image)])) { _ in
            .processor(AddOne(addresses))
        }
        registry.register(StageDescriptor(name: "img.look", kind: .sink, doc: "Reads.", inputs: [PortSpec("image", .image)])) {
            .sink(Look(addresses, $0.node))
        }
        return registry
    }

    func testALastReaderChangesTheFrameInPlaceAndAFanOutKeepsTheOriginal() throws {
        // Chain: make → addOne → look. addOne is the only reader of make's image: no copy.
        let addresses = Addresses()
        let chain = #"{ "version": 1, "nodes": [ { "id": "m", "stage": "img.make" }, { "id": "a", "stage": "img.addOne", "inputs": { "image": "m.image" } }, { "id": "out", "stage": "img.look", "inputs": { "image": "a.image" } } ] }"#
        _ = try PipelineRun(data: Data(chain.utf8), registry: imageRegistry(addresses), options: options(threads: 2)).run()
        XCTAssertEqual(addresses.made.withLock { $0 }, addresses.changed.withLock { $0 }, "a stage that reads a value last got a copy")
        XCTAssertEqual(addresses.seen.withLock { $0 }, Dictionary(uniqueKeysWithValues: (0..<6).map { ("out/\($0)", Float($0 + 1)) }))

        // Fan-out: the original also goes to a sink that runs after addOne; it must see it unchanged.
        let split = Addresses()
        let fan = #"{ "version": 1, "nodes": [ { "id": "m", "stage": "img.make" }, { "id": "a", "stage": "img.addOne", "inputs": { "image": "m.image" } }, { "id": "out", "stage": "img.look", "inputs": { "image": "a.image" } }, { "id": "orig", "stage": "img.look", "inputs": { "image": "m.image" } } ] }"#
        _ = try PipelineRun(data: Data(fan.utf8), registry: imageRegistry(split), options: options(threads: 2)).run()
        let seen = split.seen.withLock { $0 }
        for i in 0..<6 {
            XCTAssertEqual(seen["orig/\(i)"], Float(i), "the other reader saw the change made in place")
            XCTAssertEqual(seen["out/\(i)"], Float(i + 1))
        }
        XCTAssertNotEqual(split.made.withLock { $0[3] }, split.changed.withLock { $0[3] }, "a shared value was not copied before the change")
    }
}
