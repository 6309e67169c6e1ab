import StrataCore
import XCTest
@testable import StrataLayers

/// Layers of synthetic scenes whose answer is known: a near square over a far textured
/// plane, a tilted background, an object across an equirect's seam.
final class LayerDecompositionTests: XCTestCase {
    static let (width, height) = (96, 64)

    /// Vertical stripes, period 8 px, in three colours: what the fill should continue.
    static func stripes(_ c: Int, _ y: Int, _ x: Int) -> Float { Float((x / 4 + c) % 3) / 2 }

    /// A near square (disparity 1, flat grey with a dot pattern) over a striped plane whose
    /// disparity falls linearly from 0.30 to 0.20 across the image.
    static func scene(square: (x: Range<Int>, y: Range<Int>) = (30..<60, 20..<44)) -> (Image, DepthMap, [Bool]) {
        let inSquare = (0..<(width * height)).map { square.x.contains($0 % width) && square.y.contains($0 / width) }
        let color = Image(width: width, height: height, channels: 3) { c, y, x in
            inSquare[y * width + x] ? ((x + y) % 5 == 0 ? 0.9 : 0.5) : stripes(c, y, x)
        }
        let depth = DepthMap(values: Image(width: width, height: height, channels: 1) { _, y, x in
            inSquare[y * width + x] ? 1 : 0.30 - 0.10 * Float(x) / Float(width - 1)
        }, kind: .inverseRelative)
        return (color, depth, inSquare)
    }

    func testTwoPlanesGiveExactlyTwoLayersWithTheRightPixels() throws {
        let (color, depth, square) = Self.scene()
        for count in [nil, 2] {
            let scene = try LayerDecomposition(layerCount: count).decompose(color: color, depth: depth)
            XCTAssertEqual(scene.layers.count, 2, "count \(String(describing: count))")
            XCTAssertEqual(scene.labels, square.map { $0 ? 0 : 1 }, "the square is layer 0, the plane layer 1, pixel for pixel")
            XCTAssertEqual(scene.layers[0].visible, square)
            XCTAssertEqual(scene.notes, [])
        }
    }

    func testMoreLayersThanDepthsOrAFlatDepthMakeFewerAndSayIt() throws {
        let (color, slanted, square) = Self.scene()
        // Two flat planes: two distinct depths.
        let depth = DepthMap(values: Image(width: Self.width, height: Self.height, channels: 1) { _, y, x in square[y * Self.width + x] ? 1 : 0.25 },
                             kind: .inverseRelative)
        let five = try LayerDecomposition(layerCount: 5).decompose(color: color, depth: depth)
        XCTAssertEqual(five.layers.count, 2)
        XCTAssertEqual(five.notes, ["5 layers asked, 2 made: the depth has no more distinct levels"])
        // A slanted plane is a continuum: asked for more layers, it is sliced.
        XCTAssertEqual(try LayerDecomposition(layerCount: 4).decompose(color: color, depth: slanted).layers.count, 4)
        let flat = DepthMap(values: Image(width: Self.width, height: Self.height, channels: 1, fill: 0.5), kind: .inverseRelative)
        let one = try LayerDecomposition().decompose(color: color, depth: flat)
        XCTAssertEqual(one.layers.count, 1)
        XCTAssertTrue(one.layers[0].visible.allSatisfy { $0 })
    }

    func testInvalidDepthIsTakenAsFarAndSaid() throws {
        let (color, depth, _) = Self.scene()
        var holes = depth
        holes.values.pixels[5] = .nan
        holes.values.pixels[6] = -1
        let scene = try LayerDecomposition(layerCount: 2).decompose(color: color, depth: holes)
        XCTAssertEqual(scene.labels[5], 1)
        XCTAssertEqual(scene.labels[6], 1)
        XCTAssertTrue(scene.notes.contains { $0.hasPrefix("2 pixels without valid depth") }, "\(scene.notes)")
        XCTAssertThrowsError(try LayerDecomposition().decompose(color: Image(width: 10, height: 10, channels: 3), depth: depth)) { error in
            XCTAssertTrue("\(error)".contains("depth of 96x64 for colour of 10x10"), "\(error)")
        }
    }

    /// Behind the square the plane is filled: its depth continues the tilt exactly (a
    /// membrane reproduces a plane), its colour continues the stripes from patches of the
    /// plane itself, far better than smooth interpolation would; nothing beyond the band.
    func testTheHiddenPlaneIsFilledFromItselfWithinTheBand() throws {
        let (color, depth, square) = Self.scene()
        let band = 12
        let scene = try LayerDecomposition(layerCount: 2, fillBand: band).decompose(color: color, depth: depth)
        let back = scene.layers[1]
        let (w, count) = (Self.width, Self.width * Self.height)
        for i in 0..<count where square[i] {
            let (x, y) = (i % w, i / w)
            let border = min(x - 30 + 1, 60 - x, y - 20 + 1, 44 - y)
            XCTAssertEqual(back.filled[i], border <= band, "pixel (\(x), \(y)) \(border) from the plane")
            if back.filled[i] {
                XCTAssertEqual(back.depth.pixels[i], 0.30 - 0.10 * Float(x) / Float(w - 1), accuracy: 2e-4, "depth at (\(x), \(y))")
                XCTAssertEqual(back.color.pixels[3 * count + i], 1, "filled pixels are opaque")
            } else {
                XCTAssertTrue(back.depth.pixels[i].isNaN)
                XCTAssertEqual(back.color.pixels[3 * count + i], 0)
            }
        }
        // The stripes run on: mean absolute error against the true plane over the fill.
        var error = 0.0, n = 0
        for i in 0..<count where back.filled[i] {
            for c in 0..<3 { error += Double(abs(back.color.pixels[c * count + i] - Self.stripes(c, i / w, i % w))); n += 1 }
        }
        XCTAssertLessThan(error / Double(n), 0.05, "the fill continues the stripes")
        // The same seed, the same layers.
        let again = try LayerDecomposition(layerCount: 2, fillBand: band).decompose(color: color, depth: depth)
        XCTAssertEqual(again.layers[1].color, back.color)
    }

    /// The near layer's edge is soft towards the plane, and compositing the layers gives
    /// back the input wherever a layer is opaque.
    func testSoftEdgesAndCompositeGiveBackTheInput() throws {
        let (color, depth, square) = Self.scene()
        let scene = try LayerDecomposition(layerCount: 2, softness: 2).decompose(color: color, depth: depth)
        let count = Self.width * Self.height
        let alpha = Array(scene.layers[0].color.pixels[(3 * count)...])
        XCTAssertEqual(alpha[32 * Self.width + 30], 1.0 / 3, accuracy: 1e-6, "the square's border pixel: the first of a band of 2")
        XCTAssertEqual(alpha[32 * Self.width + 31], 2.0 / 3, accuracy: 1e-6, "the second")
        XCTAssertEqual(alpha[32 * Self.width + 45], 1, "inside")
        XCTAssertEqual(alpha[32 * Self.width + 10], 0, "outside")
        let composite = scene.composite()
        for i in 0..<count where (square[i] && alpha[i] == 1) || !square[i] {
            for c in 0..<3 { XCTAssertEqual(composite.pixels[c * count + i], color.pixels[c * count + i], accuracy: 1e-6) }
        }
    }

    /// On an equirect the square straddles the 0°/360° seam: one layer, and turning the
    /// panorama half a turn turns the labels, alpha and depth with it.
    func testAnEquirectLayerAcrossTheSeamIsOneLayerAndNothingChangesAtTheSeam() throws {
        let (w, h) = (Self.width, Self.height)
        let split = (0..<(w * h)).map { ($0 % w < 10 || $0 % w >= w - 12) && (20..<44).contains($0 / w) }
        func scene(shift: Int) -> (Image, DepthMap) {
            let color = Image(width: w, height: h, channels: 3) { c, y, x in
                let x0 = (x + shift) % w
                return split[y * w + x0] ? 0.7 : Self.stripes(c, y, x0)
            }
            let depth = DepthMap(values: Image(width: w, height: h, channels: 1) { _, y, x in split[y * w + (x + shift) % w] ? 1 : 0.25 },
                                 kind: .inverseRelative, projection: .equirectangular)
            return (color, depth)
        }
        let decomposition = LayerDecomposition(layerCount: 2, fillBand: 8, wrap: true)
        let (c0, d0) = scene(shift: 0), (c1, d1) = scene(shift: w / 2)
        let a = try decomposition.decompose(color: c0, depth: d0), b = try decomposition.decompose(color: c1, depth: d1)
        XCTAssertEqual(a.layers.count, 2)
        for y in 0..<h {
            for x in 0..<w {
                let (i, j) = (y * w + (x + w / 2) % w, y * w + x)
                XCTAssertEqual(a.labels[i], b.labels[j])
                XCTAssertEqual(a.layers[0].color.pixels[3 * w * h + i], b.layers[0].color.pixels[3 * w * h + j], "alpha at (\(x), \(y))")
                XCTAssertEqual(a.layers[1].filled[i], b.layers[1].filled[j], "fill region at (\(x), \(y))")
                let (da, db) = (a.layers[1].depth.pixels[i], b.layers[1].depth.pixels[j])
                if da.isNaN { XCTAssertTrue(db.isNaN) } else { XCTAssertEqual(da, db, accuracy: 1e-4) }
            }
        }
        // The two halves are one layer.
        XCTAssertEqual([a.labels[30 * w], a.labels[30 * w + w - 1]], [0, 0])
    }

    /// A floor receding from near (bottom) to far (top) with a box in front of it: the
    /// automatic cut lies where the boundary is the box's edge (between the floor around the
    /// box and the box), not in the middle of the floor where the pixel count would put it.
    /// (A threshold in disparity cannot keep the floor nearer than the box out of layer 0.)
    func testAutomaticCutsFollowAnObjectsEdgeNotTheMiddleOfAFloor() throws {
        // Tall enough that the floor recedes gently (2 % of the range over 3 rows).
        let (w, h) = (96, 160)
        let box = (x: 36..<60, y: 40..<100)
        let inBox = (0..<(w * h)).map { box.x.contains($0 % w) && box.y.contains($0 / w) }
        func floor(_ y: Int) -> Float { 0.1 + 0.8 * Float(y) / Float(h - 1) }
        // The box at 0.7, in front of floor of 0.3…0.6.
        let depth = DepthMap(values: Image(width: w, height: h, channels: 1) { _, y, x in inBox[y * w + x] ? 0.7 : floor(y) },
                             kind: .inverseRelative)
        let color = Image(width: w, height: h, channels: 3) { c, y, x in Self.stripes(c, y, x) }
        let scene = try LayerDecomposition().decompose(color: color, depth: depth)
        XCTAssertEqual(scene.layers.count, 2)
        for i in 0..<(w * h) {
            let d = floor(i / w)
            if inBox[i] || d > 0.7 { XCTAssertEqual(scene.labels[i], 0, "pixel \(i): the box and the floor nearer than it") }
            if !inBox[i] && d < 0.58 { XCTAssertEqual(scene.labels[i], 1, "pixel \(i): the floor around and behind the box") }
        }
    }

    /// With a viewing offset the fill reaches only what the offset can reveal: per pixel,
    /// offset × (occluder's disparity − the layer's far end) × pixels per radian.
    func testAViewingOffsetFillsOnlyWhatItCanRevealAndNeedsMetricDepth() throws {
        let (w, h) = (Self.width, Self.height)
        let square = (x: 30..<60, y: 20..<44)
        let inSquare = (0..<(w * h)).map { square.x.contains($0 % w) && square.y.contains($0 / w) }
        let color = Image(width: w, height: h, channels: 3) { c, y, x in Self.stripes(c, y, x) }
        // Metres: the square 1 m away, the plane 4 m; a pinhole of focal 96 px.
        let values = Image(width: w, height: h, channels: 1) { _, y, x in inSquare[y * w + x] ? 1 : 4 }
        let pinhole = Projection.pinhole(PinholeIntrinsics(fx: 96, fy: 96, cx: 48, cy: 32, width: w, height: h))
        let metric = DepthMap(values: values, kind: .metric, projection: pinhole)
        // 0.05 m × (1 − 0.25) /m × 96 px = 3.6 px: the hidden plane is filled 4 px deep.
        let scene = try LayerDecomposition(layerCount: 2, fillBand: 32, viewingOffset: 0.05).decompose(color: color, depth: metric)
        let filled = scene.layers[1].filled
        for y in square.y {
            for x in square.x {
                let inset = min(x - square.x.lowerBound, square.x.upperBound - 1 - x, y - square.y.lowerBound, square.y.upperBound - 1 - y) + 1
                XCTAssertEqual(filled[y * w + x], inset <= 4, "(\(x), \(y)) is \(inset) px inside the square")
            }
        }
        // The band still caps it.
        let capped = try LayerDecomposition(layerCount: 2, fillBand: 2, viewingOffset: 1).decompose(color: color, depth: metric)
        XCTAssertEqual(capped.layers[1].filled.filter { $0 }.count, 30 * 24 - 26 * 20)
        let relative = DepthMap(values: values, kind: .relative, projection: pinhole)
        XCTAssertThrowsError(try LayerDecomposition(viewingOffset: 0.05).decompose(color: color, depth: relative)) { error in
            XCTAssertTrue("\(error)".contains("needs metric depth"), "\(error)")
        }
    }
}
