import Foundation
import StrataCore
import XCTest
@testable import StrataIO

final class FrameSequenceTests: XCTestCase {
    func testPatternsFormatLikePrintf() throws {
        XCTAssertEqual(try FramePattern("frame_%05d.png").path(42), "frame_00042.png")
        XCTAssertEqual(try FramePattern("%d.jpg").path(7), "7.jpg")
        XCTAssertEqual(try FramePattern("a%3d").path(5), "a  5")
        XCTAssertEqual(try FramePattern("100%%_%04d.png").path(12), "100%_0012.png")
        XCTAssertEqual(try FramePattern("x_%02d.png").path(123), "x_123.png")
        for bad in ["frame.png", "%05d_%05d.png", "%s.png", "%05x.png"] {
            XCTAssertThrowsError(try FramePattern(bad), bad) { XCTAssertEqual(($0 as? MediaError)?.exitCode, 65) }
        }
        XCTAssertTrue(FramePattern.isPattern("out/%05d.png"))
        XCTAssertFalse(FramePattern.isPattern("out/100%.png"))
    }

    func testWriteAndReadBackWithExplicitStartNumbers() throws {
        let folder = try temporaryFolder(self)
        let pattern = try FramePattern(folder.appendingPathComponent("seq/f_%04d.png").path)
        let writer = try FrameSequenceWriter(pattern: pattern, startNumber: 7)
        let frames = (0..<5).map { indexFrame($0 * 11, width: 16, height: 8) }
        for (i, frame) in frames.enumerated() { try writer.write(frame, index: i) }
        XCTAssertTrue(FileManager.default.fileExists(atPath: pattern.path(7)))
        XCTAssertTrue(FileManager.default.fileExists(atPath: pattern.path(11)))
        XCTAssertFalse(FileManager.default.fileExists(atPath: pattern.path(12)))

        let reader = try FrameSequenceReader(pattern: pattern, startNumber: 7)
        XCTAssertEqual(reader.count, 5)
        for i in 0..<5 { XCTAssertEqual(try reader.read(i).interleaved8(), frames[i].interleaved8()) }
        assertMediaError(.frameOutOfRange("frame 5 is outside the sequence of 5")) { _ = try reader.read(5) }
        // Without a start number the first of 0…4 is found, as ffmpeg does; 7 is too far.
        assertMediaError(.notFound) { _ = try FrameSequenceReader(pattern: pattern) }
        assertMediaError(.notFound) { _ = try FrameSequenceReader(pattern: pattern, startNumber: 3) }
    }

    func testAutomaticStartAndConcurrentWriterKeepNumbering() throws {
        let folder = try temporaryFolder(self)
        let pattern = try FramePattern(folder.appendingPathComponent("%03d.png").path)
        let writer = ConcurrentFrameWriter(try FrameSequenceWriter(pattern: pattern, startNumber: 1), threads: 3)
        for i in 0..<12 { try writer.write(indexFrame(i, width: 16, height: 8), index: i) }
        try writer.finish()
        let reader = try FrameSequenceReader(pattern: pattern)
        XCTAssertEqual(reader.startNumber, 1)
        XCTAssertEqual(reader.count, 12)
        for i in 0..<12 { XCTAssertEqual(readIndex(try reader.read(i)), i) }
    }

    func testConcurrentWriterReportsTheFirstFailure() throws {
        let folder = try temporaryFolder(self)
        let pattern = try FramePattern(folder.appendingPathComponent("%03d.png").path)
        let writer = ConcurrentFrameWriter(try FrameSequenceWriter(pattern: pattern), threads: 2)
        try writer.write(indexFrame(1, width: 16, height: 8), index: 0)
        try writer.write(Image(width: 2, height: 2, channels: 5), index: 1)
        XCTAssertThrowsError(try writer.finish()) { error in
            XCTAssertEqual((error as? MediaError)?.frame, 1)
        }
        XCTAssertTrue(FileManager.default.fileExists(atPath: pattern.path(1)), "the good frame is kept")
    }

    func testFrameRanges() throws {
        let r = try FrameRange(parsing: "10-200x2")
        XCTAssertEqual(r, FrameRange(first: 10, last: 200, step: 2))
        XCTAssertTrue(r.contains(10) && r.contains(200) && r.contains(12))
        XCTAssertFalse(r.contains(11) || r.contains(202) || r.contains(8))
        XCTAssertEqual(Array(r.indices(count: 16)), [10, 12, 14])
        XCTAssertEqual(try FrameRange(parsing: "5-"), FrameRange(first: 5))
        XCTAssertEqual(try FrameRange(parsing: "-3"), FrameRange(first: 0, last: 3))
        XCTAssertEqual(try FrameRange(parsing: "42"), FrameRange(first: 42, last: 42))
        XCTAssertEqual(try FrameRange(parsing: "x3"), FrameRange(first: 0, step: 3))
        XCTAssertEqual(Array(try FrameRange(parsing: "1-x4").indices(count: 12)), [1, 5, 9])
        XCTAssertEqual(FrameRange(first: 3, last: 9, step: 3).description, "3-9x3")
        for bad in ["a-b", "10-5", "3x0", "-", "1-2-3", "x", "-4-"] {
            XCTAssertThrowsError(try FrameRange(parsing: bad), bad)
        }
    }
}
