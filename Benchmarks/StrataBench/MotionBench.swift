import Foundation
import StrataCore
import StrataDepth
import StrataIO
import StrataMotion
import StrataSphere
import StrataSynth

/// The relative pose of two frames (`StrataMotion.RelativePose`), for an evaluation script
/// to compare with a trajectory (`Benchmarks/motion_eval.py`): one JSON line with R
/// (row-major), the unit t, the corners tracked and the inliers, and the time taken.
///
///     strata-bench motion FIRST SECOND FX FY CX CY     (CX, CY with pixel centres at half-integers;
///                                                      THRESHOLD=pixels for RANSAC, default RelativePose's)
///
/// And a whole camera path (`StrataMotion.CameraMotion`) from a StrataSynth walk through the
/// room (``CameraPath/roomWalk``), against the path's exact poses: one JSON line with the
/// times taken (render, tracking, reconstruction), the keyframes and points, and the
/// absolute trajectory error after a similarity alignment, in metres and as a share of the
/// path's length.
///
///     strata-bench walk FRAMES WIDTH HEIGHT                  (SUPERSAMPLING=n, default 2; FOCAL=1: each field of
///                                                          view from 40° to 100°, refined; STEREO=1: depth; WRITE=folder
///                                                          writes frames/%05d.png, truth.txt and strata.txt
///                                                          as TUM trajectories)
///
/// And the path of a folder of frames (PNG or JPEG, in name order), as a TUM trajectory
/// on standard output, with the times on standard error:
///
///     strata-bench sfm FOLDER FX FY CX CY                     (CX, CY with pixel centres at half-integers)
enum MotionBench {
    static func sfm(_ folder: String, fx: Double, fy: Double, cx: Double, cy: Double) throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: folder)
            .filter { ["png", "jpg", "jpeg"].contains(($0 as NSString).pathExtension.lowercased()) }.sorted()
        var start = DispatchTime.now()
        var tracker: FeatureTracker?
        for name in names {
            let frame = try ImageFile.read(URL(fileURLWithPath: folder).appendingPathComponent(name))
            if tracker == nil { tracker = FeatureTracker(width: frame.width, height: frame.height) }
            try tracker!.add(frame)
        }
        guard let tracker else { throw MotionError("no PNG or JPEG frames in \(folder)") }
        let tracking = StrataBench.seconds(since: start)
        start = DispatchTime.now()
        let k = PinholeIntrinsics(fx: fx, fy: fy, cx: cx, cy: cy, width: tracker.tracks.width, height: tracker.tracks.height)
        let motion = try CameraMotion.reconstruct(tracker.tracks, intrinsics: k)
        let reconstruction = StrataBench.seconds(since: start)
        print(motion.tumTrajectory(fps: 1), terminator: "")
        FileHandle.standardError.write(String(format: "{\"frames\": %d, \"placed\": %d, \"keyframes\": %d, \"points\": %d, \"rms_px\": %.3f, \"static\": %@, \"tracking_s\": %.3f, \"reconstruction_s\": %.3f}\n",
                                              names.count, motion.poses.compactMap { $0 }.count, motion.keyframes.count, motion.points.count,
                                              motion.rmsError, motion.isStatic ? "true" : "false", tracking, reconstruction).data(using: .utf8)!)
    }

    /// Depth from motion for the keyframes against the rendered z-depth, after one global
    /// scale (the motion's unit is its first baseline): δ1 and AbsRel on the pixels the sweep
    /// trusts, and on every pixel once the built-in prior fills the rest. One JSON line.
    static func stereo(_ motion: CameraMotion, frames: [Image], truth: [Image]) throws {
        let images = Dictionary(uniqueKeysWithValues: frames.enumerated().map { ($0, $1) })
        var start = DispatchTime.now()
        var results: [(frame: Int, depth: StereoDepth, filled: [Float], truth: [Float])] = []
        var sweepSeconds = 0.0
        let environment = ProcessInfo.processInfo.environment
        var options = PlaneSweep.Options()
        if let v = environment["MARGIN"].flatMap(Float.init) { options.distinctMargin = v }
        if let v = environment["PLANES"].flatMap(Int.init) { options.planes = v }
        if let v = environment["RADIUS"].flatMap(Int.init) { options.radius = v }
        if let v = environment["P1"].flatMap(Float.init) { options.smallPenalty = v }
        if let v = environment["P2"].flatMap(Float.init) { options.largePenalty = v }
        // MODE: sweep (the keyframes' sweeps), checked (the keyframes after the consistency
        // check), all (every placed frame by KeyframeStereo: keyframes checked, the rest
        // reprojected), every (every placed frame swept).
        let mode = environment["MODE"] ?? "sweep"
        var keyframeOptions = KeyframeStereo.Options()
        keyframeOptions.sweep = options
        if let v = environment["TOLERANCE"].flatMap(Double.init) { keyframeOptions.tolerance = v }
        let keyframeStereo = KeyframeStereo(motion: motion, options: keyframeOptions) { frames.indices.contains($0) ? frames[$0] : nil }
        let placed = motion.poses.indices.filter { motion.poses[$0] != nil }
        for f in ["all", "every"].contains(mode) ? placed : motion.keyframes {
            start = DispatchTime.now()
            let made = ["checked", "all"].contains(mode)
                ? try? keyframeStereo.depth(frame: f) : try? PlaneSweep.depth(frame: f, images: images, motion: motion, options: options)
            guard let depth = made else { continue }
            sweepSeconds += StrataBench.seconds(since: start)
            let prior = try PriorDepthEstimator().estimate(frames[f], projection: .pinhole(motion.intrinsics)).depth
            var values = prior.values.resized(width: depth.width, height: depth.height).pixels
            if prior.kind != .inverseRelative { values = values.map { $0 > 0 ? 1 / $0 : .nan } }
            let t = truth[f].resized(width: depth.width, height: depth.height, filter: .nearest).pixels
            results.append((f, depth, depth.filled(withDisparity: values), t))
            if let dump = ProcessInfo.processInfo.environment["DUMP"] {
                // Inverse depth (of the sweep, the filled depth and the truth) and the confidence, side by side.
                let w = depth.width, h = depth.height
                let panels = [depth.depth.map { 1 / $0 }, results.last!.filled.map { 1 / $0 }, t.map { 1 / $0 }]
                let tops = panels.map { p -> Float in let v = p.filter(\.isFinite).sorted(); return v.isEmpty ? 1 : v[v.count * 98 / 100] }
                let picture = Image(width: 4 * w, height: h, channels: 1) { _, y, x in
                    let panel = x / w, i = y * w + x % w
                    if panel == 3 { return depth.confidence[i] }
                    let v = panels[panel][i]
                    return v.isFinite ? min(1, v / tops[panel]) : 0
                }
                try PNG.write(picture, to: URL(fileURLWithPath: dump).appendingPathComponent(String(format: "depth%02d.png", f)))
            }
        }
        // One scale for the whole video, from the trusted pixels.
        var ratios = results.flatMap { r in r.depth.depth.indices.filter { r.depth.confidence[$0] >= 0.5 && r.truth[$0] > 0 }.map { Double(r.truth[$0] / r.depth.depth[$0]) } }
        ratios.sort()
        guard !ratios.isEmpty else { throw MotionError("no trusted pixel in any keyframe") }
        let scale = ratios[ratios.count / 2]
        func measure(_ pairs: [(Float, Float)]) -> (delta: Double, absRel: Double) {
            let good = pairs.filter { $0.0 > 0 && $0.1 > 0 && $0.0.isFinite }
            let delta = good.filter { max(Double($0.0) * scale / Double($0.1), Double($0.1) / (Double($0.0) * scale)) < 1.25 }.count
            let absRel = good.reduce(0.0) { $0 + abs(Double($1.0) * scale - Double($1.1)) / Double($1.1) }
            return (Double(delta) / Double(max(1, good.count)), absRel / Double(max(1, good.count)))
        }
        let trusted = measure(results.flatMap { r in r.depth.depth.indices.filter { r.depth.confidence[$0] >= 0.5 }.map { (r.depth.depth[$0], r.truth[$0]) } })
        let all = measure(results.flatMap { r in zip(r.filled, r.truth).map { ($0, $1) } })
        let coverage = results.reduce(0.0) { $0 + $1.depth.coverage() } / Double(max(1, results.count))
        print(String(format: "{\"frames\": %d, \"coverage\": %.3f, \"trusted_delta1\": %.4f, \"trusted_absrel\": %.4f, \"filled_delta1\": %.4f, \"filled_absrel\": %.4f, \"seconds_per_frame\": %.3f, \"mode\": \"%@\"}",
                     results.count, coverage, trusted.delta, trusted.absRel, all.delta, all.absRel, sweepSeconds / Double(max(1, results.count)), mode))
    }

    /// The walk seen by a 360° camera (EQUIRECT=1): the path recovered in the forward
    /// tracking view, the depth of every frame from the panorama's rig
    /// (`PanoramaStereo`), against the rendered ray distance after one scale.
    static func panoramaWalk(frames n: Int, width: Int, height: Int) throws {
        let environment = ProcessInfo.processInfo.environment
        let supersampling = environment["SUPERSAMPLING"].flatMap(Int.init) ?? 2
        var start = DispatchTime.now()
        let path = environment["STRAIGHT"] == "1"
            ? CameraPath(keyframes: [.init(time: 0, position: Vector3(0.3, 1.5, -3.2)), .init(time: 1, position: Vector3(0.3, 1.5, -2.2))])
            : CameraPath.roomWalk
        let cameras = (0..<n).map { path.camera(at: Double($0) / Double(max(1, n - 1)), model: .equirectangular(width: width, height: height)) }
        let renders = cameras.map { Renderer.render(.indoorRoom, camera: $0, supersampling: supersampling) }
        let frames = renders.map(\.color)
        let render = StrataBench.seconds(since: start)
        start = DispatchTime.now()
        // RIG=1: the path from the forward tracking view alone (the rig's first method);
        // otherwise on the spherical model, tracked in the panorama itself.
        let rig = environment["RIG"] == "1"
        let view = PanoramaStereo.trackingView(equirectWidth: width, maximumWidth: environment["TRACKING"].flatMap(Int.init) ?? 640)
        let tracker = rig ? FeatureTracker(width: view.width, height: view.height) : FeatureTracker(width: width, height: height)
        for frame in frames { try tracker.add(rig ? frame.grayscale().equirectToPerspective(view) : frame.grayscale()) }
        let tracking = StrataBench.seconds(since: start)
        start = DispatchTime.now()
        let motion = rig ? try CameraMotion.reconstruct(tracker.tracks, intrinsics: view.intrinsics) : try CameraMotion.reconstruct(panorama: tracker.tracks)
        let reconstruction = StrataBench.seconds(since: start)
        let truth = cameras.map { CameraPose(rotation: $0.openCVPose.rotation, translation: $0.openCVPose.translation) }
        if let folder = environment["WRITE"] {
            let url = URL(fileURLWithPath: folder)
            try FileManager.default.createDirectory(at: url.appendingPathComponent("frames"), withIntermediateDirectories: true)
            for (f, frame) in frames.enumerated() { try PNG.write(frame, to: url.appendingPathComponent(String(format: "frames/%05d.png", f))) }
            try CameraMotion.tumTrajectory(truth, fps: 1).write(to: url.appendingPathComponent("truth.txt"), atomically: true, encoding: .utf8)
            try motion.tumTrajectory(fps: 1).write(to: url.appendingPathComponent("strata.txt"), atomically: true, encoding: .utf8)
        }
        let error = try TrajectoryError(motion.poses, truth: truth)
        let length = zip(truth.dropFirst(), truth).reduce(0) { $0 + (($1.0.centre - $1.1.centre) * ($1.0.centre - $1.1.centre)).sum().squareRoot() }
        var line = String(format: "{\"frames\": %d, \"placed\": %d, \"keyframes\": %d, \"points\": %d, \"rms_px\": %.3f, \"ate_share\": %.5f, \"rotation_deg\": %.4f, \"tracking_view\": \"%dx%d\", \"render_s\": %.3f, \"tracking_s\": %.3f, \"reconstruction_s\": %.3f",
                          n, motion.poses.compactMap { $0 }.count, motion.keyframes.count, motion.points.count, motion.rmsError,
                          error.absolute / length, error.rotationDegrees, tracker.tracks.width, tracker.tracks.height, render, tracking, reconstruction)
        if environment["STEREO"] == "1" {
            start = DispatchTime.now()
            let stereo = try PanoramaStereo(motion: motion, width: width, height: height) { frames.indices.contains($0) ? frames[$0] : nil }
            var pairs: [(Float, Float, Float)] = []
            var filledPairs: [(Float, Float)] = []
            var facePairs: [(Int, Float, Float, Float)] = []
            var priorDelta: [Double] = []
            for f in frames.indices where motion.poses[f] != nil {
                let (distance, confidence) = try stereo.depth(frame: f)
                let prior = try PriorDepthEstimator().estimate(frames[f], projection: .equirectangular).depth
                // The estimator alone, fitted to the truth (scale and shift): what auto's monocular path gives.
                let sized = prior.width == width ? prior : DepthMap(values: prior.values.resized(width: width, height: height), kind: prior.kind,
                                                                    projection: prior.projection)
                priorDelta.append(DepthEvaluation.evaluate(sized, against: renders[f].depth, options: DepthEvaluationOptions(alignment: .scaleShift)).delta1)
                var disparity = prior.values.resized(width: width, height: height).pixels
                if prior.kind != .inverseRelative { disparity = disparity.map { $0 > 0 ? 1 / $0 : .nan } }
                let filled = StereoDepth.filled(distance, confidence: confidence, width: width, height: height, disparity: disparity)
                let t = renders[f].depth.values.pixels
                if let dump = environment["DUMP"] {
                    // Inverse distance (from motion, up to its scale; the truth) and the confidence, stacked.
                    let panels = [distance.map { 1 / $0 }, t.map { 1 / $0 }]
                    let tops = panels.map { p -> Float in let v = p.filter(\.isFinite).sorted(); return v.isEmpty ? 1 : v[v.count * 98 / 100] }
                    let picture = Image(width: width, height: 3 * height, channels: 1) { _, y, x in
                        let panel = y / height, i = (y % height) * width + x
                        if panel == 2 { return confidence[i] }
                        let v = panels[panel][i]
                        return v.isFinite ? min(1, v / tops[panel]) : 0
                    }
                    try PNG.write(picture, to: URL(fileURLWithPath: dump).appendingPathComponent(String(format: "pano%02d.png", f)))
                }
                for i in t.indices where t[i].isFinite && t[i] > 0 {
                    pairs.append((distance[i], t[i], confidence[i]))
                    let face = CubeFace.locate(Equirect.direction(x: Double(i % width), y: Double(i / width), width: width, height: height)).face.rawValue
                    facePairs.append((face, distance[i], t[i], confidence[i]))
                    filledPairs.append((filled[i], t[i]))
                }
            }
            let seconds = StrataBench.seconds(since: start)
            var ratios = pairs.filter { $0.2 >= 0.5 && $0.0 > 0 }.map { Double($0.1 / $0.0) }.sorted()
            guard !ratios.isEmpty else { throw MotionError("no trusted pixel in any frame") }
            let scale = ratios[ratios.count / 2]
            func measure(_ p: [(Float, Float)]) -> (Double, Double) {
                let good = p.filter { $0.0 > 0 && $0.0.isFinite }
                let delta = good.filter { max(Double($0.0) * scale / Double($0.1), Double($0.1) / (Double($0.0) * scale)) < 1.25 }.count
                let absRel = good.reduce(0.0) { $0 + abs(Double($1.0) * scale - Double($1.1)) / Double($1.1) }
                return (Double(delta) / Double(max(1, good.count)), absRel / Double(max(1, good.count)))
            }
            let trusted = measure(pairs.filter { $0.2 >= 0.5 }.map { ($0.0, $0.1) })
            if environment["VERBOSE"] != nil {
                // δ1 of the trusted pixels by the cube face they come from.
                for face in CubeFace.allCases {
                    let mine = facePairs.filter { $0.0 == face.rawValue && $0.3 >= 0.5 }.map { ($0.1, $0.2) }
                    let m = measure(mine)
                    FileHandle.standardError.write(String(format: "face %@: %d trusted, δ1 %.3f, AbsRel %.3f\n", face.letter, mine.count, m.0, m.1).data(using: .utf8)!)
                }
            }
            let all = measure(filledPairs)
            ratios = []
            line += String(format: ", \"prior_delta1\": %.4f", priorDelta.reduce(0, +) / Double(max(1, priorDelta.count)))
            line += String(format: ", \"coverage\": %.3f, \"trusted_delta1\": %.4f, \"trusted_absrel\": %.4f, \"filled_delta1\": %.4f, \"filled_absrel\": %.4f, \"depth_s_per_frame\": %.3f",
                           Double(pairs.filter { $0.2 >= 0.5 }.count) / Double(max(1, pairs.count)), trusted.0, trusted.1, all.0, all.1,
                           seconds / Double(frames.count))
        }
        print(line + "}")
    }

    static func walk(frames n: Int, width: Int, height: Int) throws {
        if ProcessInfo.processInfo.environment["EQUIRECT"] == "1" { return try panoramaWalk(frames: n, width: width, height: height) }
        let k = PinholeIntrinsics(horizontalFOV: 70, width: width, height: height)
        let supersampling = ProcessInfo.processInfo.environment["SUPERSAMPLING"].flatMap(Int.init) ?? 2
        var start = DispatchTime.now()
        // STRAIGHT=1: 1 m straight ahead, level (what `strata synth --walk 1` renders), instead of the swaying, turning walk.
        let path = ProcessInfo.processInfo.environment["STRAIGHT"] == "1"
            ? CameraPath(keyframes: [.init(time: 0, position: Vector3(0.3, 1.5, -3.2)), .init(time: 1, position: Vector3(0.3, 1.5, -2.2))])
            : CameraPath.roomWalk
        let cameras = (0..<n).map { path.camera(at: Double($0) / Double(max(1, n - 1)), model: .pinhole(k)) }
        let renders = cameras.map { Renderer.render(.indoorRoom, camera: $0, supersampling: supersampling) }
        let frames = renders.map(\.color)
        let render = StrataBench.seconds(since: start)
        start = DispatchTime.now()
        let tracker = FeatureTracker(width: width, height: height)
        for frame in frames { try tracker.add(frame) }
        let tracking = StrataBench.seconds(since: start)
        start = DispatchTime.now()
        var options = CameraMotion.Options()
        if let threshold = ProcessInfo.processInfo.environment["THRESHOLD"].flatMap(Double.init) { options.threshold = threshold }
        let motion = try CameraMotion.reconstruct(tracker.tracks, intrinsics: k, options: options)
        let reconstruction = StrataBench.seconds(since: start)
        if ProcessInfo.processInfo.environment["FOCAL"] != nil {
            for fov in stride(from: 40.0, through: 100, by: 10) {
                var refine = CameraMotion.Options()
                refine.refineFocal = true
                let guess = try CameraMotion.reconstruct(tracker.tracks, intrinsics: PinholeIntrinsics(horizontalFOV: fov, width: width, height: height), options: refine)
                let refined = 2 * atan(Double(width) / 2 / guess.intrinsics.fx) * 180 / .pi
                FileHandle.standardError.write("fov \(fov) → \(refined): rms \(guess.rmsError) placed \(guess.poses.compactMap { $0 }.count) points \(guess.points.count)\n".data(using: .utf8)!)
            }
        }
        if ProcessInfo.processInfo.environment["VERBOSE"] != nil {
            let t = tracker.tracks
            FileHandle.standardError.write("survival \((1..<t.frames.count).map { String(format: "%.2f", Double(t.common($0 - 1, $0).count) / Double(t.frames[$0 - 1].ids.count)) })\n".data(using: .utf8)!)
            FileHandle.standardError.write("tracks \(tracker.tracks.trackCount), per frame \(tracker.tracks.frames.map(\.ids.count)), keyframes \(motion.keyframes), static \(motion.isStatic), placed \(motion.poses.map { $0 != nil ? 1 : 0 })\n".data(using: .utf8)!)
        }
        let truth = cameras.map { camera in CameraPose(rotation: camera.openCVPose.rotation, translation: camera.openCVPose.translation) }
        let error = try TrajectoryError(motion.poses, truth: truth)
        if ProcessInfo.processInfo.environment["STEREO"] == "1" {
            try stereo(motion, frames: frames, truth: renders.map(\.depth.values))
        }
        if let folder = ProcessInfo.processInfo.environment["WRITE"] {
            // The frames and both trajectories, for COLMAP and for Benchmarks/motion_walk.py.
            let url = URL(fileURLWithPath: folder)
            try FileManager.default.createDirectory(at: url.appendingPathComponent("frames"), withIntermediateDirectories: true)
            for (f, frame) in frames.enumerated() { try PNG.write(frame, to: url.appendingPathComponent(String(format: "frames/%05d.png", f))) }
            try CameraMotion.tumTrajectory(truth, fps: 1).write(to: url.appendingPathComponent("truth.txt"), atomically: true, encoding: .utf8)
            try motion.tumTrajectory(fps: 1).write(to: url.appendingPathComponent("strata.txt"), atomically: true, encoding: .utf8)
        }
        if ProcessInfo.processInfo.environment["VERBOSE"] != nil {
            for (f, (a, b)) in zip(motion.poses, truth).enumerated() {
                let c = a?.centre ?? .zero
                FileHandle.standardError.write(String(format: "%2d est %7.3f %7.3f %7.3f (%.2f°)  true %7.3f %7.3f %7.3f (%.2f°)\n", f, c.x, c.y, c.z, a?.angleDegrees ?? -1,
                                                      b.centre.x, b.centre.y, b.centre.z, b.relative(to: truth[0]).angleDegrees).data(using: .utf8)!)
            }
        }
        let length = zip(truth.dropFirst(), truth).reduce(0) { $0 + (($1.0.centre - $1.1.centre) * ($1.0.centre - $1.1.centre)).sum().squareRoot() }
        print(String(format: "{\"frames\": %d, \"placed\": %d, \"keyframes\": %d, \"points\": %d, \"rms_px\": %.3f, \"ate_m\": %.5f, \"ate_max_m\": %.5f, \"ate_share\": %.5f, \"rotation_deg\": %.4f, \"rotation_drift_deg\": %.4f, \"render_s\": %.3f, \"tracking_s\": %.3f, \"reconstruction_s\": %.3f}",
                     n, motion.poses.compactMap { $0 }.count, motion.keyframes.count, motion.points.count, motion.rmsError, error.absolute,
                     error.maximum, error.absolute / length, error.rotationDegrees, error.rotationDriftDegrees, render, tracking, reconstruction))
    }


    static func run(_ first: String, _ second: String, fx: Double, fy: Double, cx: Double, cy: Double) throws {
        let a = try ImageFile.read(URL(fileURLWithPath: first)), b = try ImageFile.read(URL(fileURLWithPath: second))
        let k = PinholeIntrinsics(fx: fx, fy: fy, cx: cx, cy: cy, width: a.width, height: a.height)
        let start = DispatchTime.now()
        let threshold = ProcessInfo.processInfo.environment["THRESHOLD"].flatMap(Double.init)
        let pose = try threshold.map { try RelativePose.estimate(a, b, intrinsics: k, threshold: $0) } ?? RelativePose.estimate(a, b, intrinsics: k)
        let seconds = StrataBench.seconds(since: start)
        let rotation = pose.rotation.map { String(format: "%.9f", $0) }.joined(separator: ", ")
        print(String(format: "{\"rotation\": [%@], \"translation\": [%.9f, %.9f, %.9f], \"tracked\": %d, \"inliers\": %d, \"parallax\": %.3f, \"rotation_only\": %@, \"seconds\": %.3f}",
                     rotation, pose.translation.x, pose.translation.y, pose.translation.z, pose.tracked, pose.inliers, pose.parallax,
                     pose.isRotationOnly ? "true" : "false", seconds))
    }
}
