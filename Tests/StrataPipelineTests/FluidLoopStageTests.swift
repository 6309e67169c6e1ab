import Foundation
import StrataCore
import StrataIO
import StrataPipeline
import StrataStages
import XCTest

/// `fluid.loop` in a run: a still with a hints file becomes a loop whose first frame is the
/// still and whose pixels outside the fluid never change; bad hints are refused by name.
final class FluidLoopStageTests: XCTestCase {
    var folder: URL!
    static let (width, height) = (48, 32)

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("strata-fluid-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        addTeardownBlock { [folder] in try? FileManager.default.removeItem(at: folder!) }
        // Steps (not a ramp: a ramp moved forward and backward blends back into itself).
        let still = Image(width: Self.width, height: Self.height, channels: 3) { c, y, x in Float((x / 3 * 37 + y * 11 + c * 50) % 256) / 255 }
        try PNG.write(still, to: folder.appendingPathComponent("still.png"))
        // The lower half is water.
        try PNG.write(Image(width: Self.width, height: Self.height, channels: 1) { _, y, _ in y >= 16 ? 1 : 0 }, to: folder.appendingPathComponent("water.png"))
    }

    func run(hints: String, frames: Int = 6, params: String = "") throws -> PipelineRun {
        try Data(hints.utf8).write(to: folder.appendingPathComponent("hints.json"))
        var options = RunOptions(outputDirectory: folder.appendingPathComponent("out"))
        options.inputs = ["image": folder.appendingPathComponent("still.png").path, "hints": folder.appendingPathComponent("hints.json").path]
        let run = try PipelineRun(data: Data("""
        { "version": 1, "inputs": { "image": { "type": "file" }, "hints": { "type": "file" } }, "nodes": [
          { "id": "loop", "stage": "fluid.loop", "inputs": { "image": "$inputs.image", "hints": "$inputs.hints" }, "params": { "frames": \(frames), "fieldFile": "field.npy", "cleanPlate": true\(params) } },
          { "id": "frames", "stage": "image.write", "inputs": { "image": "loop.image" }, "params": { "pattern": "f/%05d.png" } },
          { "id": "layer", "stage": "image.write", "inputs": { "image": "loop.fluid" }, "params": { "pattern": "fluid/%05d.npy" } },
          { "id": "plate", "stage": "image.write", "inputs": { "image": "loop.background" }, "params": { "pattern": "background/%05d.npy" } },
          { "id": "flow", "stage": "image.write", "inputs": { "image": "loop.field" }, "params": { "pattern": "field/%05d.npy" } },
          { "id": "gif", "stage": "video.write", "inputs": { "image": "loop.image" }, "params": { "path": "loop.gif", "fps": 25 } } ] }
        """.utf8), registry: StageLibrary.registry, options: options)
        return run
    }

    func testAStillAndItsHintsBecomeALoopWhereOnlyTheWaterMoves() throws {
        let run = try run(hints: #"{ "mask": "water.png", "hints": [{ "from": [10, 24], "to": [20, 24], "speed": 1 }, { "from": [5, 5], "to": [9, 5] }], "feather": 0 }"#)
        XCTAssertEqual(try run.run().processed, 6)
        XCTAssertEqual(run.notes, ["loop: hint 2 at (5.0, 5.0) is outside the fluid: left out"])
        let still = try PNG.read(folder.appendingPathComponent("still.png"))
        let plane = Self.width * Self.height
        var moved = 0
        for n in 1...6 {
            let frame = try PNG.read(folder.appendingPathComponent(String(format: "out/f/%05d.png", n)))
            for c in 0..<3 {
                for i in 0..<plane {
                    if i / Self.width < 16 { XCTAssertEqual(frame.pixels[c * plane + i], still.pixels[c * plane + i], "frame \(n): above the water") }
                    else if frame.pixels[c * plane + i] != still.pixels[c * plane + i] { moved += 1 }
                }
            }
        }
        XCTAssertEqual(try PNG.read(folder.appendingPathComponent("out/f/00001.png")), still, "the loop starts on the still")
        XCTAssertGreaterThan(moved, 5 * plane / 2, "the water moves in frames 2 to 6")
        let layer = try NPY.read(folder.appendingPathComponent("out/fluid/00002.npy"))
        XCTAssertEqual(layer.channels, 4)
        XCTAssertEqual(layer[3, 10, 10], 0)
        XCTAssertEqual(layer[3, 20, 10], 1)
        // The fluid layer over the background is the frame; the background is the still
        // above the water and a clean plate (not the still's water) under it.
        let background = try NPY.read(folder.appendingPathComponent("out/background/00002.npy"))
        let frame = try PNG.read(folder.appendingPathComponent("out/f/00002.png"))
        var inpainted = 0
        for c in 0..<3 {
            for y in 0..<Self.height {
                for x in 0..<Self.width {
                    let a = layer[3, y, x]
                    XCTAssertEqual(a * layer[c, y, x] + (1 - a) * background[c, y, x], frame[c, y, x], accuracy: 0.5 / 255 + 1e-6)
                    if y < 16 { XCTAssertEqual(background[c, y, x], still[c, y, x]) }
                    if y >= 16 { inpainted += abs(background[c, y, x] - still[c, y, x]) > 1e-6 ? 1 : 0 }
                }
            }
        }
        let field = try NPY.read(folder.appendingPathComponent("out/field/00001.npy"))
        XCTAssertEqual(field[0, 24, 24], 1, accuracy: 1e-6, "one arrow: the whole water moves right at its speed")
        XCTAssertEqual(field[1, 24, 24], 0, accuracy: 1e-6)
        XCTAssertEqual(field[0, 5, 24], 0)
        XCTAssertGreaterThan(inpainted, 3 * 16 * Self.width / 2, "under the water, a clean plate, not the still")
        // The loop as a GIF too: GIF89a of the frame's size, 4/100 s a frame (GIFTests
        // decodes the format itself).
        let gif = [UInt8](try Data(contentsOf: folder.appendingPathComponent("out/loop.gif")))
        XCTAssertEqual(Array(gif[0..<6]), Array("GIF89a".utf8))
        XCTAssertEqual([Int(gif[6]) | Int(gif[7]) << 8, Int(gif[8]) | Int(gif[9]) << 8], [Self.width, Self.height])
        XCTAssertEqual(gif.last, 0x3B)
        // The field once, as .npy, and on the colour wheel: rightward is red, still is white.
        XCTAssertEqual(try NPY.read(folder.appendingPathComponent("out/field.npy")), field)
        let wheel = try PNG.read(folder.appendingPathComponent("out/field.png"))
        XCTAssertEqual([wheel[0, 24, 24], wheel[1, 24, 24], wheel[2, 24, 24]], [1, 0, 0])
        XCTAssertEqual([wheel[0, 5, 24], wheel[1, 5, 24], wheel[2, 5, 24]], [1, 1, 1])
    }

    /// With the still's depth, far water moves fewer pixels: the arrow's speed holds at its
    /// start (2 m), and at 4 m the field is half as fast.
    func testDepthMakesFarWaterSlower() throws {
        try Data(#"{ "mask": "water.png", "hints": [{ "from": [10, 31], "to": [20, 31], "speed": 1 }] }"#.utf8)
            .write(to: folder.appendingPathComponent("hints.json"))
        let depth = Image(width: Self.width, height: Self.height, channels: 1) { _, y, _ in y >= 24 ? 2 : 4 }
        try DepthFile.writeFloat(DepthMap(values: depth, kind: .metric), to: folder.appendingPathComponent("depth.npy"))
        var options = RunOptions(outputDirectory: folder.appendingPathComponent("out"))
        options.inputs = ["image": folder.appendingPathComponent("still.png").path, "hints": folder.appendingPathComponent("hints.json").path,
                          "depth": folder.appendingPathComponent("depth.npy").path]
        let run = try PipelineRun(data: Data("""
        { "version": 1, "inputs": { "image": { "type": "file" }, "hints": { "type": "file" }, "depth": { "type": "file" } }, "nodes": [
          { "id": "loop", "stage": "fluid.loop", "inputs": { "image": "$inputs.image", "hints": "$inputs.hints", "depth": "$inputs.depth" },
            "params": { "frames": 4 } },
          { "id": "flow", "stage": "image.write", "inputs": { "image": "loop.field" }, "params": { "pattern": "field/%05d.npy" } } ] }
        """.utf8), registry: StageLibrary.registry, options: options)
        _ = try run.run()
        let field = try NPY.read(folder.appendingPathComponent("out/field/00001.npy"))
        XCTAssertEqual(field[0, 28, 24], 1, accuracy: 1e-5)
        XCTAssertEqual(field[0, 18, 24], 0.5, accuracy: 1e-5)
    }

    func testBadHintsAreRefusedNamingTheFile() throws {
        let hints = folder.appendingPathComponent("hints.json").path
        let cases: [(String, String)] = [
            (#"{ "mask": "water.png", "hints": [{ "from": [60, 24], "to": [70, 24] }] }"#, "\(hints): hint 1 starts at (60.0, 24.0), outside the 48x32 image"),
            (#"{ "mask": "water.png", "hints": [{ "from": [5, 5], "to": [9, 5] }] }"#, "\(hints): no hint starts inside the fluid"),
            (#"{ "mask": "water.png", "freeze": [[[-1, -1], [50, -1], [50, 40], [-1, 40]]], "hints": [{ "from": [5, 20], "to": [9, 20] }] }"#,
             "\(hints): the fluid region is empty (after the freeze region)"),
            (#"{ "mask": "water.png", "hints": [{ "from": [5, 20], "to": [5, 20] }] }"#, "hint 1 (5.0, 20.0) → (5.0, 20.0) has zero length: its direction is unknown"),
        ]
        for (text, message) in cases {
            XCTAssertThrowsError(try run(hints: text)) { error in
                XCTAssertTrue("\(error)".contains(message), "\(error)")
            }
        }
        try PNG.write(Image(width: 10, height: 10, channels: 1, fill: 1), to: folder.appendingPathComponent("small.png"))
        XCTAssertThrowsError(try run(hints: #"{ "mask": "small.png", "hints": [{ "from": [5, 5], "to": [9, 5] }] }"#)) { error in
            XCTAssertTrue("\(error)".contains("small.png: a mask of 10x10 for an image of 48x32"), "\(error)")
        }
        XCTAssertThrowsError(try run(hints: #"{ "mask": "water.png", "hints": [{ "from": [5, 20], "to": [9, 20] }] }"#, frames: 1)) { error in
            XCTAssertTrue("\(error)".contains("a loop of 1 frame does not move"), "\(error)")
        }
    }

    /// A luminance key: the still's dark pixels stay still in every frame (under clear water,
    /// the riverbed), the bright ones move; the fluid layer's alpha is the mask's times the
    /// key's. A colour that is not #RRGGBB is refused by name.
    func testAKeyKeepsTheDarkStill() throws {
        let hints = #"{ "mask": "water.png", "hints": [{ "from": [10, 24], "to": [20, 24], "speed": 1 }], "feather": 0 }"#
        _ = try run(hints: hints, params: #", "key": "luminance", "keyThreshold": 0.5, "keySoftness": 0"#).run()
        let still = try PNG.read(folder.appendingPathComponent("still.png"))
        let plane = Self.width * Self.height
        let bright = (0..<plane).map { i in 0.2126 * still.pixels[i] + 0.7152 * still.pixels[plane + i] + 0.0722 * still.pixels[2 * plane + i] >= 0.5 }
        var moved = 0
        for n in 2...6 {
            let frame = try PNG.read(folder.appendingPathComponent(String(format: "out/f/%05d.png", n)))
            let layer = try NPY.read(folder.appendingPathComponent(String(format: "out/fluid/%05d.npy", n)))
            for i in 0..<plane {
                let water = i / Self.width >= 16
                XCTAssertEqual(layer.pixels[3 * plane + i], water && bright[i] ? 1 : 0)
                for c in 0..<3 where !(water && bright[i]) { XCTAssertEqual(frame.pixels[c * plane + i], still.pixels[c * plane + i]) }
                if water && bright[i] && frame.pixels[i] != still.pixels[i] { moved += 1 }
            }
        }
        XCTAssertGreaterThan(moved, 100, "the bright water moves")
        XCTAssertThrowsError(try run(hints: hints, params: ##", "key": "color", "keyColor": "#12""##)) { error in
            XCTAssertTrue("\(error)".contains("keyColor") && "\(error)".contains("\"#12\" is not a colour: give #RRGGBB"), "\(error)")
        }
    }
}
