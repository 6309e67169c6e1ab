import XCTest
@testable import StrataCore

final class ResizeTests: XCTestCase {
    func testConstantStaysConstantUnderEveryFilter() {
        let image = Image(width: 9, height: 5, channels: 2, fill: 0.25)
        for filter in ResizeFilter.allCases {
            for (w, h) in [(4, 3), (20, 11), (9, 2)] {
                let out = image.resized(width: w, height: h, filter: filter)
                XCTAssertEqual(out.width, w)
                XCTAssertEqual(out.height, h)
                for v in out.pixels { XCTAssertEqual(v, 0.25, accuracy: 1e-6, "\(filter)") }
            }
        }
    }

    func testAreaHalvingAveragesTwoByTwoBlocks() {
        let image = Image(width: 4, height: 2, channels: 1, pixels: [1, 3, 5, 7, 9, 11, 13, 15])
        XCTAssertEqual(image.resized(width: 2, height: 1, filter: .area).pixels, [6, 10])
    }

    func testNearestHalvingPicksPixelsAndDoublingRepeats() {
        let image = Image(width: 4, height: 1, channels: 1, pixels: [1, 2, 3, 4])
        // Half-pixel centres: output 0 covers source centre 1.0 → floor → index 1.
        XCTAssertEqual(image.resized(width: 2, height: 1, filter: .nearest).pixels, [2, 4])
        XCTAssertEqual(image.resized(width: 8, height: 1, filter: .nearest).pixels, [1, 1, 2, 2, 3, 3, 4, 4])
    }

    func testBilinearDoublingMatchesOpenCV() {
        // cv2.resize(np.float32([[0, 4, 8]]), (6, 1), interpolation=cv2.INTER_LINEAR)
        let image = Image(width: 3, height: 1, channels: 1, pixels: [0, 4, 8])
        let out = image.resized(width: 6, height: 1, filter: .bilinear)
        XCTAssertEqual(out.pixels, [0, 1, 3, 5, 7, 8])
    }

    func testMatchesOpenCVResize() throws {
        struct Case: Decodable { var filter: String; var width: Int; var height: Int; var pixels: [Float] }
        struct Fixture: Decodable { var width: Int; var height: Int; var source: [Float]; var resize: [Case] }
        let url = Bundle.module.url(forResource: "opencv-resize", withExtension: "json", subdirectory: "Fixtures")!
        let fixture = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
        let source = Image(width: fixture.width, height: fixture.height, channels: 1, pixels: fixture.source)
        let filters: [String: ResizeFilter] = ["nearest-exact": .nearest, "bilinear": .bilinear, "bicubic": .bicubic, "area": .area]
        XCTAssertEqual(fixture.resize.count, 16)
        for c in fixture.resize {
            let out = source.resized(width: c.width, height: c.height, filter: filters[c.filter]!)
            for (i, expected) in c.pixels.enumerated() {
                XCTAssertEqual(out.pixels[i], expected, accuracy: 2e-5, "\(c.filter) \(c.width)x\(c.height) at \(i)")
            }
        }
    }
}
