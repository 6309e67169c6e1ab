import Foundation
import StrataCore
import XCTest
@testable import StrataFluid

/// Hints files in Strata's format and labelme's, every malformed one refused naming the
/// file and the field, and the masks they describe.
final class FluidControlsTests: XCTestCase {
    func read(_ text: String) throws -> FluidControls { try FluidControls(json: Data(text.utf8), name: "hints.json") }

    func testStrataHintsFileReadsEveryField() throws {
        let controls = try read("""
        { "mask": "water.png", "freeze": [[[1, 1], [4, 1], [4, 4]]],
          "hints": [{ "from": [10, 20], "to": [50, 20] }, { "from": [0, 0], "to": [0, 3], "speed": 1.5, "radius": 30 }],
          "anchors": [{ "at": [7, 8] }, { "at": [9, 9], "radius": 3 }],
          "speedPerPixel": 0.1, "feather": 4, "frames": 60, "fps": 24 }
        """)
        XCTAssertEqual(controls.maskPath, "water.png")
        XCTAssertEqual(controls.freeze, [[[1, 1], [4, 1], [4, 4]]])
        XCTAssertEqual(controls.hints, [MotionHint(start: [10, 20], end: [50, 20], speed: 4), MotionHint(start: [0, 0], end: [0, 3], speed: 1.5, radius: 30)])
        XCTAssertEqual(controls.anchors, [MotionAnchor(position: [7, 8], radius: 8), MotionAnchor(position: [9, 9], radius: 3)])
        XCTAssertEqual(controls.feather, 4)
        XCTAssertEqual(controls.frames, 60)
        XCTAssertEqual(controls.fps, 24)
    }

    func testLabelmeShapesBecomeTheRegionHintsAnchorsAndFreeze() throws {
        let controls = try read("""
        { "version": "5.2.1", "imagePath": "falls.jpg", "imageWidth": 64, "imageHeight": 48, "shapes": [
          { "label": "water", "shape_type": "polygon", "points": [[2, 2], [60, 2], [60, 40], [2, 40]] },
          { "label": "flow", "shape_type": "line", "points": [[10, 10], [30, 10]] },
          { "label": "anchor", "shape_type": "point", "points": [[20, 20]] },
          { "label": "freeze rocks", "shape_type": "rectangle", "points": [[40, 30], [50, 38]] },
          { "label": "tree", "shape_type": "circle", "points": [[5, 5], [7, 7]] } ] }
        """)
        XCTAssertEqual(controls.polygons, [[[2, 2], [60, 2], [60, 40], [2, 40]]])
        XCTAssertEqual(controls.hints, [MotionHint(start: [10, 10], end: [30, 10], speed: 1)])
        XCTAssertEqual(controls.anchors, [MotionAnchor(position: [20, 20], radius: 8)])
        XCTAssertEqual(controls.freeze, [[[40, 30], [50, 30], [50, 38], [40, 38]]])
        XCTAssertEqual(controls.notes, ["hints.json: shapes[4] (circle \"tree\", 2 points) skipped: not a fluid polygon, a two-point hint line or an anchor point"])
    }

    func testMalformedFilesAreRefusedNamingTheField() {
        let cases: [(String, String)] = [
            ("[1, 2]", "hints.json: not a JSON object"),
            (#"{ "hints": [{ "from": [1, 1], "to": [2, 2] }] }"#, #"hints.json: no fluid region: give "mask" (a file) or "polygons""#),
            (#"{ "mask": "m.png" }"#, "hints.json: hints: a list of one or more arrows is expected"),
            (#"{ "mask": "m.png", "hints": [{ "from": [1, 1] }] }"#, #"hints.json: hints[0]: "from" and "to" are both needed"#),
            (#"{ "mask": "m.png", "hints": [{ "from": [1, "a"], "to": [2, 2] }] }"#, "hints.json: hints[0].from: a number is expected"),
            (#"{ "mask": "m.png", "hints": [{ "from": [1, 1], "to": [2, 2], "speed": -1 }] }"#, "hints.json: hints[0].speed: -1.0 is negative"),
            (#"{ "polygons": [[[0, 0], [1, 1]]], "hints": [{ "from": [1, 1], "to": [2, 2] }] }"#, "hints.json: polygons[0]: a polygon needs 3 points or more, it has 2"),
            (#"{ "mask": "m.png", "hints": [{ "from": [1, 1], "to": [2, 2] }], "frames": 1 }"#, "hints.json: frames: 1.0 is not a whole number of 2 or more"),
            (#"{ "shapes": [{ "label": "x", "shape_type": "circle", "points": [[1, 1], [2, 2]] }] }"#,
             "hints.json: no usable shape: label polygons for the fluid and draw two-point lines for the hints"),
            (#"{ "shapes": [{ "label": "water", "shape_type": "polygon", "points": [[1, 1], [9, 1], [9, 9]] }] }"#, "hints.json: no two-point line for a hint"),
        ]
        for (text, message) in cases {
            XCTAssertThrowsError(try read(text), text) { error in
                XCTAssertEqual("\(error)", message)
                XCTAssertEqual((error as? FluidError)?.exitCode, 65)
            }
        }
    }

    /// Pixel centres inside the polygon, exactly; the feather rises from the edge inwards.
    func testPolygonsRasterizeAndTheMaskFeathers() {
        let mask = FluidMask.rasterize([[[1.5, 1.5], [6.5, 1.5], [6.5, 4.5], [1.5, 4.5]]], width: 10, height: 8)
        for y in 0..<8 { for x in 0..<10 { XCTAssertEqual(mask[y * 10 + x], (2...6).contains(x) && (2...4).contains(y), "(\(x), \(y))") } }
        let triangle = FluidMask.rasterize([[[0, 0], [8, 0], [0, 8]]], width: 10, height: 10)
        // Row y holds the centres x = 0…8 − y, its edges included; the row on the apex (8) none.
        XCTAssertEqual(triangle.filter { $0 }.count, (0..<8).reduce(0) { $0 + (9 - $1) })
        XCTAssertTrue(triangle[7 * 10 + 1] && !triangle[7 * 10 + 2] && !triangle[8 * 10])
        let band = (0..<(20 * 9)).map { (2...6).contains($0 / 20) }
        let alpha = FluidMask.feathered(band, width: 20, feather: 2, wrap: false)
        let third: Float = 1.0 / 3
        let expected: [Float] = [0, 0, third, 2 * third, 1, 2 * third, third, 0, 0]
        for y in 0..<9 { XCTAssertEqual(alpha[y * 20 + 10], expected[y], accuracy: 1e-6, "row \(y)") }
        XCTAssertEqual(FluidMask.feathered(band, width: 20, feather: 0, wrap: false), band.map { $0 ? 1 : 0 })
    }
}
