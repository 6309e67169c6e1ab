import Foundation
import StrataCore
import StrataIO
import StrataPipeline
import StrataSphere
import StrataStages
import XCTest

/// The sphere stages in a real run: what they write equals the library's answer on the
/// frame the run rendered (float files, so exactly).
final class SphereStageTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("strata-sphere-\(UUID().uuidString)")
        addTeardownBlock { [folder] in try? FileManager.default.removeItem(at: folder!) }
    }

    func run(_ nodes: String, frames: Int = 2, resume: Bool = false) throws -> RunSummary {
        let json = """
        { "version": 1, "nodes": [
          { "id": "render", "stage": "synth.render", "params": { "scene": "indoor", "camera": "equirect", "width": 96, "height": 48,
                                                                 "frames": \(frames), "walk": 1, "supersampling": 1 } },
          { "id": "color", "stage": "image.write", "inputs": { "image": "render.image" }, "params": { "pattern": "color/%05d.npy" } },
          \(nodes)
        ] }
        """
        var options = RunOptions(outputDirectory: folder)
        options.resume = resume
        return try PipelineRun(data: Data(json.utf8), registry: StageLibrary.registry, options: options).run()
    }

    func read(_ path: String) throws -> Image { try NPY.read(folder.appendingPathComponent(path)) }

    func testCubeStagesWriteWhatTheLibraryComputes() throws {
        _ = try run("""
          { "id": "cube", "stage": "sphere.toCube", "inputs": { "image": "render.image" }, "params": { "faceSize": 24, "padding": 2, "interpolation": "bicubic" } },
          { "id": "faces", "stage": "image.write", "inputs": { "image": "cube.faces" }, "params": { "pattern": "faces/{face}/%05d.npy" } },
          { "id": "dice", "stage": "image.write", "inputs": { "image": "cube.faces" }, "params": { "pattern": "dice/%05d.npy" } },
          { "id": "pad", "stage": "sphere.padCube", "inputs": { "faces": "cube.faces" }, "params": { "padding": 3 } },
          { "id": "padded", "stage": "image.write", "inputs": { "image": "pad.faces" }, "params": { "pattern": "padded/%05d_{face}.npy" } },
          { "id": "back", "stage": "sphere.fromCube", "inputs": { "faces": "cube.faces" }, "params": { "width": 64 } },
          { "id": "pano", "stage": "image.write", "inputs": { "image": "back.image" }, "params": { "pattern": "back/%05d.npy" } },
          { "id": "view", "stage": "sphere.toPerspective", "inputs": { "image": "render.image" },
            "params": { "yaw": 40, "pitch": -10, "roll": 5, "fov": 70, "width": 32, "height": 20 } },
          { "id": "crop", "stage": "image.write", "inputs": { "image": "view.image" }, "params": { "pattern": "view/%05d.npy" } }
        """)
        for number in ["00001", "00002"] {
            let color = try read("color/\(number).npy")
            let cube = color.equirectToCube(faceSize: 24, padding: 2, interpolation: .bicubic)
            for face in CubeFace.allCases {
                XCTAssertEqual(try read("faces/\(face.letter)/\(number).npy"), cube.face(face), "\(face)")
                XCTAssertEqual(try read("padded/\(number)_\(face.letter).npy"), try cube.padded(by: 3).face(face), "\(face)")
            }
            XCTAssertEqual(try read("dice/\(number).npy"), cube.image(layout: .dice))
            XCTAssertEqual(try read("back/\(number).npy"), cube.toEquirect(width: 64, height: 32))
            XCTAssertEqual(try read("view/\(number).npy"),
                           color.equirectToPerspective(PerspectiveView(yaw: 40, pitch: -10, roll: 5, fov: 70, width: 32, height: 20)))
        }
    }

    func testPatchesGoOutAndComeBackThroughFusion() throws {
        _ = try run("""
          { "id": "tiles", "stage": "sphere.toPatches", "inputs": { "image": "render.image" }, "params": { "layout": "omnifusion", "size": 20 } },
          { "id": "merge", "stage": "sphere.fromPatches", "inputs": { "patches": "tiles.patches" }, "params": { "width": 96, "weighting": "mean" } },
          { "id": "pano", "stage": "image.write", "inputs": { "image": "merge.image" }, "params": { "pattern": "fused/%05d.npy" } },
          { "id": "weights", "stage": "image.write", "inputs": { "image": "merge.weight" }, "params": { "pattern": "weight/%05d.npy" } }
        """, frames: 1)
        let color = try read("color/00001.npy")
        let views = TangentLayout.omniFusion.patches(size: 20)
        let fused = try SphereFusion(views: views, images: color.equirectToPerspective(views), width: 96, height: 48, weighting: .mean, fill: 0)
        XCTAssertEqual(try read("fused/00001.npy"), fused.image)
        XCTAssertEqual(try read("weight/00001.npy"), fused.weight)
        XCTAssertEqual(fused.weight.pixels.min(), 1, "the 18 patches cover the sphere")
    }

    func testResumeRedoesAFrameThatLostOneFace() throws {
        let nodes = """
          { "id": "cube", "stage": "sphere.toCube", "inputs": { "image": "render.image" }, "params": { "faceSize": 16 } },
          { "id": "faces", "stage": "image.write", "inputs": { "image": "cube.faces" }, "params": { "pattern": "faces/%05d_{face}.png" } }
        """
        XCTAssertEqual(try run(nodes, frames: 3).processed, 3)
        let lost = folder.appendingPathComponent("faces/00002_U.png")
        let kept = try Data(contentsOf: lost)
        try FileManager.default.removeItem(at: lost)
        let summary = try run(nodes, frames: 3, resume: true)
        XCTAssertEqual(summary.plan.alreadyDone, 2)
        XCTAssertEqual(summary.processed, 1)
        XCTAssertEqual(try Data(contentsOf: lost), kept)
    }
}
