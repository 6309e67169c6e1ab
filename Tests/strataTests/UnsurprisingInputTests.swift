import Foundation
import StrataCore
import StrataIO
import XCTest

/// What a new user tries first: 16-bit images kept at 16 bits, one frame into one file, a
/// still or a sequence where a pipeline takes a video.
final class UnsurprisingInputTests: CommandTestCase {
    /// Random 16-bit samples: most are not multiples of 257, so 8 bits would lose them.
    func random16(channels: Int, seed: UInt64) -> Image {
        var state = seed
        return Image(width: 37, height: 23, channels: channels) { _, _, _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(UInt16(truncatingIfNeeded: state >> 33)) / 65535
        }
    }

    func samples16(_ path: String) throws -> [UInt16] {
        try ImageFile.read(folder.appendingPathComponent(path)).pixels.map { UInt16(($0 * 65535).rounded()) }
    }

    func testSixteenBitImagesRoundTripBitExactlyWithNoFlags() throws {
        for channels in [1, 3] {
            let image = random16(channels: channels, seed: UInt64(channels))
            try PNG.write(image, to: folder.appendingPathComponent("in\(channels).png"), bitDepth: 16)
            let result = try strata("convert", "in\(channels).png", "out\(channels).png")
            XCTAssertEqual(result.status, 0, result.stderr)
            XCTAssertEqual(try ImageFile.info(folder.appendingPathComponent("out\(channels).png")).bitDepth, 16)
            XCTAssertEqual(try samples16("out\(channels).png"), image.pixels.map { UInt16(($0 * 65535).rounded()) }, "\(channels) channels")
        }
        // Into a sequence, from a float image, and --bit-depth still overrides.
        var result = try strata("convert", "in3.png", "seq/%03d.png")
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(try ImageFile.info(folder.appendingPathComponent("seq/001.png")).bitDepth, 16)
        try NPY.write(random16(channels: 1, seed: 9), to: folder.appendingPathComponent("f.npy"))
        result = try strata("convert", "f.npy", "f.png")
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(try ImageFile.info(folder.appendingPathComponent("f.png")).bitDepth, 16)
        result = try strata("convert", "in3.png", "eight.png", "--bit-depth", "8")
        XCTAssertEqual(try ImageFile.info(folder.appendingPathComponent("eight.png")).bitDepth, 8)
        // 10-bit video gives 16-bit PNG (Tools/make_seek_fixtures.sh made the clip).
        let deep = repository.appendingPathComponent("Tests/StrataIOTests/Fixtures/seek/deep10.mkv").path
        result = try strata("convert", deep, "d/%02d.png")
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(try ImageFile.info(folder.appendingPathComponent("d/01.png")).bitDepth, 16)
        let samples = try ImageFile.read(folder.appendingPathComponent("d/02.png")).pixels.map { UInt16(($0 * 65535).rounded()) }
        XCTAssertTrue(samples.contains { $0 % 257 != 0 }, "the 16-bit frame holds more than 8 bits")
        XCTAssertEqual(try VideoReader(url: URL(fileURLWithPath: deep)).info.bitDepth, 10)
        // An 8-bit source stays 8-bit.
        _ = try makeVideo(frames: 3)
        result = try strata("convert", "clip.mp4", "v/%02d.png")
        XCTAssertEqual(try ImageFile.info(folder.appendingPathComponent("v/01.png")).bitDepth, 8)
    }

    func testOneFrameIntoOneFile() throws {
        _ = try makeVideo("one.mp4", frames: 1)
        var result = try strata("convert", "one.mp4", "frame.png")
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(readIndex(try ImageFile.read(folder.appendingPathComponent("frame.png"))), 0)

        _ = try makeVideo(frames: 6)
        result = try strata("convert", "clip.mp4", "f4.png", "--frames", "4")
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(readIndex(try ImageFile.read(folder.appendingPathComponent("f4.png"))), 4)
        // An open range that holds one frame is one frame.
        result = try strata("convert", "clip.mp4", "last.png", "--frames", "5-")
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(readIndex(try ImageFile.read(folder.appendingPathComponent("last.png"))), 5)
        // Several frames into one name: refused with 64, nothing written.
        for frames in [[], ["--frames", "2-"], ["--frames", "1-3"]] {
            result = try strata(["convert", "clip.mp4", "many.png"] + frames)
            XCTAssertEqual(result.status, 64, result.stderr)
            XCTAssertTrue(result.stderr.contains("many.png holds one image, and clip.mp4 has several frames"), result.stderr)
            XCTAssertFalse(FileManager.default.fileExists(atPath: folder.appendingPathComponent("many.png").path))
        }
    }

    func testAStillOrASequenceWhereAPipelineTakesAVideo() throws {
        // A JPEG panorama (FFmpeg reads it as a stream of unknown length) is one frame.
        let pano = try ImageFile.read(repository.appendingPathComponent("samples/street/color.png"))
        try ImageFile.write(pano, to: folder.appendingPathComponent("pano.jpg"))
        var result = try strata("run", pipeline("pano-cube.json"), "--input", "video=pano.jpg", "--output-dir", "cube", "--progress", "none")
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stderr.contains("strata: frames: pano.jpg: still image (one frame), jpeg 640x480, 8-bit"), result.stderr)
        XCTAssertEqual(files("cube/cube").count, 6)

        // A 16-bit PNG still: image.write keeps 16 bits unless the pipeline says otherwise.
        let deep = random16(channels: 3, seed: 4)
        try PNG.write(deep, to: folder.appendingPathComponent("deep.png"), bitDepth: 16)
        result = try strata("run", pipeline("video-to-png.json"), "--input", "video=deep.png", "--output-dir", "deep", "--progress", "none")
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(try samples16("deep/frames/00001.png"), deep.pixels.map { UInt16(($0 * 65535).rounded()) })
        result = try strata("run", pipeline("video-to-png.json"), "--input", "video=deep.png", "--output-dir", "shallow",
                            "--set", "save.bitDepth=8", "--progress", "none")
        XCTAssertEqual(try ImageFile.info(folder.appendingPathComponent("shallow/frames/00001.png")).bitDepth, 8)

        // A numbered sequence, frame for frame what the video gives.
        _ = try makeVideo(frames: 5)
        result = try strata("convert", "clip.mp4", "seq/%04d.png")
        result = try strata("run", pipeline("video-to-png.json"), "--input", "video=seq/%04d.png", "--output-dir", "fromseq", "--progress", "none")
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stderr.contains("image sequence, 5 files from 1"), result.stderr)
        XCTAssertEqual(files("fromseq/frames").count, 5)
        for n in 1...5 {
            XCTAssertEqual(try Data(contentsOf: folder.appendingPathComponent("fromseq/frames/\(String(format: "%05d", n)).png")),
                           try Data(contentsOf: folder.appendingPathComponent("seq/\(String(format: "%04d", n)).png")))
        }
        result = try strata("run", pipeline("video-to-png.json"), "--input", "video=none/%04d.png", "--output-dir", "x", "--progress", "none")
        XCTAssertEqual(result.status, 66, result.stderr)
    }
}
