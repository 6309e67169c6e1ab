import Foundation
import StrataCore
import StrataDepth
import StrataIO
import StrataSphere
import StrataSynth

/// The 360° depth strategies on a StrataSynth panorama with exact depth.
///
///     strata-bench pano speed WIDTH HEIGHT VIEWSIZE     split + align (20 patches, 8×7) + merge, estimator excluded
///     strata-bench pano quality WIDTH HEIGHT            AbsRel, δ1 and seam metrics per strategy and estimator
///     strata-bench pano dump WIDTH HEIGHT VIEWSIZE DIR  the inputs of the peer (Benchmarks/pano_peer.py) and Strata's result
///
/// Each prints one JSON object per line.
enum PanoBench {
    static func scene(width: Int, height: Int) -> SynthRender {
        Renderer.render(.indoorRoom, camera: Camera(model: .equirectangular(width: width, height: height), position: Vector3(0.3, 1.4, -0.2)),
                        supersampling: 1)
    }

    static func speed(width: Int, height: Int, viewSize: Int, repeats: Int, blending: PanoramaBlending = .feather) throws {
        let room = scene(width: width, height: height)
        var panorama = PanoramaDepth(strategy: .tangent, viewSize: viewSize, alignment: ViewAlignment(columns: 8, rows: 7))
        panorama.blending = blending
        let estimator = DistortedTruthEstimator(truth: room.depth.values)
        // The estimator's views are made once, outside the timing: inference is not counted.
        let estimates = Dictionary(uniqueKeysWithValues: panorama.views.map { ($0, estimator.estimate($0)) })
        var best: PanoramaDepth.Timing?, first = 0.0
        for r in 0..<repeats {
            var timing = PanoramaDepth.Timing()
            _ = try panorama.estimate(panorama: room.color, timing: &timing) { estimates[$1]! }
            // The first run builds the views' sampling maps, which later frames of a video reuse.
            if r == 0 { first = timing.split + timing.alignment + timing.merge }
            if best == nil || timing.split + timing.alignment + timing.merge < best!.split + best!.alignment + best!.merge { best = timing }
        }
        let t = best!
        print(String(format: #"{"width": %d, "height": %d, "views": %d, "viewSize": %d, "grid": "8x7", "blending": "%@", "split": %.3f, "alignment": %.3f, "merge": %.3f, "total": %.3f, "first": %.3f}"#,
                     width, height, panorama.views.count, viewSize, blending.rawValue, t.split, t.alignment, t.merge, t.split + t.alignment + t.merge, first))
    }

    /// What `Benchmarks/pano_peer.py` needs to run the same alignment and merge: the panorama
    /// (H × W × 3), the views (JSON), each view's estimate (the distorted truth, so inference
    /// is out of both timings), and Strata's fused result to compare with.
    static func dump(width: Int, height: Int, viewSize: Int, folder: String) throws {
        let out = URL(fileURLWithPath: folder)
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        let room = scene(width: width, height: height)
        let panorama = PanoramaDepth(strategy: .tangent, viewSize: viewSize, alignment: ViewAlignment(columns: 8, rows: 7))
        let estimator = DistortedTruthEstimator(truth: room.depth.values, warp: 0.3, noise: 0.002)
        let views = panorama.views
        try NPY.write(room.color, to: out.appendingPathComponent("pano.npy"))
        var list: [[String: Double]] = []
        for (k, view) in views.enumerated() {
            try NPY.write(estimator.estimate(view).depth.values, to: out.appendingPathComponent(String(format: "view%02d.npy", k)))
            list.append(["yaw": view.yaw, "pitch": view.pitch, "roll": view.roll, "fx": view.intrinsics.fx, "fy": view.intrinsics.fy,
                         "cx": view.intrinsics.cx, "cy": view.intrinsics.cy, "width": Double(view.width), "height": Double(view.height)])
        }
        let settings: [String: Any] = ["views": list, "columns": 8, "rows": 7, "smoothness": panorama.alignment.smoothness,
                                       "sampleRows": panorama.alignment.sampleRows, "width": width, "height": height]
        try JSONSerialization.data(withJSONObject: settings, options: [.prettyPrinted, .sortedKeys]).write(to: out.appendingPathComponent("views.json"))
        let fused = try panorama.estimate(panorama: room.color) { estimator.estimate($1) }
        try NPY.write(fused.depth.values, to: out.appendingPathComponent("strata.npy"))
        var gradient = panorama
        gradient.blending = .gradient
        let blended = try gradient.estimate(panorama: room.color) { estimator.estimate($1) }
        try NPY.write(blended.depth.values, to: out.appendingPathComponent("strata-gradient.npy"))
    }

    /// Pixels of the equirect where one view's coverage ends: where a seam would show.
    static func viewBorders(_ views: [PerspectiveView], width: Int, height: Int) -> Image {
        var mask = Image(width: width, height: height, channels: 1)
        for view in views {
            let covered = SphereFusion.weights(view, width: width, height: height, weighting: .mean)
            for y in 0..<height {
                for x in 0..<width where covered[y * width + x] > 0 {
                    let neighbours = [(y, (x + 1) % width), (y, (x + width - 1) % width), (max(y - 1, 0), x), (min(y + 1, height - 1), x)]
                    if neighbours.contains(where: { covered[$0.0 * width + $0.1] == 0 }) { mask[0, y, x] = 1 }
                }
            }
        }
        return mask
    }

    static func quality(width: Int, height: Int) throws {
        let room = scene(width: width, height: height)
        let truth = room.depth
        let options = DepthEvaluationOptions(alignment: .scaleShift)
        var weighted = options
        weighted.latitudeWeighted = true
        let prior = PriorDepthEstimator()
        func report(_ name: String, _ strategy: String, _ depth: DepthMap, borders: Image?) {
            let m = DepthEvaluation.evaluate(depth, against: truth, options: options)
            let lw = DepthEvaluation.evaluate(depth, against: truth, options: weighted)
            let aligned = DepthMap(values: Image(width: width, height: height, channels: 1) { _, y, x in
                let d = Double(depth[y, x]); return Float(d > 0 ? 1 / (m.scale * d + m.shift) : .nan)
            }, kind: .metric, quantity: .rayDistance, projection: .equirectangular)
            var line = String(format: #"{"estimator": "%@", "strategy": "%@", "absRel": %.4f, "delta1": %.4f, "absRelLatitudeWeighted": %.4f, "delta1LatitudeWeighted": %.4f, "wrapSeam": %.4f"#,
                              name, strategy, m.absRel, m.delta1, lw.absRel, lw.delta1, SeamMetrics.wrapSeam(aligned))
            if let borders {
                line += String(format: #", "borderGradientRatio": %.3f, "truthBorderGradientRatio": %.3f"#,
                               SeamMetrics.boundaryGradientRatio(aligned, boundaries: borders), SeamMetrics.boundaryGradientRatio(truth, boundaries: borders))
            }
            print(line + "}")
        }
        report("builtin", "direct", try prior.estimate(room.color, projection: .equirectangular).depth, borders: nil)
        // Faces cut exactly, as `padding: network` cuts them: aligned across the cube's edges.
        var touching = PanoramaDepth(strategy: .cube, viewSize: min(256, width / 4))
        touching.cubePadding = .network
        let affine = DistortedTruthEstimator(truth: truth.values)
        report("truth, per-view scale and shift, grid 1x1, faces cut exactly", "cube", try touching.estimate(panorama: room.color) { affine.estimate($1) }.depth,
               borders: viewBorders(touching.views, width: width, height: height))
        // A metric model's views: metres, each off by its own scale; aligned in scale only.
        let metric = DistortedTruthEstimator(truth: truth.values, metric: true)
        let tangent = PanoramaDepth(strategy: .tangent, viewSize: min(256, width / 4))
        report("truth, metric, per-view scale, grid 1x1", "tangent", try tangent.estimate(panorama: room.color) { metric.estimate($1) }.depth,
               borders: viewBorders(tangent.views, width: width, height: height))
        for strategy in [PanoramaStrategy.cube, .tangent] {
            for (name, grid) in [("1x1", (1, 1)), ("8x7", (8, 7))] {
                let panorama = PanoramaDepth(strategy: strategy, viewSize: min(256, width / 4),
                                             alignment: ViewAlignment(columns: grid.0, rows: grid.1))
                let borders = viewBorders(panorama.views, width: width, height: height)
                for (estimatorName, warp) in [("truth, per-view scale and shift", 0.0), ("truth, plus a smooth 30% warp", 0.3)] {
                    let estimator = DistortedTruthEstimator(truth: truth.values, warp: warp, noise: warp > 0 ? 0.002 : 0)
                    report("\(estimatorName), grid \(name)", strategy.rawValue, try panorama.estimate(panorama: room.color) { estimator.estimate($1) }.depth, borders: borders)
                    var gradient = panorama
                    gradient.blending = .gradient
                    report("\(estimatorName), grid \(name), gradient-domain", strategy.rawValue,
                           try gradient.estimate(panorama: room.color) { estimator.estimate($1) }.depth, borders: borders)
                }
                report("builtin, grid \(name)", strategy.rawValue,
                       try panorama.estimate(panorama: room.color) { image, view in try prior.estimate(image, projection: view.projection) }.depth,
                       borders: borders)
            }
        }
    }
}
