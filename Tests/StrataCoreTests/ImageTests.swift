import XCTest
@testable import StrataCore

final class ImageTests: XCTestCase {
    func testPlanarLayoutIsChannelRowColumn() {
        let image = Image(width: 3, height: 2, channels: 2) { c, y, x in Float(c * 100 + y * 10 + x) }
        XCTAssertEqual(image.pixels, [0, 1, 2, 10, 11, 12, 100, 101, 102, 110, 111, 112])
        XCTAssertEqual(image[1, 1, 2], 112)
        XCTAssertEqual(image.channel(1).pixels, [100, 101, 102, 110, 111, 112])
        XCTAssertEqual(image.channels([1, 0]).pixels, [100, 101, 102, 110, 111, 112, 0, 1, 2, 10, 11, 12])
    }

    func testCropAndStack() {
        let image = Image(width: 4, height: 3, channels: 1) { _, y, x in Float(y * 4 + x) }
        XCTAssertEqual(image.cropped(x: 1, y: 1, width: 2, height: 2).pixels, [5, 6, 9, 10])
        let stacked = Image.stacking([image, image])
        XCTAssertEqual(stacked.channels, 2)
        XCTAssertEqual(stacked.channel(1), image)
    }

    func testParallelBandsCoverEveryRowOnce() {
        for count in [1, 7, 16, 17, 1000, 4097] {
            let hits = Mutex([Int](repeating: 0, count: count))
            Parallel.forEachBand(count, minimumBand: 3) { band in
                hits.withLock { for i in band { $0[i] += 1 } }
            }
            XCTAssertEqual(hits.withLock { $0 }, [Int](repeating: 1, count: count), "count \(count)")
        }
    }

    func testParallelHonoursThreadLimit() {
        Parallel.maxThreads = 1
        defer { Parallel.maxThreads = 0 }
        XCTAssertEqual(Parallel.threadCount, 1)
        var bands = 0
        Parallel.forEachBand(1000, minimumBand: 1) { _ in bands += 1 }
        XCTAssertEqual(bands, 1)
    }

    func testInterleavedRoundTripsExactly() {
        let bytes: [UInt8] = (0..<(5 * 3 * 4)).map { UInt8(($0 * 37) % 256) }
        let image = bytes.withUnsafeBufferPointer { Image(interleaved8: $0, width: 5, height: 3, channels: 4) }
        XCTAssertEqual(image[2, 0, 0], Float(bytes[2]) / 255, accuracy: 1e-7)
        XCTAssertEqual(image.interleaved8(), bytes)
        let words: [UInt16] = (0..<(5 * 3 * 3)).map { UInt16(($0 * 4099) % 65536) }
        let deep = words.withUnsafeBufferPointer { Image(interleaved16: $0, width: 5, height: 3, channels: 3) }
        XCTAssertEqual(deep.interleaved16(), words)
    }

    func testQuantisationClampsAndMapsNaNToZero() {
        let image = Image(width: 4, height: 1, channels: 1, pixels: [-0.5, 1.5, .nan, 0.5])
        XCTAssertEqual(image.interleaved8(), [0, 255, 0, 128])
        XCTAssertEqual(image.interleaved16(), [0, 65535, 0, 32768])
    }
}
