import Foundation
import StrataCore
import XCTest
@testable import StrataIO

/// Mutates valid files (flipped bytes, truncation at many offsets, zeroed runs) and asserts
/// that every case ends in a decoded image or a typed MediaError: never a crash, a hang, or
/// libjpeg's exit(). A fixed seed makes every run try the same cases.
final class FuzzTests: XCTestCase {
    struct SplitMix {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(1, n))) }
    }

    /// The mutated variants of `bytes`: `count` cases mixing the three kinds of damage.
    func mutations(of bytes: [UInt8], count: Int, seed: UInt64) -> [[UInt8]] {
        var rng = SplitMix(state: seed)
        var cases: [[UInt8]] = []
        // Truncation at evenly spread offsets, including inside every header.
        let truncations = count / 3
        for k in 0..<truncations { cases.append(Array(bytes.prefix(k * bytes.count / truncations))) }
        while cases.count < count {
            var copy = bytes
            if rng.below(2) == 0 {
                for _ in 0..<(1 + rng.below(8)) { copy[rng.below(copy.count)] ^= UInt8(1 + rng.below(255)) }
            } else {
                let start = rng.below(copy.count), length = 1 + rng.below(64)
                for i in start..<min(copy.count, start + length) { copy[i] = 0 }
            }
            cases.append(copy)
        }
        return cases
    }

    struct Tally: CustomStringConvertible {
        var decoded = 0, errors: [String: Int] = [:]
        var description: String { "decoded \(decoded), errors \(errors.sorted { $0.key < $1.key })" }
        mutating func record(_ body: () throws -> Void) {
            do {
                try body()
                decoded += 1
            } catch let error as MediaError {
                errors[String(describing: error.reason).prefix(while: { $0 != "(" }).description, default: 0] += 1
                XCTAssertFalse(error.description.isEmpty)
            } catch {
                XCTFail("untyped error \(error)")
            }
        }
    }

    func testMutatedPNGsDecodeOrFailWithATypedError() throws {
        let valid = [UInt8](try PNG.encode(smoothImage(width: 24, height: 16).withAlpha(0.7), bitDepth: 16))
        var tally = Tally()
        for bytes in mutations(of: valid, count: 1500, seed: 1) {
            tally.record { _ = try PNG.decode(Data(bytes), path: "fuzz.png", maxPixels: 1 << 20) }
        }
        XCTAssertEqual(tally.decoded + tally.errors.values.reduce(0, +), 1500)
        XCTAssertGreaterThan(tally.errors["truncated"] ?? 0, 400, "\(tally)")
        XCTAssertGreaterThan(tally.errors["corrupt"] ?? 0, 100, "\(tally)")
    }

    func testMutatedJPEGsDecodeOrFailWithATypedError() throws {
        let valid = [UInt8](try JPEG.encode(smoothImage(width: 24, height: 16), quality: 85, exifOrientation: 6))
        var tally = Tally()
        for bytes in mutations(of: valid, count: 1500, seed: 2) {
            tally.record { _ = try JPEG.decode(Data(bytes), path: "fuzz.jpg", maxPixels: 1 << 20) }
        }
        XCTAssertEqual(tally.decoded + tally.errors.values.reduce(0, +), 1500)
        XCTAssertGreaterThan(tally.errors["truncated"] ?? 0, 300, "\(tally)")
        XCTAssertGreaterThan(tally.decoded, 100, "\(tally)")
    }

    func testMutatedVideosDecodeOrFailWithATypedError() throws {
        let folder = try temporaryFolder(self)
        var total = 0
        for (name, codec) in [("v.mp4", VideoWriter.Codec.auto), ("v.mkv", .mpeg4)] {
            let url = folder.appendingPathComponent(name)
            let writer = try VideoWriter(url: url, width: 32, height: 32, options: .init(codec: codec, keyframeInterval: 4))
            for i in 0..<8 { try writer.append(indexFrame(i, width: 32, height: 32)) }
            try writer.finish()
            let valid = [UInt8](try Data(contentsOf: url))
            var tally = Tally()
            for (k, bytes) in mutations(of: valid, count: 300, seed: 3 + UInt64(total)).enumerated() {
                let mutated = folder.appendingPathComponent("m\(k)-\(name)")
                try Data(bytes).write(to: mutated)
                tally.record {
                    let reader = try VideoReader(url: mutated, maxPixels: 1 << 20)
                    var frames = 0
                    while let frame = try reader.nextFrame() {
                        frames += 1
                        XCTAssertGreaterThan(frame.image.width, 0)
                        XCTAssertLessThan(frames, 10_000, "a decode that does not end")
                        if frames >= 10_000 { break }
                    }
                }
                try FileManager.default.removeItem(at: mutated)
            }
            XCTAssertEqual(tally.decoded + tally.errors.values.reduce(0, +), 300)
            XCTAssertGreaterThan(tally.errors.values.reduce(0, +), 20, "\(name): \(tally)")
            total += 300
        }
        XCTAssertEqual(total, 600)
    }
}
