import Foundation
import StrataCore
import StrataIO
import XCTest

/// `strata info --check` decodes everything and exits 65 at the first damage, naming it.
final class InfoCheckTests: CommandTestCase {
    func write(_ data: Data, _ name: String) throws { try data.write(to: folder.appendingPathComponent(name)) }
    func bytes(_ name: String) throws -> Data { try Data(contentsOf: folder.appendingPathComponent(name)) }

    func testATruncatedImageOrSequencePassesInfoButFailsTheCheck() throws {
        try PNG.write(indexFrame(5), to: folder.appendingPathComponent("whole.png"))
        let png = try bytes("whole.png")
        try write(png.prefix(png.count * 2 / 3), "cut.png")
        XCTAssertEqual(try strata("info", "cut.png").status, 0, "info reads the header only")
        var result = try strata("info", "--check", "whole.png")
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stderr, "strata: check: whole.png: decodes whole\n")
        result = try strata("info", "--check", "cut.png")
        XCTAssertEqual(result.status, 65, result.stderr)
        XCTAssertTrue(result.stderr.contains("cut.png: truncated"), result.stderr)

        for n in 1...4 { try write(png, String(format: "seq/%02d.png", n).replacingOccurrences(of: "seq/", with: "s")) }
        try write(png.prefix(100), "s03.png")
        result = try strata("info", "--check", "s%02d.png")
        XCTAssertEqual(result.status, 65, result.stderr)
        XCTAssertTrue(result.stderr.contains("s03.png"), result.stderr)
    }

    func testADamagedVideoFailsTheCheckNamingTheFrame() throws {
        _ = try makeVideo(frames: 20)
        var result = try strata("info", "--check", "clip.mp4")
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stderr.contains("clip.mp4: 20 frames decode without damage"), result.stderr)

        // Bytes flipped in the middle of the coded frames.
        var data = try bytes("clip.mp4")
        let mdat = data.range(of: Data("mdat".utf8))!.upperBound, moov = data.range(of: Data("moov".utf8))!.lowerBound
        let middle = (mdat + moov) / 2
        for i in (middle - (moov - mdat) / 6)..<(middle + (moov - mdat) / 6) { data[i] ^= 0x5A }
        try write(data, "flipped.mp4")
        result = try strata("info", "--check", "flipped.mp4")
        XCTAssertEqual(result.status, 65, result.stderr)
        XCTAssertTrue(result.stderr.contains("flipped.mp4 (frame "), result.stderr)
        XCTAssertEqual(result.stdout, "", "a damaged file prints only the error")

        // A transport stream cut in the middle of a packet (FFmpeg itself reads it silently).
        let ts = try Data(contentsOf: repository.appendingPathComponent("Tests/StrataIOTests/Fixtures/seek/remux.ts"))
        try write(ts, "whole.ts")
        try write(ts.prefix(188 * 150 + 77), "cut.ts")
        result = try strata("info", "--check", "whole.ts")
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stderr.contains("60 frames decode without damage"), result.stderr)
        result = try strata("info", "--check", "cut.ts")
        XCTAssertEqual(result.status, 65, result.stderr)
        XCTAssertTrue(result.stderr.contains("the file ends in the middle of a transport packet"), result.stderr)
        XCTAssertEqual(try strata("info", "cut.ts").status, 0)
    }
}
