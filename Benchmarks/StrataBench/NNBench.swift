import Foundation
import StrataIO
import StrataNN

/// StrataNN's side of Benchmarks/nn.sh: one model, one input, `repeats` timed runs after a
/// warm-up; prints the best and median latency, the peak of activations the memory plan
/// held, and the process's peak resident memory.
///
///     strata-bench nn MODEL.onnx INPUT.npy REPEATS THREADS
///
/// PROFILE=1 in the environment adds a profile per operator kind on stderr; PROFILE=shapes
/// one per layer shape.
enum NNBench {
    static func run(model path: String, input: String, repeats: Int, threads: Int) throws {
        let loadStart = DispatchTime.now()
        let model = try Model(contentsOf: URL(fileURLWithPath: path))
        let array = try NPYArray.read(URL(fileURLWithPath: input))
        // Prepared for the input's shape, as a user's run is (and onnxruntime specialises too).
        let session = try Session(model: model, threads: threads, inputShapes: [model.inputs[0].name: array.shape])
        let load = StrataBench.seconds(since: loadStart)
        guard case .float(let values) = array.elements else { throw NNError.badInput("\(input): float32 expected") }
        let feeds = [model.inputs[0].name: Tensor(shape: array.shape, floats: values)]
        _ = try session.run(feeds)
        var times: [Double] = []
        for _ in 0..<repeats {
            let start = DispatchTime.now()
            _ = try session.run(feeds)
            times.append(StrataBench.seconds(since: start))
        }
        times.sort()
        if let mode = ProcessInfo.processInfo.environment["PROFILE"] {
            // PROFILE=shapes: a row per layer shape instead of per operator kind.
            session.profilingShapes = mode == "shapes"
            session.profiling = true
            _ = try session.run(feeds)
            for (op, entry) in session.lastRunProfile.sorted(by: { $0.value.seconds > $1.value.seconds }) {
                FileHandle.standardError.write(Data(String(format: "%-22@ %8.1f ms %5d nodes\n", op, entry.seconds * 1e3, entry.count).utf8))
            }
        }
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        print(String(format: "{\"best_ms\": %.1f, \"median_ms\": %.1f, \"load_s\": %.2f, \"activations_peak_mb\": %.1f, \"max_rss_mb\": %.1f, \"threads\": %d}",
                     times[0] * 1e3, times[times.count / 2] * 1e3, load, Double(session.lastRunPeakBytes) / 1e6,
                     Double(usage.ru_maxrss) / 1024, session.threads))
    }
}
