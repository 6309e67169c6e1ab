import Foundation
import StrataCore
import StrataIO
import StrataPipeline
import StrataStages
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
        XCTAssertThrowsError(try PipelineRun(data: pipeline(#""fov": 70, "method": "motion""#), registry: StageLibrary.registry,
                                             options: options("required", source: source)).run()) {
            XCTAssertTrue("\($0)".contains("depth from motion failed: no two frames show parallax"), "\($0)")
        }
    }

    /// With the camera's height (1.5 m) the depth, the path and the points come out in
    /// metres: the walk's first and last centres lie its true 1.20 m apart, within 5%, and
    /// the depth is written as metric.
    func testTheCamerasHeightMakesEverythingMetric() throws {
        let data = Data("""
        { "version": 1, "inputs": { "video": { "type": "video" } }, "nodes": [
          { "id": "depth", "stage": "depth.motion", "inputs": { "source": "$inputs.video" }, "params": { "fov": 70, "planes": 32, "cameraHeight": 1.5 } },
          { "id": "save", "stage": "depth.write", "inputs": { "depth": "depth.depth" }, "params": { "pattern": "d/%05d.npy" } }
        ] }
        """.utf8)
        XCTAssertEqual(try PipelineRun(data: data, registry: StageLibrary.registry, options: options("metric") { $0.frames = FrameRange(first: 8, last: 8) }).run().processed, 1)
        let out = folder.appendingPathComponent("metric")
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("motion.json"))) as! [String: Any]
        XCTAssertEqual(report["scale"] as? String, "metric: depth, path and points in metres", "\(report)")
        let centres = try String(contentsOf: out.appendingPathComponent("camera-trajectory.txt"), encoding: .utf8).split(separator: "\n")
            .filter { !$0.hasPrefix("#") }.map { $0.split(separator: " ").compactMap { Double($0) } }
        let (first, last) = (centres.first!, centres.last!)
        let walked = ((last[1] - first[1]) * (last[1] - first[1]) + (last[2] - first[2]) * (last[2] - first[2]) + (last[3] - first[3]) * (last[3] - first[3])).squareRoot()
        XCTAssertEqual(walked, (0.05 * 0.05 + 1.2 * 1.2).squareRoot(), accuracy: 0.06)
        let sidecar = try XCTUnwrap(try DepthSidecar.read(inFolder: out.appendingPathComponent("d")))
        XCTAssertEqual(sidecar.kind, .metric)
    }
}
