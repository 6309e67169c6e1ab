import StrataCore
import XCTest
@testable import StrataLayers

/// The exemplar fill's clusters: holes more than a patch radius apart are filled
/// independently (concurrently), and the result is the same on any number of threads.
final class ExemplarFillTests: XCTestCase {
    func testHolesFartherApartThanAPatchRadiusAreSeparateClusters() {
        let (w, h) = (20, 10)
        var hole = [Bool](repeating: false, count: w * h)
        for (x, y) in [(2, 2), (5, 2), (9, 2), (19, 7), (0, 7)] { hole[y * w + x] = true }
        let plain = ExemplarFill.clusters(hole, width: w, height: h, reach: 3, wrap: false).map { Set($0) }
        // (2, 2) and (5, 2) are 3 apart: one cluster; (9, 2) is 4 from (5, 2): its own.
        XCTAssertEqual(plain, [[2 * w + 2, 2 * w + 5], [2 * w + 9], [7 * w + 0], [7 * w + 19]])
        // Rows wrap on an equirect: (19, 7) and (0, 7) are neighbours.
        let wrapped = ExemplarFill.clusters(hole, width: w, height: h, reach: 3, wrap: true).map { Set($0) }
        XCTAssertEqual(wrapped, [[2 * w + 2, 2 * w + 5], [2 * w + 9], [7 * w + 0, 7 * w + 19]])
    }

    func testTheFillIsTheSameOnOneThreadAndOnAll() throws {
        let (w, h) = (96, 64)
        let color = Image(width: w, height: h, channels: 3) { c, y, x in Float((x / 4 + y / 6 + c) % 3) / 2 }
        var hole = [Bool](repeating: false, count: w * h)
        // Six square holes on a 3 × 2 grid, far enough apart to be six clusters.
        for cy in 0..<2 { for cx in 0..<3 { for y in 0..<8 { for x in 0..<8 { hole[(14 + 24 * cy + y) * w + 12 + 30 * cx + x] = true } } } }
        XCTAssertEqual(ExemplarFill.clusters(hole, width: w, height: h, reach: 3, wrap: true).count, 6)
        let source = hole.map { !$0 }
        let disparity = [Float](repeating: 0.2, count: w * h)
        let saved = Parallel.maxThreads
        defer { Parallel.maxThreads = saved }
        Parallel.maxThreads = 1
        let one = try XCTUnwrap(ExemplarFill(seed: 7).fill(color, hole: hole, source: source, disparity: disparity, wrap: true))
        Parallel.maxThreads = 0
        let all = try XCTUnwrap(ExemplarFill(seed: 7).fill(color, hole: hole, source: source, disparity: disparity, wrap: true))
        XCTAssertEqual(one, all)
        // And it is a fill: the stripes continue into the holes.
        var error: Float = 0
        for i in 0..<(w * h) where hole[i] { for c in 0..<3 { error += abs(all.pixels[c * w * h + i] - color.pixels[c * w * h + i]) } }
        XCTAssertLessThan(error / Float(3 * 6 * 64), 0.05)
    }
}
