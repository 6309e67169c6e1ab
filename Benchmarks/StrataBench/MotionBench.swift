import Foundation
import StrataCore
import StrataIO
import StrataMotion
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
///     strata-bench walk FRAMES WIDTH HEIGHT                  (SUPERSAMPLING=n, default 2; WRITE=folder
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

    static func walk(frames n: Int, width: Int, height: Int) throws {
        let k = PinholeIntrinsics(horizontalFOV: 70, width: width, height: height)
        let supersampling = ProcessInfo.processInfo.environment["SUPERSAMPLING"].flatMap(Int.init) ?? 2
        var start = DispatchTime.now()
        let cameras = (0..<n).map { CameraPath.roomWalk.camera(at: Double($0) / Double(max(1, n - 1)), model: .pinhole(k)) }
        let frames = cameras.map { Renderer.render(.indoorRoom, camera: $0, supersampling: supersampling).color }
        let render = StrataBench.seconds(since: start)
        start = DispatchTime.now()
        let tracker = FeatureTracker(width: width, height: height)
        for frame in frames { try tracker.add(frame) }
        let tracking = StrataBench.seconds(since: start)
        start = DispatchTime.now()
        let motion = try CameraMotion.reconstruct(tracker.tracks, intrinsics: k)
        let reconstruction = StrataBench.seconds(since: start)
        if ProcessInfo.processInfo.environment["VERBOSE"] != nil {
            let t = tracker.tracks
            FileHandle.standardError.write("survival \((1..<t.frames.count).map { String(format: "%.2f", Double(t.common($0 - 1, $0).count) / Double(t.frames[$0 - 1].ids.count)) })\n".data(using: .utf8)!)
            FileHandle.standardError.write("tracks \(tracker.tracks.trackCount), per frame \(tracker.tracks.frames.map(\.ids.count)), keyframes \(motion.keyframes), static \(motion.isStatic), placed \(motion.poses.map { $0 != nil ? 1 : 0 })\n".data(using: .utf8)!)
        }
        let truth = cameras.map { camera in CameraPose(rotation: camera.openCVPose.rotation, translation: camera.openCVPose.translation) }
        let error = try TrajectoryError(motion.poses, truth: truth)
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
