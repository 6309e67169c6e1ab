import Foundation
import StrataCore
import StrataIO
import StrataPipeline
import StrataStages
import StrataSynth
import XCTest

/// `depth.motion` on the StrataSynth walk that StrataMotion's tests use (20 frames,
/// 320×240, 70° across, read as a frame pattern from that target's fixtures).
final class MotionDepthStageTests: XCTestCase {
    var folder: URL!
    static let walk = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("StrataMotionTests/Fixtures/walk/%05d.png").path

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("strata-motion-\(UUID().uuidString)")
        addTeardownBlock { [folder] in try? FileManager.default.removeItem(at: folder!) }
    }

    func pipeline(_ params: String) -> Data {
        Data("""
        { "version": 1, "inputs": { "video": { "type": "video" } }, "nodes": [
          { "id": "depth", "stage": "depth.motion", "inputs": { "source": "$inputs.video" }, "params": { \(params) } },
          { "id": "save", "stage": "depth.write", "inputs": { "depth": "depth.depth" }, "params": { "pattern": "d/%05d.png", "min": 0, "max": 8 } }
        ] }
        """.utf8)
    }

    func options(_ out: String, source: String = walk, _ change: (inout RunOptions) -> Void = { _ in }) -> RunOptions {
        var options = RunOptions(outputDirectory: folder.appendingPathComponent(out))
        options.inputs = ["video": source]
        options.frames = FrameRange(first: 8, last: 11)
        change(&options)
        return options
    }

    /// The moving camera takes the motion path: the report says so, the camera path, the
    /// COLMAP model and the points are written, and two shards write the very bytes one run
    /// does (each analyses the whole video alike and sweeps only its own frames).
    func testAWalkTakesTheMotionPathAndShardsAgreeByteForByte() throws {
        let data = pipeline(#""fov": 70, "planes": 32"#)
        XCTAssertEqual(try PipelineRun(data: data, registry: StageLibrary.registry, options: options("whole")).run().processed, 4)
        let out = folder.appendingPathComponent("whole")
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("motion.json"))) as! [String: Any]
        XCTAssertEqual(report["path"] as? String, "motion", "\(report)")
        XCTAssertEqual(report["placed"] as? Int, 20)
        XCTAssertEqual(report["fov"] as? Double, 70)
        let tum = try String(contentsOf: out.appendingPathComponent("camera-trajectory.txt"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(tum.count, 21, "a header and one line a frame")
        for name in ["cameras.txt", "images.txt", "points3D.txt"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent("colmap/\(name)").path), name)
        }
        XCTAssertTrue(try Data(contentsOf: out.appendingPathComponent("sparse-points.ply")).starts(with: Data("ply\n".utf8)))

        for index in 0..<2 {
            let run = try PipelineRun(data: data, registry: StageLibrary.registry,
                                      options: options("shards") { $0.shard = Shard(index: index, count: 2, chunk: 2) })
            XCTAssertEqual(try run.run().processed, 2)
        }
        for n in 1...4 {
            let name = String(format: "d/%05d.png", n)
            XCTAssertEqual(try Data(contentsOf: out.appendingPathComponent(name)),
                           try Data(contentsOf: folder.appendingPathComponent("shards/\(name)")), name)
        }
    }

    /// A camera that never moves gives no depth from motion: auto takes the monocular path
    /// and says why; motion asked for outright fails with that reason.
    func testAStillCameraFallsBackToMonocularOrFailsWhenMotionIsRequired() throws {
        let frames = folder.appendingPathComponent("still")
        try FileManager.default.createDirectory(at: frames, withIntermediateDirectories: true)
        let first = try ImageFile.read(URL(fileURLWithPath: String(format: Self.walk, 0)))
        for n in 0..<12 { try PNG.write(first, to: frames.appendingPathComponent(String(format: "%05d.png", n))) }
        let source = frames.appendingPathComponent("%05d.png").path
        XCTAssertEqual(try PipelineRun(data: pipeline(#""fov": 70"#), registry: StageLibrary.registry, options: options("auto", source: source)).run().processed, 4)
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("auto/motion.json"))) as! [String: Any]
        XCTAssertEqual(report["path"] as? String, "monocular")
        XCTAssertEqual(report["why"] as? String, "monocular: no two frames show parallax (a camera on a tripod, or one that only turns)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.appendingPathComponent("auto/camera-trajectory.txt").path))
        // Flat frames: nothing to track, said so, and the monocular path.
        let flat = folder.appendingPathComponent("flat")
        try FileManager.default.createDirectory(at: flat, withIntermediateDirectories: true)
        for n in 0..<12 { try PNG.write(Image(width: 320, height: 240, channels: 3, fill: 0.4), to: flat.appendingPathComponent(String(format: "%05d.png", n))) }
        XCTAssertEqual(try PipelineRun(data: pipeline(#""fov": 70"#), registry: StageLibrary.registry,
                                       options: options("flat", source: flat.appendingPathComponent("%05d.png").path)).run().processed, 4)
        let flatReport = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("flat/motion.json"))) as! [String: Any]
        XCTAssertEqual(flatReport["why"] as? String,
                       "monocular: at most 0 corners were tracked in a frame: too few for camera motion (30 at least; a flat or blurred video)")
        XCTAssertThrowsError(try PipelineRun(data: pipeline(#""fov": 70, "method": "motion""#), registry: StageLibrary.registry,
                                             options: options("required", source: source)).run()) {
            XCTAssertTrue("\($0)".contains("depth from motion failed: no two frames show parallax"), "\($0)")
        }
    }

    /// A measured distance from the first frame to the last makes the depth, the path and
    /// the points metric: the report and the sidecar say so, and the path's ends lie that
    /// far apart.
    func testAKnownDistanceMakesDepthMetric() throws {
        func run(_ out: String, _ params: String) throws -> (report: [String: Any], sidecar: DepthSidecar, walked: Double) {
            let data = Data("""
            { "version": 1, "inputs": { "video": { "type": "video" } }, "nodes": [
              { "id": "depth", "stage": "depth.motion", "inputs": { "source": "$inputs.video" }, "params": { "fov": 70, "planes": 16, \(params) } },
              { "id": "save", "stage": "depth.write", "inputs": { "depth": "depth.depth" }, "params": { "pattern": "d/%05d.npy" } }
            ] }
            """.utf8)
            XCTAssertEqual(try PipelineRun(data: data, registry: StageLibrary.registry, options: options(out) { $0.frames = FrameRange(first: 8, last: 8) }).run().processed, 1)
            let folder = self.folder.appendingPathComponent(out)
            let report = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("motion.json"))) as! [String: Any]
            let centres = try String(contentsOf: folder.appendingPathComponent("camera-trajectory.txt"), encoding: .utf8).split(separator: "\n")
                .filter { !$0.hasPrefix("#") }.map { $0.split(separator: " ").compactMap { Double($0) } }
            let (a, b) = (centres.first!, centres.last!)
            let walked = ((b[1] - a[1]) * (b[1] - a[1]) + (b[2] - a[2]) * (b[2] - a[2]) + (b[3] - a[3]) * (b[3] - a[3])).squareRoot()
            return (report, try XCTUnwrap(try DepthSidecar.read(inFolder: folder.appendingPathComponent("d"))), walked)
        }
        let unit = try run("unit", #""distance": 0"#)
        XCTAssertEqual(unit.sidecar.kind, .relative)
        let metric = try run("metric", #""distance": 1.2"#)
        XCTAssertEqual(metric.report["scale"] as? String, "metric: depth, path and points in metres", "\(metric.report)")
        XCTAssertEqual(metric.sidecar.kind, .metric)
        XCTAssertEqual(metric.walked, 1.2, accuracy: 1e-6)
        XCTAssertEqual(metric.report["metresPerUnit"] as! Double, 1.2 / unit.walked, accuracy: 1e-9)

        // A camera height needs a ground among the points; this walk's floor has none
        // tracked (StrataMotionTests), so the run says so and the depth stays relative.
        let ground = try run("ground", #""height": 1.52"#)
        XCTAssertEqual(ground.sidecar.kind, .relative)
        XCTAssertTrue((ground.report["why"] as? String ?? "").contains("no ground plane found below the camera among the points"), "\(ground.report)")
        // One scale at a time, refused by name before anything runs.
        let both = Data("""
        { "version": 1, "inputs": { "video": { "type": "video" } }, "nodes": [
          { "id": "depth", "stage": "depth.motion", "inputs": { "source": "$inputs.video" }, "params": { "distance": 1.2, "height": 1.52 } },
          { "id": "save", "stage": "depth.write", "inputs": { "depth": "depth.depth" }, "params": { "pattern": "d/%05d.npy" } }
        ] }
        """.utf8)
        XCTAssertThrowsError(try PipelineRun(data: both, registry: StageLibrary.registry, options: options("both"))) {
            XCTAssertTrue("\($0)".contains("height: give one scale, distance or height, not both"), "\($0)")
        }
    }

    /// In a pipeline with a finalize step (depth.align after the stage), the shards write
    /// only frame records, and `--finalize` writes the camera path, the COLMAP model, the
    /// points and the report, the same bytes as one run. A run that finds every frame done
    /// still writes them.
    func testTheFinalizeStepWritesTheWholeVideosFiles() throws {
        let data = Data("""
        { "version": 1, "inputs": { "video": { "type": "video" } }, "nodes": [
          { "id": "depth", "stage": "depth.motion", "inputs": { "source": "$inputs.video" }, "params": { "fov": 70, "planes": 16 } },
          { "id": "align", "stage": "depth.align", "inputs": { "depth": "depth.depth", "confidence": "depth.confidence", "image": "depth.image" } },
          { "id": "save", "stage": "depth.write", "inputs": { "depth": "align.depth" }, "params": { "pattern": "d/%05d.png", "min": 0, "max": 8 } }
        ] }
        """.utf8)
        let limit = { (options: inout RunOptions) in options.frames = FrameRange(first: 8, last: 9) }
        XCTAssertEqual(try PipelineRun(data: data, registry: StageLibrary.registry, options: options("whole", limit)).run().processed, 2)
        let names = ["camera-trajectory.txt", "colmap/cameras.txt", "colmap/images.txt", "colmap/points3D.txt", "sparse-points.ply", "motion.json"]
        let sharded = folder.appendingPathComponent("sharded")
        for index in 0..<2 {
            let run = try PipelineRun(data: data, registry: StageLibrary.registry, options: options("sharded") {
                limit(&$0)
                $0.shard = Shard(index: index, count: 2, chunk: 1)
            })
            XCTAssertEqual(try run.run().processed, 1)
        }
        for name in names { XCTAssertFalse(FileManager.default.fileExists(atPath: sharded.appendingPathComponent(name).path), "a shard wrote \(name)") }
        XCTAssertEqual(try PipelineRun(data: data, registry: StageLibrary.registry, options: options("sharded") {
            limit(&$0)
            $0.finalize = true
        }).run().processed, 2)
        let whole = folder.appendingPathComponent("whole")
        for name in names + ["d/00001.png", "d/00002.png"] {
            XCTAssertEqual(try Data(contentsOf: sharded.appendingPathComponent(name)), try Data(contentsOf: whole.appendingPathComponent(name)), name)
        }
        // Every frame done: nothing to process, the files still written.
        for name in names { try FileManager.default.removeItem(at: whole.appendingPathComponent(name)) }
        XCTAssertEqual(try PipelineRun(data: data, registry: StageLibrary.registry, options: options("whole") {
            limit(&$0)
            $0.resume = true
        }).run().processed, 0)
        for name in names { XCTAssertTrue(FileManager.default.fileExists(atPath: whole.appendingPathComponent(name).path), name) }
    }

    /// The StrataSynth walk seen by a 360° camera (12 frames, 1024×512, from
    /// Tools/make_motion_fixtures.sh), method auto: the spherical camera places every
    /// frame, the report says so and no COLMAP model is written, depth is an equirect's ray
    /// distance, metric with the walk's length, and its trusted pixels match the rendered
    /// distance. Analysed under 1024 px across (maxWidth 256), it takes the monocular path.
    func testAMovingPanoramaTakesDepthFromMotionOnTheSphericalCamera() throws {
        let source = URL(fileURLWithPath: Self.walk).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("walk360.mp4").path
        let ends = [0.0, 1].map { CameraPath.roomWalk.camera(at: $0, model: .equirectangular(width: 64, height: 32)).position }
        let walked = ((ends[1] - ends[0]) * (ends[1] - ends[0])).sum().squareRoot()
        func data(_ method: String, maxWidth: Int = 640) -> Data {
            Data("""
            { "version": 1, "inputs": { "video": { "type": "video" } }, "nodes": [
              { "id": "depth", "stage": "depth.motion", "inputs": { "source": "$inputs.video" }, "params": { "method": "\(method)", "distance": \(walked), "maxWidth": \(maxWidth) } },
              { "id": "save", "stage": "depth.write", "inputs": { "depth": "depth.depth" }, "params": { "pattern": "d/%05d.npy" } },
              { "id": "trust", "stage": "image.write", "inputs": { "image": "depth.confidence" }, "params": { "pattern": "c/%05d.png", "bitDepth": 16 } }
            ] }
            """.utf8)
        }
        let frame = 5
        let one = { (options: inout RunOptions) in options.frames = FrameRange(first: frame, last: frame) }
        XCTAssertEqual(try PipelineRun(data: data("auto"), registry: StageLibrary.registry, options: options("pano", source: source, one)).run().processed, 1)
        let out = folder.appendingPathComponent("pano")
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("motion.json"))) as! [String: Any]
        XCTAssertEqual(report["path"] as? String, "motion", "\(report)")
        XCTAssertEqual(report["placed"] as? Int, 12)
        XCTAssertTrue((report["camera"] as? String)?.hasPrefix("equirect: the path on the spherical camera model") == true, "\(report)")
        XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent("camera-trajectory.txt").path))
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.appendingPathComponent("colmap").path))
        let sidecar = try XCTUnwrap(try DepthSidecar.read(inFolder: out.appendingPathComponent("d")))
        XCTAssertEqual(sidecar.quantity, .rayDistance)
        XCTAssertEqual(sidecar.projection, .equirectangular)
        XCTAssertEqual(sidecar.kind, .metric)

        // Against the rendering, at a quarter of the size.
        let (w, h) = (256, 128)
        let camera = CameraPath.roomWalk.camera(at: Double(frame) / 11, model: .equirectangular(width: w, height: h))
        let truth = Renderer.render(.indoorRoom, camera: camera, supersampling: 1).depth.values.pixels
        let depth = try NPY.read(out.appendingPathComponent("d/00001.npy")).resized(width: w, height: h, filter: .nearest).pixels
        let trust = try ImageFile.read(out.appendingPathComponent("c/00001.png")).resized(width: w, height: h, filter: .nearest).pixels
        var trusted = 0, good = 0
        for i in truth.indices where trust[i] >= 0.5 && truth[i].isFinite {
            trusted += 1
            let ratio = Double(depth[i] / truth[i])
            if max(ratio, 1 / ratio) < 1.25 { good += 1 }
        }
        XCTAssertGreaterThan(Double(trusted) / Double(truth.count), 0.03, "coverage")
        XCTAssertGreaterThan(Double(good) / Double(max(1, trusted)), 0.8, "δ1 of \(trusted) trusted pixels, metric")

        XCTAssertEqual(try PipelineRun(data: data("auto", maxWidth: 256), registry: StageLibrary.registry, options: options("coarse", source: source, one)).run().processed, 1)
        let coarse = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("coarse/motion.json"))) as! [String: Any]
        XCTAssertEqual(coarse["path"] as? String, "monocular")
        XCTAssertEqual(coarse["why"] as? String, "monocular: a panorama analysed 512 px across is too coarse for depth from motion (1024 at least; maxWidth sets half of it)")
    }

    /// JPEG frames whose EXIF gives the focal length in 35 mm terms (25 mm: 69.4° across a
    /// 4:3 frame, on the 43.27 mm diagonal) set the field of view when `fov` is 0, and the
    /// report and a note say so.
    func testAnEXIFFocalLengthSetsTheFieldOfView() throws {
        let frames = folder.appendingPathComponent("jpeg")
        try FileManager.default.createDirectory(at: frames, withIntermediateDirectories: true)
        // Little-endian TIFF: IFD0 points to the Exif sub-IFD at 26, which holds 0xA405 = 25.
        let block: [UInt8] = [0x49, 0x49, 0x2A, 0x00, 0x08, 0x00, 0x00, 0x00, 0x01, 0x00,
                              0x69, 0x87, 0x04, 0x00, 0x01, 0x00, 0x00, 0x00, 0x1A, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                              0x01, 0x00, 0x05, 0xA4, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x19, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00]
        let app1 = Data([0xFF, 0xE1, 0x00, UInt8(8 + block.count)]) + Data("Exif".utf8) + Data([0, 0]) + Data(block)
        for n in 0..<20 {
            let jpeg = try JPEG.encode(try ImageFile.read(URL(fileURLWithPath: String(format: Self.walk, n))), quality: 95)
            try (jpeg.prefix(2) + app1 + jpeg.dropFirst(2)).write(to: frames.appendingPathComponent(String(format: "%05d.jpg", n)))
        }
        let run = try PipelineRun(data: pipeline(#""fov": 0, "planes": 16"#), registry: StageLibrary.registry,
                                  options: options("exif", source: frames.appendingPathComponent("%05d.jpg").path) { $0.frames = FrameRange(first: 8, last: 8) })
        XCTAssertEqual(try run.run().processed, 1)
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("exif/motion.json"))) as! [String: Any]
        XCTAssertEqual(report["path"] as? String, "motion", "\(report)")
        XCTAssertEqual(report["fov"] as? Double ?? 0, 2 * atan(0.8 * 43.27 / 50) * 180 / .pi, accuracy: 1e-9)
        XCTAssertTrue(run.notes.contains { $0.contains("from the files' EXIF (25 mm in 35 mm terms)") } || run.frameNotes.contains { $0.contains("EXIF") },
                      "\(run.notes) \(run.frameNotes)")
    }
}
