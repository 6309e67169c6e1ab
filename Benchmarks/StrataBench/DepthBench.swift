import Foundation
import StrataCore
import StrataDepth
import StrataIO

/// Per-frame time of monocular depth on a video, split into decode, preprocessing,
/// inference, post-processing, alignment and writing (a 16-bit PNG of the aligned depth, at
/// zlib level $LEVEL, default 6), for the built-in prior or a network, every stage on all
/// threads, frame after frame:
///
///     strata-bench depth CLIP.mp4 FRAMES [MODEL.onnx PRESET]
enum DepthBench {
    static func run(clip: String, frames limit: Int, model: String?, preset: String?) throws {
        let estimator: any DepthEstimator
        if let model {
            estimator = try NetworkDepthEstimator(model: URL(fileURLWithPath: model), preset: preset.flatMap(NetworkPreset.init(rawValue:)))
        } else {
            estimator = PriorDepthEstimator()
        }
        let reader = try VideoReader(url: URL(fileURLWithPath: clip))
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("strata-depth-bench-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let level = Int(ProcessInfo.processInfo.environment["LEVEL"] ?? "6") ?? 6
        var aligner = TemporalAligner()
        var total = DepthTiming()
        var decode = 0.0, align = 0.0, write = 0.0
        var count = 0, size = (0, 0)
        while count < limit {
            var start = DispatchTime.now()
            guard let frame = try reader.nextFrame() else { break }
            let seconds = StrataBench.seconds(since: start)
            // The first frame warms caches and the network's buffers: not counted.
            let (estimate, timing) = try estimator.estimateTimed(frame.image, projection: .unknown)
            start = DispatchTime.now()
            let aligned = try aligner.align(estimate.depth, confidence: estimate.confidence)
            let aligning = StrataBench.seconds(since: start)
            start = DispatchTime.now()
            try DepthFile.writeNormalizedPNG16(aligned, to: folder.appendingPathComponent(String(format: "%05d.png", count)), range: 0...2, compressionLevel: level)
            let writing = StrataBench.seconds(since: start)
            size = (frame.image.width, frame.image.height)
            count += 1
            guard count > 1 else { continue }
            decode += seconds; align += aligning; write += writing
            total.preprocessing += timing.preprocessing; total.inference += timing.inference; total.postprocessing += timing.postprocessing
        }
        let n = Double(max(1, count - 1))
        let estimate = (total.preprocessing + total.inference + total.postprocessing) / n
        print(String(format: "{\"estimator\": \"%@\", \"width\": %d, \"height\": %d, \"frames\": %d, \"threads\": %d, \"decode_ms\": %.1f, \"preprocess_ms\": %.1f, \"inference_ms\": %.1f, \"postprocess_ms\": %.1f, \"align_ms\": %.1f, \"write_ms\": %.1f, \"png_level\": %d, \"estimate_fps\": %.1f, \"sequential_fps\": %.2f}",
                     estimator.name, size.0, size.1, count - 1, Parallel.threadCount, decode / n * 1e3, total.preprocessing / n * 1e3, total.inference / n * 1e3,
                     total.postprocessing / n * 1e3, align / n * 1e3, write / n * 1e3, level, 1 / estimate, n / (decode + estimate * n + align + write)))
    }
}
