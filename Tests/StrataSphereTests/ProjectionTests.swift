import Foundation
import StrataCore
import StrataIO
import StrataSphere
import XCTest

/// Pixel ⇄ direction maps, equirect ⇄ cube ⇄ perspective, and parity with py360convert.
final class ProjectionTests: XCTestCase {
    func testEveryPixelsDirectionLeadsBackToThePixel() {
        // Equirect.
        let (w, h) = (64, 32)
        for y in 0..<h {
            for x in 0..<w {
                let d = Equirect.direction(x: Double(x), y: Double(y), width: w, height: h)
                let p = Equirect.position(of: d, width: w, height: h)
                XCTAssertEqual(p.x, Double(x), accuracy: 1e-9)
                XCTAssertEqual(p.y, Double(y), accuracy: 1e-9)
            }
        }
        // Gnomonic maps: cube faces (padded too), perspective views, tangent patches.
        var views = CubeFace.allCases.map { PerspectiveView(face: $0, faceSize: 16, padding: 3) }
        views.append(PerspectiveView(yaw: 37, pitch: -61, roll: 12, fov: 100, width: 40, height: 24))
        views += TangentLayout.icosahedron(level: 1).patches(size: 9)
        for view in views {
            for y in 0..<view.height {
                for x in 0..<view.width {
                    let d = view.direction(x: Double(x), y: Double(y))
                    let p = try! XCTUnwrap(view.position(of: d))
                    XCTAssertLessThan(angle(view.direction(x: p.x, y: p.y), d), 1e-6)
                    XCTAssertEqual(p.x, Double(x), accuracy: 1e-6)
                    XCTAssertEqual(p.y, Double(y), accuracy: 1e-6)
                    // And through the cube faces' own coordinates.
                    let (face, a, b) = CubeFace.locate(d)
                    XCTAssertLessThan(angle(face.direction(a: a, b: b), d), 1e-6)
                    XCTAssert(abs(a) <= 1 + 1e-12 && abs(b) <= 1 + 1e-12)
                }
            }
        }
    }

    func testCubeFacesOfASmoothPanoramaMatchTheFunctionEverywhereIncludingSeamAndPoles() {
        let pano = smoothPanorama(width: 256, height: 128)
        for interpolation in [Interpolation.bilinear, .bicubic] {
            let cube = pano.equirectToCube(faceSize: 32, interpolation: interpolation)
            for face in CubeFace.allCases {
                let image = cube.face(face)
                let view = PerspectiveView(face: face, faceSize: 32)
                let truth = Image(width: 32, height: 32, channels: 3) { c, y, x in smoothValue(view.direction(x: Double(x), y: Double(y)), channel: c) }
                // The back face straddles the ±180° seam, U and D hold the poles: all within
                // interpolation error of the function (about 1e-3 for this smooth one).
                XCTAssertLessThan(maxDifference(image, truth), 2e-3, "\(face) \(interpolation)")
            }
        }
    }

    func testTheBackFaceEqualsTheFrontFaceOfThePanoramaTurnedHalfWay() {
        // The wrap is exact: a panorama rolled by W/2 has the old back face in front.
        let pano = Image(width: 64, height: 32, channels: 1) { _, y, x in Float((x * 7 + y * 13) % 17) }
        let rolled = Image(width: 64, height: 32, channels: 1) { _, y, x in pano[0, y, (x + 32) % 64] }
        for interpolation in [Interpolation.nearest, .bilinear, .bicubic] {
            let back = pano.equirectToCube(faceSize: 16, interpolation: interpolation).face(.back)
            let front = rolled.equirectToCube(faceSize: 16, interpolation: interpolation).face(.front)
            XCTAssertLessThan(maxDifference(back, front), 1e-4, "\(interpolation)")
        }
    }

    func testNearestSamplingOnlyCopiesSourceValues() {
        let ids = Image(width: 48, height: 24, channels: 1) { _, y, x in Float(y * 48 + x) }
        let present = Set(ids.pixels)
        let cube = ids.equirectToCube(faceSize: 12, padding: 2, interpolation: .nearest)
        XCTAssert(cube.stacked.pixels.allSatisfy { present.contains($0) })
        let back = cube.toEquirect(width: 48, height: 24, interpolation: .nearest)
        XCTAssert(back.pixels.allSatisfy { present.contains($0) })
        let view = ids.equirectToPerspective(PerspectiveView(yaw: 170, pitch: 80, fov: 70, width: 20, height: 20), interpolation: .nearest)
        XCTAssert(view.pixels.allSatisfy { present.contains($0) })
    }

    func testOrientationMatchesPy360convert() throws {
        let pano = try NPY.read(fixture("py360convert-pano.npy"))
        XCTAssertLessThan(maxDifference(pano, smoothPanorama(width: 128, height: 64)), 1e-6, "the fixture's panorama is the test function")
        // e2c, dice layout. py360convert samples each face edge to edge (linspace), Strata
        // at pixel centres: the grids differ by up to half a pixel at the face edges, which
        // on this smooth panorama is a few thousandths; a flipped or swapped face is tenths.
        let dice = try NPY.read(fixture("py360convert-e2c-dice.npy"))
        let ours = pano.equirectToCube(faceSize: 32).image(layout: .dice)
        XCTAssertEqual([ours.width, ours.height], [dice.width, dice.height])
        XCTAssertLessThan(maxDifference(ours, dice), 0.012)
        XCTAssertLessThan(meanDifference(ours, dice), 0.003)
        // e2p: py360convert's u_deg, v_deg, in_rot_deg are Strata's yaw, pitch and roll.
        for (name, yaw, pitch, roll) in [("a", 30.0, 20.0, 0.0), ("b", -120.0, -35.0, 25.0)] {
            let reference = try NPY.read(fixture("py360convert-e2p-\(name).npy"))
            // py360convert's fov spans the outer pixel centres; Strata's spans the outer edges.
            let view = PerspectiveView(yaw: yaw, pitch: pitch, roll: roll, fov: 60, verticalFOV: 45, width: 64, height: 48)
            let cut = pano.equirectToPerspective(view)
            XCTAssertLessThan(maxDifference(cut, reference), 0.012, name)
            XCTAssertLessThan(meanDifference(cut, reference), 0.003, name)
            let flipped = pano.equirectToPerspective(PerspectiveView(yaw: yaw, pitch: pitch, roll: -roll, fov: 60, verticalFOV: 45, width: 64, height: 48))
            if roll != 0 { XCTAssertGreaterThan(maxDifference(flipped, reference), 0.05, "the roll's sign is pinned") }
        }
    }

    func testLayoutsRoundTripExactlyAndBadSizesAreRefused() throws {
        let cube = smoothPanorama(width: 64, height: 32).equirectToCube(faceSize: 8, padding: 1)
        for layout in [CubeLayout.dice, .horizon] {
            let image = cube.image(layout: layout)
            XCTAssertEqual([image.width, image.height], layout == .dice ? [40, 30] : [60, 10])
            XCTAssertEqual(try Cubemap(image: image, layout: layout, padding: 1), cube)
        }
        XCTAssertEqual(try Cubemap(faces: cube.faces, padding: 1), cube)
        XCTAssertEqual(try Cubemap(dictionary: cube.dictionary, padding: 1), cube)
        // The dice cross: U above F, L F R B across, D below; the corners are empty.
        let dice = cube.image(layout: .dice, fill: -1)
        XCTAssertEqual(dice[0, 0, 0], -1)
        XCTAssertEqual(dice[0, 10, 10], cube.face(.front)[0, 0, 0])
        XCTAssertEqual(dice[0, 0, 10], cube.face(.up)[0, 0, 0])
        XCTAssertEqual(dice[0, 10, 0], cube.face(.left)[0, 0, 0])
        XCTAssertEqual(dice[0, 20, 10], cube.face(.down)[0, 0, 0])
        XCTAssertEqual(dice[0, 10, 30], cube.face(.back)[0, 0, 0])

        XCTAssertThrowsError(try Cubemap(image: Image(width: 40, height: 31, channels: 1), layout: .dice)) {
            XCTAssertEqual($0 as? SphereError, .layoutSize(layout: "dice", width: 40, height: 31))
        }
        XCTAssertThrowsError(try Cubemap(image: Image(width: 60, height: 10, channels: 1), layout: .list)) {
            XCTAssertEqual($0 as? SphereError, .notSingleImage("list"))
        }
        XCTAssertThrowsError(try Cubemap(faces: Array(cube.faces.prefix(5)))) { XCTAssertEqual($0 as? SphereError, .faceCount(5)) }
        var faces = cube.faces
        faces[3] = Image(width: 10, height: 9, channels: 3)
        XCTAssertThrowsError(try Cubemap(faces: faces)) {
            XCTAssertEqual($0 as? SphereError, .faceMismatch(face: "L", found: "10x9x3", expected: "10x10x3"))
        }
        var dictionary = cube.dictionary
        dictionary["U"] = nil
        XCTAssertThrowsError(try Cubemap(dictionary: dictionary)) { XCTAssertEqual($0 as? SphereError, .missingFaces(["U"])) }
    }

    func testEquirectToCubeToEquirectKeepsTheImage() {
        let pano = smoothPanorama(width: 256, height: 128)
        for interpolation in [Interpolation.bilinear, .bicubic] {
            let back = pano.equirectToCube(faceSize: 64, interpolation: interpolation).toEquirect(width: 256, height: 128, interpolation: interpolation)
            XCTAssertGreaterThan(psnr(back, pano), 55, "\(interpolation)")
        }
    }

    func testPerspectivePastedBackOnlyCoversWhatItSees() {
        let pano = smoothPanorama(width: 128, height: 64)
        let view = PerspectiveView(yaw: 60, pitch: 10, fov: 80, width: 48, height: 36)
        let pasted = pano.equirectToPerspective(view).perspectiveToEquirect(view, width: 128, height: 64, fill: .nan)
        var seen = 0
        for y in 0..<64 {
            for x in 0..<128 {
                let d = Equirect.direction(x: Double(x), y: Double(y), width: 128, height: 64)
                let p = view.position(of: d)
                let inside = p.map { $0.x > -0.5 && $0.x < 47.5 && $0.y > -0.5 && $0.y < 35.5 } ?? false
                XCTAssertEqual(!pasted[0, y, x].isNaN, inside, "(\(x), \(y))")
                if inside {
                    seen += 1
                    for c in 0..<3 { XCTAssertEqual(pasted[c, y, x], pano[c, y, x], accuracy: 4e-3) }
                }
            }
        }
        XCTAssertGreaterThan(seen, 500)
    }
}
