import XCTest
@testable import StrataCore

final class ColorTests: XCTestCase {
    func testGrayscaleUsesRec601Weights() {
        let image = Image(width: 1, height: 1, channels: 3, pixels: [1, 0.5, 0.25])
        XCTAssertEqual(image.grayscale().pixels[0], 0.299 + 0.587 * 0.5 + 0.114 * 0.25, accuracy: 1e-6)
        XCTAssertEqual(Image(width: 1, height: 1, channels: 2, pixels: [0.3, 0.9]).grayscale().pixels, [0.3])
    }

    func testRGBAndAlpha() {
        let gray = Image(width: 2, height: 1, channels: 1, pixels: [0.1, 0.2])
        XCTAssertEqual(gray.rgb().pixels, [0.1, 0.2, 0.1, 0.2, 0.1, 0.2])
        let rgba = gray.rgb().withAlpha(0.5)
        XCTAssertEqual(rgba.channels, 4)
        XCTAssertEqual(rgba.channel(3).pixels, [0.5, 0.5])
        XCTAssertEqual(rgba.rgb(), gray.rgb())
    }

    func testPremultiplyRoundTrip() {
        // Pixels (RGBA): (0.2, 0.4, 0.6, 1), (0.5, 0, 0.8, 0.5), (0.25, 0.5, 1, 0).
        let rgba: [[Float]] = [[0.2, 0.4, 0.6, 1], [0.5, 0, 0.8, 0.5], [0.25, 0.5, 1, 0]]
        let image = Image(width: 3, height: 1, channels: 4) { c, _, x in rgba[x][c] }
        let pre = image.premultipliedAlpha()
        XCTAssertEqual(pre[2, 0, 1], 0.8 * 0.5, accuracy: 1e-7)
        XCTAssertEqual(pre[0, 0, 0], 0.2, accuracy: 1e-7)
        XCTAssertEqual(pre[3, 0, 1], 0.5)
        let back = pre.unpremultipliedAlpha()
        for x in 0..<2 { for c in 0..<3 { XCTAssertEqual(back[c, 0, x], image[c, 0, x], accuracy: 1e-6) } }
        // Fully transparent colour is undefined after premultiplication; Strata makes it 0.
        XCTAssertEqual(back[0, 0, 2], 0)
    }

    func testOrientationsMatchTheirDefinitions() {
        // 3 wide, 2 high: a b c / d e f
        let image = Image(width: 3, height: 2, channels: 1, pixels: [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(image.flippedHorizontally().pixels, [3, 2, 1, 6, 5, 4])
        XCTAssertEqual(image.flippedVertically().pixels, [4, 5, 6, 1, 2, 3])
        XCTAssertEqual(image.rotated180().pixels, [6, 5, 4, 3, 2, 1])
        // Clockwise: the left column (1, 4) becomes the top row read right to left (4, 1).
        let cw = image.rotated90Clockwise()
        XCTAssertEqual([cw.width, cw.height], [2, 3])
        XCTAssertEqual(cw.pixels, [4, 1, 5, 2, 6, 3])
        XCTAssertEqual(image.rotated90CounterClockwise().pixels, [3, 6, 2, 5, 1, 4])
        XCTAssertEqual(image.transposed().pixels, [1, 4, 2, 5, 3, 6])
        XCTAssertEqual(image.transversed().pixels, [6, 3, 5, 2, 4, 1])
        XCTAssertEqual(image.rotated(clockwiseDegrees: 270), image.rotated90CounterClockwise())
        XCTAssertEqual(image.rotated(clockwiseDegrees: -90), image.rotated90CounterClockwise())
        XCTAssertEqual(image.rotated90Clockwise().rotated90CounterClockwise(), image)
    }

    func testEXIFOrientationsUndoTheirStorageTransform() {
        // A camera storing orientation k wrote the displayed image transformed; applying k undoes it.
        let shown = Image(width: 3, height: 2, channels: 1, pixels: [1, 2, 3, 4, 5, 6])
        let stored: [Int: Image] = [
            1: shown, 2: shown.flippedHorizontally(), 3: shown.rotated180(), 4: shown.flippedVertically(),
            5: shown.transposed(), 6: shown.rotated90CounterClockwise(), 7: shown.transversed(), 8: shown.rotated90Clockwise(),
        ]
        for (orientation, image) in stored {
            XCTAssertEqual(image.applyingEXIFOrientation(orientation), shown, "orientation \(orientation)")
        }
    }

    func testColormapsMatchMatplotlibAtKnownValues() {
        // matplotlib.colormaps['turbo'](0.0), (1.0); inferno(0.0), (1.0), and turbo(128/255).
        let turbo0 = Colormap.turbo.color(at: 0), turbo1 = Colormap.turbo.color(at: 1)
        XCTAssertEqual([turbo0.r, turbo0.g, turbo0.b], [0.18995, 0.07176, 0.23217])
        XCTAssertEqual([turbo1.r, turbo1.g, turbo1.b], [0.4796, 0.01583, 0.01055])
        let mid = Colormap.turbo.color(at: 128.0 / 255)
        XCTAssertEqual(mid.r, 0.64362, accuracy: 1e-5)
        XCTAssertEqual(mid.g, 0.98999, accuracy: 1e-5)
        XCTAssertEqual(mid.b, 0.23356, accuracy: 1e-5)
        let inferno0 = Colormap.inferno.color(at: 0), inferno1 = Colormap.inferno.color(at: 1)
        XCTAssertEqual([inferno0.r, inferno0.g, inferno0.b], [0.001462, 0.000466, 0.013866])
        XCTAssertEqual([inferno1.r, inferno1.g, inferno1.b], [0.988362, 0.998364, 0.644924])
        let gray = Colormap.gray.color(at: 0.3)
        XCTAssertEqual([gray.r, gray.g, gray.b], [0.3, 0.3, 0.3])
    }

    func testColormapApplyNormalisesInvertsAndMarksInvalid() {
        let map = Image(width: 3, height: 1, channels: 1, pixels: [2, 4, .nan])
        let out = Colormap.gray.apply(to: map, range: 2...4)
        XCTAssertEqual(out.pixels, [0, 1, 0, 0, 1, 0, 0, 1, 0])
        let inverted = Colormap.gray.apply(to: map, range: 2...4, inverted: true, invalid: (1, 0, 0))
        XCTAssertEqual(inverted.pixels, [1, 0, 1, 1, 0, 0, 1, 0, 0])
    }

    func testDepthMapRangeAndProjectionCoding() throws {
        let depth = DepthMap(values: Image(width: 3, height: 1, channels: 1, pixels: [2, .nan, 5]), kind: .metric,
                             projection: .pinhole(PinholeIntrinsics(horizontalFOV: 90, width: 3, height: 1)))
        XCTAssertEqual(depth.validRange(), 2...5)
        XCTAssertEqual(depth.validCount, 2)
        if case .pinhole(let k) = depth.projection { XCTAssertEqual(k.fx, 1.5, accuracy: 1e-12) } else { XCTFail() }
        for projection in [Projection.equirectangular, .cubeFace("U"), .unknown, depth.projection] {
            let data = try JSONEncoder().encode(projection)
            XCTAssertEqual(try JSONDecoder().decode(Projection.self, from: data), projection)
        }
        XCTAssertThrowsError(try JSONDecoder().decode(Projection.self, from: Data(#"{"type":"fisheye"}"#.utf8)))
    }
}
