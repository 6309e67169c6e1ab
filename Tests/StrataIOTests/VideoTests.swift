import CFFmpeg
import Foundation
import StrataCore
import XCTest
@testable import StrataIO

final class VideoTests: XCTestCase {
    /// Writes `count` index frames and returns the file.
    func writeIndexVideo(_ folder: URL, name: String = "clip.mp4", count: Int = 40, options: VideoWriter.Options = .init(),
                         width: Int = 64, height: Int = 48) throws -> URL {
        let url = folder.appendingPathComponent(name)
        let writer = try VideoWriter(url: url, width: width, height: height, options: options)
        for i in 0..<count { try writer.append(indexFrame(i, width: width, height: height)) }
        try writer.finish()
        return url
    }

    func testH264RoundTripKeepsCountSizeAndQuality() throws {
        let folder = try temporaryFolder(self)
        let url = folder.appendingPathComponent("smooth.mp4")
        let frames = (0..<12).map { smoothImage(width: 96, height: 64, seed: Float($0) * 0.3) }
        let writer = try VideoWriter(url: url, width: 96, height: 64, options: .init(quality: 16, frameRate: 24))
        if VideoWriter.hasH264Encoder { XCTAssertEqual(writer.encoderName, "libx264") }
        for frame in frames { try writer.append(frame) }
        try writer.finish()

        let reader = try VideoReader(url: url)
        XCTAssertEqual(reader.info.codec, VideoWriter.hasH264Encoder ? "h264" : "mpeg4")
        XCTAssertEqual([reader.info.width, reader.info.height], [96, 64])
        XCTAssertEqual(reader.info.frameCount, 12)
        XCTAssertEqual(reader.info.frameRate, 24, accuracy: 1e-9)
        XCTAssertEqual(reader.info.duration, 0.5, accuracy: 1e-6)
        var decoded = 0
        while let frame = try reader.nextFrame() {
            XCTAssertEqual(frame.index, decoded)
            XCTAssertEqual(frame.timestamp, Double(decoded) / 24, accuracy: 1e-6)
            XCTAssertGreaterThan(psnr(frame.image, frames[decoded]), 34, "frame \(decoded)")
            decoded += 1
        }
        XCTAssertEqual(decoded, 12)
        XCTAssertEqual(try reader.countFrames(), 12)
    }

    func testDecodedFramesMatchTheFFmpegCommandLineExactly() throws {
        // Frames decoded by `ffmpeg -i clip.mp4 %02d.png` (Tools/make_video_fixtures.sh),
        // for an untagged clip and one tagged BT.709: both colour matrices must match.
        for clip in ["untagged", "bt709"] {
            let reader = try VideoReader(url: fixture("video/\(clip).mp4"))
            var count = 0
            while let frame = try reader.nextFrame() {
                let reference = try PNG.read(fixture("video/\(clip)-\(String(format: "%02d", frame.index + 1)).png"))
                XCTAssertEqual(frame.image.interleaved8(), reference.interleaved8(), "\(clip) frame \(frame.index)")
                count += 1
            }
            XCTAssertEqual(count, 6, clip)
        }
    }

    func testFallbackEncoderWritesReadableMPEG4() throws {
        let folder = try temporaryFolder(self)
        let url = try writeIndexVideo(folder, name: "fallback.mp4", count: 10, options: .init(codec: .mpeg4, quality: 4))
        let reader = try VideoReader(url: url)
        XCTAssertEqual(reader.info.codec, "mpeg4")
        var indices: [Int] = []
        while let frame = try reader.nextFrame() {
            XCTAssertEqual(readIndex(frame.image), frame.index)
            indices.append(frame.index)
        }
        XCTAssertEqual(indices, Array(0..<10))
    }

    func testSeekingLandsOnTheRequestedFrame() throws {
        let folder = try temporaryFolder(self)
        // Keyframes every 8 frames, so seeks land between them and must decode forward.
        for (name, options) in [("k.mp4", VideoWriter.Options(keyframeInterval: 8)),
                                ("k.mkv", VideoWriter.Options(keyframeInterval: 8)),
                                ("m.avi", VideoWriter.Options(codec: .mpeg4, keyframeInterval: 8))] {
            let url = try writeIndexVideo(folder, name: name, count: 60, options: options)
            let reader = try VideoReader(url: url)
            for target in [37, 5, 59, 0, 8, 23, 22] {
                try reader.seek(toFrame: target)
                let frame = try XCTUnwrap(try reader.nextFrame(), "\(name) frame \(target)")
                XCTAssertEqual(frame.index, target, name)
                XCTAssertEqual(readIndex(frame.image), target, "\(name): seeking to \(target) decoded another frame")
                let next = try reader.nextFrame()
                if target == 59 {
                    XCTAssertNil(next, "\(name): nothing after the last frame")
                } else {
                    XCTAssertEqual(next?.index, target + 1, name)
                    XCTAssertEqual(next.map { readIndex($0.image) }, target + 1, name)
                }
            }
        }
    }

    /// Containers whose seeks are inexact or whose timestamps are odd (Tools/make_seek_fixtures.sh):
    /// every seek must give the frame that reading in order from the start gives.
    func testSeekingInEveryContainerAndTimestampLayoutGivesTheFramesReadInOrder() throws {
        let folder = Bundle.module.url(forResource: "seek", withExtension: nil, subdirectory: "Fixtures")!
        for name in ["remux.ts", "offset.mp4", "offset.mkv", "offset.ts", "wrap.ts", "raw.h264"] {
            let url = folder.appendingPathComponent(name)
            var inOrder: [Image] = []
            let sequential = try VideoReader(url: url)
            while let frame = try sequential.nextFrame() {
                XCTAssertEqual(frame.index, inOrder.count, name)
                inOrder.append(frame.image)
            }
            XCTAssertEqual(inOrder.count, 60, name)
            let reader = try VideoReader(url: url)
            XCTAssertEqual(try reader.countFrames(), 60, "\(name): frames counted")
            for target in [37, 5, 59, 0, 8, 23, 22, 50, 31, 1] {
                try reader.seek(toFrame: target)
                let frame = try XCTUnwrap(try reader.nextFrame(), "\(name) frame \(target)")
                XCTAssertEqual(frame.index, target, name)
                XCTAssertTrue(frame.image == inOrder[target], "\(name): seeking to \(target) decoded another frame")
                if target < 59 { XCTAssertTrue(try reader.nextFrame()?.image == inOrder[target + 1], "\(name): after \(target)") }
            }
            for target in [0, 3, 30, 12, 59] {
                XCTAssertTrue(try reader.frame(at: target)?.image == inOrder[target], "\(name): frame(at: \(target))")
            }
            XCTAssertNil(try reader.frame(at: 60), name)
            var seen: [Int] = []
            try VideoReader(url: url).forEachFrame(in: try FrameRange(parsing: "42-50x4")) { frame in
                XCTAssertTrue(frame.image == inOrder[frame.index], "\(name): range frame \(frame.index)")
                seen.append(frame.index)
            }
            XCTAssertEqual(seen, [42, 46, 50], name)
        }
    }

    /// 360° and stereo metadata written through libavformat (MP4 sv3d/st3d boxes, Matroska
    /// Projection and StereoMode) read back as the side data FFmpeg exposes.
    func testSphericalAndStereoMetadataRoundTripInMP4AndMatroska() throws {
        let folder = try temporaryFolder(self)
        let cases: [(SphericalMapping?, StereoLayout?)] = [
            (SphericalMapping(yaw: 30, pitch: -10, roll: 5), nil),
            (SphericalMapping(), StereoLayout(packing: "top-bottom")),
            (SphericalMapping(projection: "equirectangular-tile", bounds: [0, 0.25, 0, 0.25]), StereoLayout(packing: "side-by-side", inverted: true)),
            (nil, StereoLayout(packing: "top-bottom")),
        ]
        for ext in ["mp4", "mkv"] {
            for (k, (spherical, var stereo)) in cases.enumerated() {
                // MP4's st3d box has no right-eye-first packing; Matroska's StereoMode has.
                if ext == "mp4" { stereo?.inverted = false }
                var options = VideoWriter.Options()
                (options.spherical, options.stereo) = (spherical, stereo)
                let url = try writeIndexVideo(folder, name: "s\(k).\(ext)", count: 2, options: options)
                let info = try VideoReader(url: url).info
                XCTAssertEqual(info.spherical, spherical, "\(ext) case \(k)")
                XCTAssertEqual(info.stereo, stereo, "\(ext) case \(k)")
            }
        }
        XCTAssertNil(try VideoReader(url: try writeIndexVideo(folder, name: "plain.mp4", count: 1)).info.spherical)
    }

    func testFrameAtReadsForwardOrSeeksAndAlwaysLandsOnTheFrame() throws {
        let folder = try temporaryFolder(self)
        let url = try writeIndexVideo(folder, name: "k.mp4", count: 90, options: VideoWriter.Options(frameRate: 10, keyframeInterval: 8))
        let reader = try VideoReader(url: url)
        // Close ahead (read forward, skipping conversion), far ahead (seek), behind (seek), the end.
        for target in [0, 3, 4, 9, 21, 70, 12, 13, 89] {
            let frame = try XCTUnwrap(try reader.frame(at: target), "frame \(target)")
            XCTAssertEqual(frame.index, target)
            XCTAssertEqual(readIndex(frame.image), target, "frame(at: \(target)) decoded another frame")
        }
        XCTAssertNil(try reader.frame(at: 90))
        XCTAssertEqual(try reader.frame(at: 1).map { readIndex($0.image) }, 1)
    }

    func testRangeAndStepSelectFrames() throws {
        let folder = try temporaryFolder(self)
        let url = try writeIndexVideo(folder, count: 30, options: .init(keyframeInterval: 10))
        let reader = try VideoReader(url: url)
        var seen: [Int] = []
        try reader.forEachFrame(in: try FrameRange(parsing: "4-20x4")) { frame in
            XCTAssertEqual(readIndex(frame.image), frame.index)
            seen.append(frame.index)
        }
        XCTAssertEqual(seen, [4, 8, 12, 16, 20])
        let tail = try VideoReader(url: url)
        var last: [Int] = []
        try tail.forEachFrame(in: try FrameRange(parsing: "25-")) { last.append(readIndex($0.image)) }
        XCTAssertEqual(last, [25, 26, 27, 28, 29])
    }

    func testRotationMetadataIsAppliedOnRead() throws {
        let folder = try temporaryFolder(self)
        let url = folder.appendingPathComponent("portrait.mp4")
        let coded = smoothImage(width: 64, height: 32)
        let writer = try VideoWriter(url: url, width: 64, height: 32, options: .init(quality: 12, rotation: 90))
        for _ in 0..<3 { try writer.append(coded) }
        try writer.finish()

        let reader = try VideoReader(url: url)
        XCTAssertEqual(reader.info.rotation, 90)
        XCTAssertEqual([reader.info.width, reader.info.height, reader.info.codedWidth, reader.info.codedHeight], [32, 64, 64, 32])
        let frame = try XCTUnwrap(try reader.nextFrame())
        XCTAssertEqual([frame.image.width, frame.image.height], [32, 64])
        XCTAssertGreaterThan(psnr(frame.image, coded.rotated90Clockwise()), 32)
        let raw = try VideoReader(url: url, applyRotation: false)
        XCTAssertEqual(try XCTUnwrap(try raw.nextFrame()).image.width, 64)
    }

    func testMemoryStaysFlatOverALongDecode() throws {
        let folder = try temporaryFolder(self)
        let url = try writeIndexVideo(folder, count: 600, options: .init(preset: "ultrafast"), width: 64, height: 48)
        let reader = try VideoReader(url: url)
        var count = 0
        var residentAt40 = 0
        while let frame = try reader.nextFrame() {
            XCTAssertEqual(readIndex(frame.image), frame.index % 256)
            count += 1
            if count == 40 { residentAt40 = residentKilobytes() }
        }
        XCTAssertEqual(count, 600)
        // 560 more frames of 64×48 RGB floats would add ~20 MB if frames were kept.
        XCTAssertLessThan(residentKilobytes() - residentAt40, 8_000)
    }

    func testContainerWithoutVideoAndOtherBadInputs() throws {
        let folder = try temporaryFolder(self)
        let wav = folder.appendingPathComponent("sound.wav")
        try wavBytes().write(to: wav)
        assertMediaError(.noVideoStream) { _ = try VideoReader(url: wav) }
        assertMediaError(.notFound) { _ = try VideoReader(url: folder.appendingPathComponent("missing.mp4")) }
        assertMediaError(.isDirectory) { _ = try VideoReader(url: folder) }
        let text = folder.appendingPathComponent("notes.mp4")
        try Data(String(repeating: "not a video\n", count: 40).utf8).write(to: text)
        XCTAssertThrowsError(try { let r = try VideoReader(url: text); while try r.nextFrame() != nil {} }()) { error in
            XCTAssertEqual((error as? MediaError)?.exitCode, 65, "\(error)")
        }
        let video = try writeIndexVideo(folder, count: 8)
        assertMediaError(.tooLarge(width: 64, height: 48, limit: 1000)) { _ = try VideoReader(url: video, maxPixels: 1000) }
        // Cut in half, the MP4 loses its index (written last): FFmpeg cannot read it as video.
        let half = folder.appendingPathComponent("half.mp4")
        let bytes = try Data(contentsOf: video)
        try bytes.prefix(bytes.count / 2).write(to: half)
        XCTAssertThrowsError(try VideoReader(url: half)) { error in
            XCTAssertEqual((error as? MediaError)?.exitCode, 65, "\(error)")
            XCTAssertTrue("\(error)".hasPrefix(half.path), "\(error)")
        }
        assertMediaError(.unsupported("65x48: H.264 and MPEG-4 in 4:2:0 need even, positive width and height (crop or pad the frames)")) {
            _ = try VideoWriter(url: folder.appendingPathComponent("odd.mp4"), width: 65, height: 48)
        }
        assertMediaError(.unsupported("unknown video extension \".xyz\" (use .mp4, .mov, .mkv, .webm or .avi)")) {
            _ = try VideoWriter(url: folder.appendingPathComponent("a.xyz"), width: 64, height: 48)
        }
        let writer = try VideoWriter(url: folder.appendingPathComponent("size.mp4"), width: 64, height: 48)
        XCTAssertThrowsError(try writer.append(indexFrame(0, width: 32, height: 48))) { error in
            XCTAssertEqual((error as? MediaError)?.frame, 0)
        }
        assertMediaError(.unsupported("frame has 100 bytes, the video 64x48x3")) { try writer.append(rgb24: [UInt8](repeating: 0, count: 100)) }
    }

    /// Frames given as 8-bit RGB bytes encode to the very file their images do (the image
    /// path converts and then takes the same one), with the padded rows kept between frames.
    func testBytesAndImagesEncodeToTheSameFile() throws {
        let folder = try temporaryFolder(self)
        let frames = (0..<5).map { smoothImage(width: 64, height: 48, seed: Float($0) * 0.7) }
        let (images, bytes) = (folder.appendingPathComponent("images.mp4"), folder.appendingPathComponent("bytes.mp4"))
        let a = try VideoWriter(url: images, width: 64, height: 48, options: .init(codec: .mpeg4))
        for frame in frames { try a.append(frame) }
        try a.finish()
        let b = try VideoWriter(url: bytes, width: 64, height: 48, options: .init(codec: .mpeg4))
        for frame in frames { try b.append(rgb24: frame.interleaved8()) }
        try b.finish()
        XCTAssertEqual(try Data(contentsOf: images), try Data(contentsOf: bytes))
        // Written into the writer's own rows: a frame whole where they hold none, else only
        // the pixels that differ from the frame they hold (two back).
        let rows = folder.appendingPathComponent("rows.mp4")
        let c = try VideoWriter(url: rows, width: 64, height: 48, options: .init(codec: .mpeg4))
        for (t, frame) in frames.enumerated() {
            let bytes = frame.interleaved8()
            try c.append(rgb24Rows: { out, stride, held in
                XCTAssertEqual(held, t >= 2 ? t - 2 : nil)
                let before = held.map { frames[$0].interleaved8() }
                for y in 0..<48 {
                    for i in 0..<(64 * 3) where before == nil || before![y * 64 * 3 + i] != bytes[y * 64 * 3 + i] {
                        out[y * stride + i] = bytes[y * 64 * 3 + i]
                    }
                }
            })
        }
        try c.finish()
        XCTAssertEqual(try Data(contentsOf: images), try Data(contentsOf: rows))
    }

    func testUnfinishedVideoLeavesNoFileBehind() throws {
        let folder = try temporaryFolder(self)
        let url = folder.appendingPathComponent("abandoned.mp4")
        do {
            let writer = try VideoWriter(url: url, width: 64, height: 48)
            for i in 0..<5 { try writer.append(indexFrame(i)) }
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path).count, 1, "only the hidden temporary file")
            XCTAssertFalse(FileManager.default.fileExists(atPath: url.path))
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), [])
        assertMediaError(.notWritable("the folder /nonexistent-strata does not exist")) {
            _ = try VideoWriter(url: URL(fileURLWithPath: "/nonexistent-strata/a.mp4"), width: 64, height: 48)
        }
    }
}

/// Resident memory of this process in kilobytes, from /proc.
func residentKilobytes() -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }) else { return 0 }
    return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
}

final class VideoCodecTests: XCTestCase {
    /// Every codec this FFmpeg can encode is written, read back in order and seeked in.
    /// Threads of this process on a real-time policy (SCHED_FIFO 1, SCHED_RR 2).
    func realTimeThreads() -> [Int32] {
        #if os(Linux)
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
        return tasks.compactMap(Int32.init).filter { [1, 2].contains(sched_getscheduler($0)) }
        #else
        return []
        #endif
    }

    func testEveryAvailableCodecRoundTrips() throws {
        let folder = try temporaryFolder(self)
        let cases: [(VideoWriter.Codec, String)] = [(.h264, "mp4"), (.mpeg4, "avi"), (.hevc, "mkv"), (.vp9, "webm"),
                                                    (.av1, "mkv"), (.mjpeg, "mov")]
        var tried: [String] = []
        for (codec, container) in cases where VideoWriter.isAvailable(codec) {
            let url = folder.appendingPathComponent("\(codec.rawValue).\(container)")
            // 64×64: SVT-AV1 refuses frames under 64 pixels high.
            let writer = try VideoWriter(url: url, width: 64, height: 64,
                                         options: .init(codec: codec, quality: 10, frameRate: 12, keyframeInterval: 6))
            // SVT-AV1 makes its caller and workers SCHED_FIFO when run as root; the writer undoes it.
            XCTAssertEqual(realTimeThreads(), [], "\(codec.rawValue): threads left real-time after opening the encoder")
            for i in 0..<16 { try writer.append(indexFrame(i, width: 64, height: 64)) }
            try writer.finish()
            let reader = try VideoReader(url: url)
            XCTAssertEqual([reader.info.width, reader.info.height], [64, 64], codec.rawValue)
            var indices: [Int] = []
            while let frame = try reader.nextFrame() {
                XCTAssertEqual(readIndex(frame.image), frame.index, codec.rawValue)
                indices.append(frame.index)
            }
            XCTAssertEqual(indices, Array(0..<16), codec.rawValue)
            try reader.seek(toFrame: 9)
            XCTAssertEqual(try reader.nextFrame().map { readIndex($0.image) }, 9, codec.rawValue)
            tried.append(codec.rawValue)
        }
        XCTAssertTrue(tried.contains("mpeg4") && tried.contains("mjpeg"), "FFmpeg's built-in encoders are always there")
        if VideoWriter.hasH264Encoder {
            assertMediaError(.unsupported("a .webm file cannot hold h264 video")) {
                _ = try VideoWriter(url: folder.appendingPathComponent("x.webm"), width: 64, height: 48, options: .init(codec: .h264))
            }
        }
    }
}
