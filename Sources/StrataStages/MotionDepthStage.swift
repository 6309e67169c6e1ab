import Foundation
import StrataCore
import StrataDepth
import StrataIO
import StrataMotion
import StrataPipeline
import StrataSphere

/// `depth.motion`: depth of a moving camera's video from the camera's motion, with no
/// weights: corners tracked through the whole video, the camera's path by incremental
/// structure from motion (StrataMotion), each keyframe's depth by plane-sweep stereo
/// against frames of the same video, checked against the keyframes beside it and
/// reprojected into the frames between (``KeyframeStereo``; or every frame swept), and the
/// pixels stereo cannot tell filled from a monocular estimator fitted to the ones it can.
/// An equirect video's path is recovered on the spherical camera model (rays, not pixels)
/// and its depth through a cubemap rig (``PanoramaStereo``): the six faces swept, as
/// distance along the ray (every frame from keyframes, whatever `sweep` says), when it is
/// analysed at least 1024 px across. A camera that only turns or stands still, or a
/// video too short or featureless, takes the monocular path, as `depth.estimate` would;
/// the log and the report say which.
///
/// The whole video is analysed once, before the first frame comes out, and the same way in
/// every shard: each shard then sweeps only the keyframes its own frames need, so a
/// sharded run writes what one machine would. The files of the whole video (path, model,
/// points, report) are written when the run ends (``finish()``): by every shard of a plain
/// pipeline (the same bytes), and by the finalize step of one that has it.
final class MotionDepthStage: FrameSource, @unchecked Sendable {
    static let descriptor = StageDescriptor(
        name: "depth.motion", kind: .source,
        doc: "Depth from a moving camera's motion (tracks, poses with bundle adjustment, plane-sweep stereo on the keyframes, checked against each other and reprojected between them), filled from a monocular estimator where stereo is unsure; an equirect video tracked on the spherical camera model and swept through a cubemap rig (ray distance) when 1024 px or more across; static or turning cameras take the monocular path. Also writes the camera path (TUM), a COLMAP text model (perspective videos) and the sparse points (PLY).",
        inputs: [PortSpec("source", .video, doc: "The video file (or a frame pattern).")],
        outputs: [PortSpec("image", .image, doc: "Each frame, RGB 0…1."),
                  PortSpec("depth", .depth, doc: "z-depth from motion, up to one scale for the whole video (relative), or in metres with distance or height; the monocular estimator's depth on its path."),
                  PortSpec("confidence", .mask, doc: "From motion: 0.5…1 where stereo matched, under 0.5 where the monocular estimate filled in. On the monocular path: the estimator's.")],
        params: VideoDecodeStage.descriptor.params + [ParamSpec("method", .choice(["auto", "motion", "monocular"]), default: .string("auto"),
                           doc: "auto: from motion when the camera moves (a panorama on the spherical model, through a cubemap rig, when analysed at least 1024 px across), else monocular; motion: from motion or fail; monocular: as depth.estimate."),
                 ParamSpec("fov", .number(min: 0, max: 179), default: .number(0), unit: "deg",
                           doc: "Horizontal field of view; 0: from the images' EXIF focal length (35 mm terms) where JPEG frames carry one, else searched (40°…100°) from the tracks, and the run asks for it when the video cannot tell."),
                 ParamSpec("model", .string, default: .string("builtin"),
                           doc: "The monocular estimator: \"builtin\", or the path of an ONNX model (with a preset or MODEL.json sidecar)."),
                 ParamSpec("preset", .choice(NetworkPreset.allCases.map(\.rawValue)), doc: "The network family's preprocessing and output."),
                 ParamSpec("workingSize", .integer(min: 16, max: 4096), default: .number(256), unit: "px",
                           doc: "Built-in prior: long side of the image it reasons on."),
                 ParamSpec("distance", .number(min: 0, max: 1_000_000), default: .number(0), unit: "m",
                           doc: "How far apart, in metres, the camera stood at the first and the last frame (a measured walk): depth, path and points in metres; 0: up to one scale."),
                 ParamSpec("height", .number(min: 0, max: 100_000), default: .number(0), unit: "m",
                           doc: "The camera's height above a flat ground its points see (a walk, a car, a drone): depth, path and points in metres from the ground plane found below the cameras; 0: up to one scale. Not with distance."),
                 ParamSpec("maxWidth", .integer(min: 64, max: 4096), default: .number(640), unit: "px",
                           doc: "Tracking and stereo run on frames at most this wide; depth comes back at the frame's size."),
                 ParamSpec("planes", .integer(min: 8, max: 512), default: .number(64), doc: "Depth planes in the sweep."),
                 ParamSpec("sweep", .choice(["keyframes", "every"]), default: .string("keyframes"),
                           doc: "keyframes: sweep the keyframes, check each against the keyframes beside it, and reproject them into the frames between (about 4× faster); every: sweep every frame."),
                 ParamSpec("trajectory", .string, default: .string("camera-trajectory.txt"),
                           doc: "The camera path as a TUM trajectory under the output folder (camera to world, stamped in seconds); empty: none."),
                 ParamSpec("colmap", .string, default: .string("colmap"),
                           doc: "A folder under the output folder for the COLMAP text model (cameras.txt, images.txt, points3D.txt); empty: none."),
                 ParamSpec("points", .string, default: .string("sparse-points.ply"), doc: "The sparse points as a PLY under the output folder; empty: none."),
                 ParamSpec("report", .string, default: .string("motion.json"),
                           doc: "A JSON report under the output folder: the path taken and why, the field of view, keyframes, frames placed, reprojection error.")])

    let frameCount: Int
    let bitDepth: Int?
    let summary: String?
    private let frames: VideoDecodeStage
    private let context: StageContext
    private let method: String
    private let fov: Double
    private let maxWidth: Int, planes: Int
    private let sweepEvery: Bool
    private let distance: Double
    private let height: Double
    private let estimator: any DepthEstimator
    private let outputs: (trajectory: URL?, colmap: URL?, points: URL?, report: URL?)
    private let analysis = Mutex<Analysis?>(nil)

    /// What the whole video gave: the motion (nil on the monocular path), the frames in grey
    /// at the sweep's size, and why the path was taken.
    private struct Analysis: @unchecked Sendable {
        var motion: CameraMotion?
        var grays: [GrayFrame]
        /// The keyframes' sweeps, checked and reprojected (with a motion).
        var stereo: KeyframeStereo?
        /// The same, through a cubemap rig, for a panorama.
        var panorama: PanoramaStereo?
        var verdict: String
        var fov: Double?
        /// Metres per unit of length when a scale was given or found.
        var metres: Double?
    }

    init(_ context: StageContext) throws {
        self.context = context
        frames = try VideoDecodeStage(context)
        (frameCount, bitDepth, summary) = (frames.frameCount, frames.bitDepth, frames.summary)
        method = try context.string("method")
        fov = try context.double("fov")
        maxWidth = try context.int("maxWidth")
        planes = try context.int("planes")
        sweepEvery = try context.string("sweep") == "every"
        distance = try context.double("distance")
        height = try context.double("height")
        if distance > 0 && height > 0 { throw context.invalid("height", "give one scale, distance or height, not both") }
        let model = try context.string("model")
        if model == "builtin" {
            if try context.optionalString("preset") != nil { throw context.invalid("preset", "a preset needs a model file; the built-in prior has none") }
            estimator = PriorDepthEstimator(workingSize: try context.int("workingSize"))
        } else {
            let preset = try context.optionalString("preset").flatMap(NetworkPreset.init(rawValue:))
            estimator = try NetworkDepthEstimator(model: URL(fileURLWithPath: model), preset: preset, threads: context.threads)
        }
        func output(_ param: String) throws -> URL? {
            let value = try context.string(param)
            return value.isEmpty ? nil : try context.outputURL(value, param: param)
        }
        outputs = (try output("trajectory"), try output("colmap"), try output("points"), try output("report"))
    }

    /// Read in frame order by the runner; the first read analyses the whole video.
    var isRandomAccess: Bool { false }

    func selects(_ index: Int) -> Bool { frames.selects(index) }

    func read(_ index: Int) throws -> PortValues {
        let analysis = try analysed()
        var values = try frames.read(index)
        let image: Image = try values.get("image")
        let fullView = PinholeIntrinsics(horizontalFOV: analysis.fov ?? 60, width: image.width, height: image.height)
        guard let motion = analysis.motion, motion.poses.indices.contains(index), motion.poses[index] != nil else {
            let projection: Projection = image.width == 2 * image.height ? .equirectangular : .pinhole(fullView)
            let estimate = try estimator.estimate(image, projection: projection)
            values["depth"] = estimate.depth
            values["confidence"] = estimate.confidence
            return values
        }
        if let panorama = analysis.panorama { return try panoramaDepth(index, image: image, values: values, panorama: panorama, metric: analysis.metres != nil) }
        let stereo: StereoDepth
        do {
            if sweepEvery {
                // The frames around this one, for its neighbours.
                var nearby: [Int: Image] = [:]
                for n in max(0, index - 30)...min(analysis.grays.count - 1, index + 30) { nearby[n] = analysis.grays[n].image }
                stereo = try PlaneSweep.depth(frame: index, images: nearby, motion: motion, options: sweepOptions)
            } else {
                stereo = try analysis.stereo!.depth(frame: index)
            }
        } catch {
            context.note("\(error): the monocular estimate alone", frame: FrameInfo(index: index, position: index, number: index + 1))
            let estimate = try estimator.estimate(image, projection: .pinhole(fullView))
            values["depth"] = estimate.depth
            values["confidence"] = estimate.confidence
            return values
        }
        let small = image.resized(width: stereo.width, height: stereo.height)
        let monocular = try estimator.estimate(small, projection: .pinhole(stereo.intrinsics))
        let disparity = monocular.depth.kind == .inverseRelative
            ? monocular.depth.values.pixels : monocular.depth.values.pixels.map { $0 > 0 ? 1 / $0 : .nan }
        let filled = stereo.filled(withDisparity: disparity)
        // Stereo's confidence where it is trusted; a quarter of the estimator's elsewhere.
        let confidence = stereo.confidence.indices.map { i in
            stereo.confidence[i] >= 0.5 ? stereo.confidence[i] : 0.25 * monocular.confidence.pixels[i]
        }
        let depth = Image(width: stereo.width, height: stereo.height, channels: 1, pixels: filled).resized(width: image.width, height: image.height)
        values["depth"] = DepthMap(values: depth, kind: analysis.metres != nil ? .metric : .relative, quantity: .zDepth, projection: .pinhole(fullView))
        values["confidence"] = Image(width: stereo.width, height: stereo.height, channels: 1, pixels: confidence)
            .resized(width: image.width, height: image.height)
        return values
    }

    /// A panorama frame's depth: ray distance from the cubemap rig's faces, filled by the
    /// estimator on the panorama where stereo is unsure.
    private func panoramaDepth(_ index: Int, image: Image, values: PortValues, panorama: PanoramaStereo, metric: Bool) throws -> PortValues {
        var values = values
        let (w, h) = (panorama.width, panorama.height)
        let (distance, trust) = try panorama.depth(frame: index)
        let small = image.width == w ? image : image.resized(width: w, height: h)
        let monocular = try estimator.estimate(small, projection: .equirectangular)
        let disparity = monocular.depth.kind == .inverseRelative
            ? monocular.depth.values.pixels : monocular.depth.values.pixels.map { $0 > 0 ? 1 / $0 : .nan }
        let filled = StereoDepth.filled(distance, confidence: trust, width: w, height: h, disparity: disparity)
        let confidence = trust.indices.map { i in trust[i] >= 0.5 ? trust[i] : 0.25 * monocular.confidence.pixels[i] }
        let depth = Image(width: w, height: h, channels: 1, pixels: filled).resized(width: image.width, height: image.height)
        values["depth"] = DepthMap(values: depth, kind: metric ? .metric : .relative, quantity: .rayDistance, projection: .equirectangular)
        values["confidence"] = Image(width: w, height: h, channels: 1, pixels: confidence).resized(width: image.width, height: image.height)
        return values
    }

    private var sweepOptions: PlaneSweep.Options {
        var options = PlaneSweep.Options()
        options.planes = planes
        options.maximumWidth = maxWidth
        return options
    }

    /// The analysis, made on first use.
    private func analysed() throws -> Analysis {
        try analysis.withLock { stored in
            if let stored { return stored }
            let made = try analyse()
            stored = made
            return made
        }
    }

    /// Tracks the whole video, recovers the camera's motion, and writes what it found.
    private func analyse() throws -> Analysis {
        // Its own reader: the runner's reads come after, from the start.
        let reader = try VideoDecodeStage(context)
        var grays: [GrayFrame] = []
        var tracker: FeatureTracker?
        // A panorama's path is tracked in the panorama itself, on the spherical camera model.
        var isPanorama = false
        var panoramaVerdict: String?
        for index in 0..<frameCount where method != "monocular" {
            let image: Image = try reader.read(index).get("image")
            let gray = image.grayscale()
            if image.width == 2 * image.height {
                // Panoramas are analysed up to twice maxWidth across: a cube face is a quarter of that.
                let w = min(image.width, 2 * maxWidth) / 2 * 2
                if w < PanoramaStereo.minimumWidth {
                    panoramaVerdict = "monocular: a panorama analysed \(w) px across is too coarse for depth from motion (\(PanoramaStereo.minimumWidth) at least; maxWidth sets half of it)"
                    break
                }
                let small = gray.width == w ? gray : gray.resized(width: w, height: w / 2)
                isPanorama = true
                if tracker == nil { tracker = FeatureTracker(width: w, height: w / 2) }
                try tracker!.add(small)
                grays.append(GrayFrame(small))
                continue
            }
            let scale = min(1, Double(maxWidth) / Double(image.width))
            let (w, h) = (max(8, Int((Double(image.width) * scale).rounded())), max(8, Int((Double(image.height) * scale).rounded())))
            let small = gray.width == w ? gray : gray.resized(width: w, height: h)
            if tracker == nil { tracker = FeatureTracker(width: w, height: h) }
            try tracker!.add(small)
            grays.append(GrayFrame(small))
        }
        var result = Analysis(motion: nil, grays: grays, stereo: nil, panorama: nil, verdict: "", fov: fov > 0 && !isPanorama ? fov : nil)
        if method == "monocular" {
            result.verdict = "monocular: as asked"
        } else if let verdict = panoramaVerdict {
            result.verdict = verdict
        } else if let tracks = tracker?.tracks {
            do {
                // A panorama's camera needs no field of view.
                let (motion, chosen) = isPanorama ? (try CameraMotion.reconstruct(panorama: tracks), nil) : try reconstruct(tracks)
                result.fov = chosen
                if motion.isStatic {
                    result.verdict = "monocular: no two frames show parallax (a camera on a tripod, or one that only turns)"
                } else {
                    result.verdict = String(format: "motion: %d of %d frames placed, %d keyframes, %d points, %.2f px reprojection error",
                                            motion.poses.compactMap { $0 }.count, motion.poses.count, motion.keyframes.count,
                                            motion.points.count, motion.rmsError)
                    if distance > 0 {
                        if let metres = motion.metresPerUnit(firstToLast: distance) {
                            result.metres = metres
                        } else {
                            result.verdict += "; the first and last frames were not both placed apart: depth stays up to one scale"
                        }
                    }
                    if height > 0 {
                        if let metres = motion.metresPerUnit(cameraHeight: height) {
                            result.metres = metres
                        } else {
                            result.verdict += "; no ground plane found below the camera among the points: depth stays up to one scale"
                        }
                    }
                    let scaled = result.metres.map { motion.scaled(by: $0) } ?? motion
                    var options = KeyframeStereo.Options()
                    options.sweep = sweepOptions
                    let frame = { @Sendable [grays] (n: Int) in grays.indices.contains(n) ? grays[n].image : nil }
                    if isPanorama {
                        result.panorama = try PanoramaStereo(motion: scaled, width: grays[0].width, height: grays[0].height, options: options, equirect: frame)
                        result.verdict += "; a panorama: the path on the spherical camera model, depth from the six faces of its cubemap"
                    } else {
                        result.stereo = KeyframeStereo(motion: scaled, options: options, image: frame)
                    }
                    result.motion = scaled
                }
            } catch let error as MotionError {
                result.verdict = "monocular: \(error)"
            }
        } else {
            result.verdict = "monocular: the video has no frames"
        }
        if method == "motion", result.motion == nil {
            throw StageError("depth from motion failed: \(result.verdict.replacingOccurrences(of: "monocular: ", with: ""))")
        }
        context.note(result.verdict)
        return result
    }

    /// The motion at the field of view given, or at the one a search over 40°…100° finds
    /// clearly best (its reprojection error at least 10% under the next best's 20° or more
    /// away); a search that cannot tell asks for the field of view.
    private func reconstruct(_ tracks: FeatureTracks) throws -> (CameraMotion, Double?) {
        let intrinsics = { (fov: Double) in PinholeIntrinsics(horizontalFOV: fov, width: tracks.width, height: tracks.height) }
        if fov > 0 { return (try CameraMotion.reconstruct(tracks, intrinsics: intrinsics(fov)), fov) }
        if let focal = frames.focalLength35mm {
            // 35 mm terms are defined on the diagonal (43.27 mm): the share of it the width spans.
            let (w, h) = (Double(tracks.width), Double(tracks.height))
            let across = 2 * atan(w / (w * w + h * h).squareRoot() * 43.27 / (2 * Double(focal))) * 180 / .pi
            context.note(String(format: "field of view %.1f° from the files' EXIF (%d mm in 35 mm terms)", across, focal))
            return (try CameraMotion.reconstruct(tracks, intrinsics: intrinsics(across)), across)
        }
        var tried: [(fov: Double, motion: CameraMotion)] = []
        for candidate in stride(from: 40.0, through: 100, by: 10) {
            if let motion = try? CameraMotion.reconstruct(tracks, intrinsics: intrinsics(candidate)) {
                if motion.isStatic { return (motion, candidate) }
                tried.append((candidate, motion))
            }
        }
        guard let best = tried.min(by: { $0.motion.rmsError < $1.motion.rmsError }) else {
            throw MotionError("no field of view from 40° to 100° explains the tracks")
        }
        let rivals = tried.filter { abs($0.fov - best.fov) >= 20 }.map(\.motion.rmsError)
        guard let rival = rivals.min(), best.motion.rmsError <= 0.9 * rival else {
            throw StageError("the camera's field of view cannot be told from this video (reprojection error \(String(format: "%.3f", best.motion.rmsError)) px at \(Int(best.fov))°, no clear minimum from 40° to 100°): set the fov param (degrees across)", exitCode: 64)
        }
        return (best.motion, best.fov)
    }

    /// Writes what the whole video gave — the trajectory, the COLMAP model, the points and
    /// the report, where asked for — once the run's frames are done (in `--finalize`, not
    /// in the shards before it, where only frame records are written). The analysis is
    /// made here if no frame was read (a finalize step, a resumed run with every frame done).
    func finish() throws {
        let analysis = try analysed()
        // COLMAP has no spherical camera.
        if let motion = analysis.motion { try write(motion, colmap: analysis.panorama == nil) }
        if let report = outputs.report {
            var fields: [String: Any] = ["path": analysis.motion != nil ? "motion" : "monocular", "why": analysis.verdict, "frames": frameCount]
            if let fov = analysis.fov { fields["fov"] = fov }
            if analysis.panorama != nil {
                fields["camera"] = "equirect: the path on the spherical camera model (rays, not pixels), depth from the six faces of a padded cubemap; no COLMAP model (COLMAP has no spherical camera)"
            }
            if let motion = analysis.motion {
                fields["keyframes"] = motion.keyframes
                fields["placed"] = motion.poses.compactMap { $0 }.count
                fields["points"] = motion.points.count
                fields["reprojectionError"] = motion.rmsError
                if let metres = analysis.metres {
                    fields["metresPerUnit"] = metres
                    fields["scale"] = "metric: depth, path and points in metres"
                } else {
                    fields["scale"] = "one unknown factor for the whole video: the first keyframe pair's baseline is 1"
                }
            }
            try AtomicFile.write(try JSONSerialization.data(withJSONObject: fields, options: [.prettyPrinted, .sortedKeys]), to: report)
        }
    }

    /// The trajectory, the COLMAP model and the points, where asked for.
    private func write(_ motion: CameraMotion, colmap: Bool) throws {
        if let url = outputs.trajectory {
            try AtomicFile.write(Data(motion.tumTrajectory(fps: frames.frameRate ?? 30).utf8), to: url)
        }
        if colmap, let folder = outputs.colmap {
            try AtomicFile.createFolder(folder)
            // Images named as a frame writer numbers them by default (frame index + 1); a run
            // with --start-number or a --frames range that starts later numbers them otherwise.
            let model = try motion.colmapModel { String(format: "%05d.png", $0 + 1) }
            try AtomicFile.write(Data(model.cameras.utf8), to: folder.appendingPathComponent("cameras.txt"))
            try AtomicFile.write(Data(model.images.utf8), to: folder.appendingPathComponent("images.txt"))
            try AtomicFile.write(Data(model.points.utf8), to: folder.appendingPathComponent("points3D.txt"))
        }
        if let url = outputs.points { try AtomicFile.write(motion.ply(), to: url) }
    }
}

/// A frame in grey at the sweep's size, kept as bytes for the whole run: a minute of video
/// at 640×480 holds 0.55 GB so, against 2.2 GB as floats. Tracking sees these 8-bit levels
/// too (OpenCV tracks 8-bit images).
struct GrayFrame: Sendable {
    let width: Int, height: Int
    let levels: [UInt8]

    init(_ image: Image) {
        (width, height) = (image.width, image.height)
        levels = image.pixels.map { UInt8((min(1, max(0, $0)) * 255).rounded()) }
    }

    var image: Image { Image(width: width, height: height, channels: 1, pixels: levels.map { Float($0) / 255 }) }
}
