import Foundation
import StrataCore
import XCTest
@testable import StrataPipeline

/// Records carry values between a shard's map step and `--finalize`: they must read back bit
/// for bit, in the narrowest exact form.
final class FrameRecordTests: XCTestCase {
    func testEveryValueReadsBackBitForBitInItsNarrowestExactForm() throws {
        let bytes = Image(width: 5, height: 3, channels: 3) { c, y, x in Float((c * 97 + y * 31 + x * 7) % 256) * (1 / 255 as Float) }
        let words = Image(width: 4, height: 2, channels: 1) { _, y, x in Float(y * 30000 + x * 1234) * (1 / 65535 as Float) }
        var floats = Image(width: 3, height: 3, channels: 1) { _, y, x in Float(y) * 0.1 - Float(x) / 3 }
        floats.pixels[4] = .nan
        floats.pixels[5] = -0.0
        let depth = DepthMap(values: floats, kind: .inverseRelative, quantity: .rayDistance,
                             projection: .pinhole(PinholeIntrinsics(horizontalFOV: 60, width: 3, height: 3)))
        let frame = FrameInfo(index: 41, position: 7, number: 8)
        let values: [(key: String, value: any Sendable)] = [("a.image", bytes), ("b.words", words), ("c.depth", depth),
                                                            ("d.n", 42), ("e.x", 2.5), ("f.s", "label")]
        let data = try FrameRecord.encode(values, frame: frame)
        let header = String(decoding: data.prefix(600), as: UTF8.self)
        XCTAssertTrue(header.contains(#""key":"a.image","sample":"u8""#), header)
        XCTAssertTrue(header.contains(#""key":"b.words","sample":"u16""#), header)
        XCTAssertTrue(header.contains(#""key":"c.depth","kind":"inverse-relative""#), header)
        // Header, then 45 bytes, 8 words, 9 floats.
        XCTAssertEqual(data.count - (data.firstIndex(of: 0x0A, after: 22)! + 1), 45 + 16 + 36)

        let back = try FrameRecord.decode(data, path: "r")
        XCTAssertEqual(back.frame, frame)
        XCTAssertEqual(back.values.map(\.key), values.map(\.key))
        XCTAssertEqual((back.values[0].value as! Image).pixels.map(\.bitPattern), bytes.pixels.map(\.bitPattern))
        XCTAssertEqual((back.values[1].value as! Image).pixels.map(\.bitPattern), words.pixels.map(\.bitPattern))
        let readDepth = back.values[2].value as! DepthMap
        XCTAssertEqual(readDepth.values.pixels.map(\.bitPattern), floats.pixels.map(\.bitPattern))
        XCTAssertEqual([readDepth.kind.rawValue, readDepth.quantity.rawValue], ["inverse-relative", "ray-distance"])
        XCTAssertEqual(readDepth.projection, depth.projection)
        XCTAssertEqual(back.values[3].value as? Int, 42)
        XCTAssertEqual(back.values[4].value as? Double, 2.5)
        XCTAssertEqual(back.values[5].value as? String, "label")
    }

    func testDamagedRecordsAreRefusedNamingTheFile() throws {
        let data = try FrameRecord.encode([("a", Image(width: 4, height: 4, channels: 1, fill: 0.3))], frame: FrameInfo(index: 0, position: 0, number: 1))
        for damaged in [data.dropLast(1), data + Data([0]), Data("STRATA-FRAME-RECORD 1\n{".utf8), Data("PNG".utf8)] {
            XCTAssertThrowsError(try FrameRecord.decode(Data(damaged), path: "out/x.record")) { error in
                XCTAssertTrue("\(error)".hasPrefix("out/x.record: damaged frame record"), "\(error)")
                XCTAssertEqual((error as? CodedError)?.exitCode, 65)
            }
        }
    }
}

private extension Data {
    func firstIndex(of byte: UInt8, after offset: Int) -> Int? { self[(startIndex + offset)...].firstIndex(of: byte) }
}
