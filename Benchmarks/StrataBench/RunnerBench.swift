import Foundation
import StrataCore
import StrataPipeline

#if canImport(Glibc)
import Glibc
#endif

/// The runner's cost: a pipeline of pass-through stages (make a frame, scale it in place
/// twice, sum it) against the same stage objects called directly from Swift on the same
/// number of threads. The stages `take` their input, so neither side copies an image.
enum RunnerBench {
    /// Frame `index`: a gradient that differs per frame.
    static func frame(_ index: Int, size: Int) -> Image {
        Image(width: size, height: size, channels: 3, uninitialized: { p in
            for i in 0..<p.count { p[i] = Float((i &+ index) & 255) * (1 / 255) }
        })
    }

    /// The pass-through stage's work: scaling in place.
    static func scale(_ image: inout Image) {
        image.pixels.withUnsafeMutableBufferPointer { p in for i in 0..<p.count { p[i] *= 0.5 } }
    }

    static func sum(_ image: Image) -> Double {
        image.pixels.withUnsafeBufferPointer { p in p.reduce(0) { $0 + Double($1) } }
    }

    final class Source: FrameSource, Sendable {
        let frameCount: Int
        let size: Int
        init(frames: Int, size: Int) { (frameCount, self.size) = (frames, size) }
        var isRandomAccess: Bool { true }
        func read(_ index: Int) throws -> PortValues { PortValues(["image": frame(index, size: size)]) }
    }

    final class Pass: FrameProcessor {
        func process(_ inputs: consuming PortValues, frame: FrameInfo) throws -> PortValues {
            var image: Image = try inputs.take("image")
            scale(&image)
            return PortValues(["image": image])
        }
    }

    final class Sum: FrameSink {
        let total = Mutex(0.0)
        func outputs(for frame: FrameInfo) -> [URL]? { [] }
        func write(_ inputs: consuming PortValues, frame: FrameInfo) throws {
            let s = sum(try inputs.take("image", as: Image.self))
            total.withLock { $0 += s }
        }
    }

    static func registry(sink: Sum) -> StageRegistry {
        var registry = StageRegistry()
        registry.register(StageDescriptor(name: "bench.source", kind: .source, doc: "Gradient frames.", outputs: [PortSpec("image", .image)],
                                          params: [ParamSpec("frames", .integer(min: 1, max: nil), doc: "Frames."),
                                                   ParamSpec("size", .integer(min: 1, max: nil), doc: "Side.")])) {
            .source(Source(frames: try $0.int("frames"), size: try $0.int("size")))
        }
        registry.register(StageDescriptor(name: "bench.pass", kind: .perFrame, doc: "Scaled copy.",
                                          inputs: [PortSpec("image", .image)], outputs: [PortSpec("image", .image)])) { _ in .processor(Pass()) }
        registry.register(StageDescriptor(name: "bench.sum", kind: .sink, doc: "Sum.", inputs: [PortSpec("image", .image)])) { _ in .sink(sink) }
        return registry
    }

    static func pipeline(frames: Int, size: Int) -> Data {
        Data("""
        { "version": 1, "name": "bench", "nodes": [
          { "id": "src", "stage": "bench.source", "params": { "frames": \(frames), "size": \(size) } },
          { "id": "a", "stage": "bench.pass", "inputs": { "image": "src.image" } },
          { "id": "b", "stage": "bench.pass", "inputs": { "image": "a.image" } },
          { "id": "sum", "stage": "bench.sum", "inputs": { "image": "b.image" } } ] }
        """.utf8)
    }

    static func viaRunner(frames: Int, size: Int, threads: Int) throws -> (seconds: Double, total: Double) {
        let sink = Sum()
        var options = RunOptions(outputDirectory: URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("strata-bench-runner"))
        options.threads = threads
        let start = DispatchTime.now()
        let run = try PipelineRun(data: pipeline(frames: frames, size: size), registry: registry(sink: sink), options: options)
        _ = try run.run()
        return (StrataBench.seconds(since: start), sink.total.withLock { $0 })
    }

    /// The same stage objects called directly, without the runner: each thread takes the
    /// next frame number and calls read → process → process → write itself. Threads are
    /// started the way the runner starts its workers (the main thread's malloc arena trims
    /// and refaults large blocks, which would flatter the runner by 3× if the loop ran there).
    static func direct(frames: Int, size: Int, threads: Int) throws -> (seconds: Double, total: Double) {
        let source = Source(frames: frames, size: size), pass = Pass(), sink = Sum()
        let next = Mutex(0)
        let group = DispatchGroup()
        let start = DispatchTime.now()
        for _ in 0..<threads {
            group.enter()
            let thread = Thread {
                while true {
                    let i = next.withLock { n -> Int in defer { n += 1 }; return n }
                    guard i < frames else { break }
                    let info = FrameInfo(index: i, position: i, number: i + 1)
                    var values = try! source.read(i)
                    values = try! pass.process(consume values, frame: info)
                    values = try! pass.process(consume values, frame: info)
                    try! sink.write(consume values, frame: info)
                }
                group.leave()
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
        group.wait()
        return (StrataBench.seconds(since: start), sink.total.withLock { $0 })
    }

    static func overhead(frames: Int, size: Int, threads: Int) throws {
        var bestDirect = Double.infinity, bestRunner = Double.infinity
        var totals: (Double, Double) = (0, 0)
        for _ in 0..<9 {  // alternating, best of nine
            let r = try viaRunner(frames: frames, size: size, threads: threads)
            let d = try direct(frames: frames, size: size, threads: threads)
            bestDirect = min(bestDirect, d.seconds)
            bestRunner = min(bestRunner, r.seconds)
            totals = (d.total, r.total)
        }
        guard totals.0 == totals.1 else { fatalError("the runner computed \(totals.1), the direct loop \(totals.0)") }
        print(String(format: "{\"frames\": %d, \"size\": %d, \"threads\": %d, \"direct_s\": %.4f, \"runner_s\": %.4f, \"overhead_pct\": %.1f}",
                     frames, size, threads, bestDirect, bestRunner, (bestRunner / bestDirect - 1) * 100))
    }

    static func memory(frames: Int, size: Int) throws {
        _ = try viaRunner(frames: frames, size: size, threads: ProcessInfo.processInfo.activeProcessorCount)
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        print("{\"frames\": \(frames), \"size\": \(size), \"peak_rss_kb\": \(usage.ru_maxrss)}")
    }
}
