import Foundation
import StrataCore
import XCTest
@testable import StrataIO

final class PNGTests: XCTestCase {
    let (w, h) = (13, 7)

    /// The formula Tools/make_io_fixtures.py drew every fixture with.
    func value(_ x: Int, _ y: Int, _ c: Int, levels: Int) -> Int { (x * 3 + y * 5 + c * 7) % levels }

    func testReadsGrayAtEveryBitDepth() throws {
        for bits in [1, 2, 4, 8, 16] {
            let image = try PNG.read(fixture("gray\(bits).png"))
            XCTAssertEqual([image.width, image.height, image.channels], [w, h, 1])
            let levels = 1 << bits
            for y in 0..<h {
                for x in 0..<w {
                    // Low bit depths scale up to full range, as the PNG specification asks.
                    let expected = Float(value(x, y, 0, levels: levels)) / Float(levels - 1)
                    XCTAssertEqual(image[0, y, x], expected, accuracy: 1e-6, "\(bits)-bit at \(x),\(y)")
                }
            }
        }
    }

    func testReadsInterlacedAndAlphaLayouts() throws {
        let cases: [(String, Int, Int)] = [("rgb16-interlaced.png", 3, 65536), ("rgb8-interlaced.png", 3, 256),
                                           ("gray-alpha16.png", 2, 65536), ("rgba8.png", 4, 256)]
        for (name, channels, levels) in cases {
            let image = try PNG.read(fixture(name))
            XCTAssertEqual(image.channels, channels, name)
            for c in 0..<channels {
                for y in 0..<h {
                    for x in 0..<w {
                        XCTAssertEqual(image[c, y, x], Float(value(x, y, c, levels: levels)) / Float(levels - 1),
                                       accuracy: 1e-6, "\(name) \(c) \(x),\(y)")
                    }
                }
            }
        }
        let header = try PNG.header(Data(contentsOf: fixture("rgb16-interlaced.png")))
        XCTAssertEqual(header, PNG.Header(width: w, height: h, bitDepth: 16, colorType: 2, interlaced: true, channels: 3))
        XCTAssertEqual(try PNG.header(Data(contentsOf: fixture("palette4-trns.png"))).channels, 4)
    }

    func testPaletteWithTransparencyBecomesRGBA() throws {
        let image = try PNG.read(fixture("palette4-trns.png"))
        XCTAssertEqual(image.channels, 4)
        for y in 0..<h {
            for x in 0..<w {
                let i = value(x, y, 0, levels: 16)
                let expected = [17 * i, 255 - 17 * i, (40 * i) % 256, 16 * i + 15].map { Float($0) / 255 }
                for c in 0..<4 { XCTAssertEqual(image[c, y, x], expected[c], accuracy: 1e-6) }
            }
        }
    }

    func testEightAndSixteenBitRoundTripsAreExact() throws {
        for channels in 1...4 {
            for bits in [8, 16] {
                let levels = bits == 8 ? 255 : 65535
                let image = Image(width: 31, height: 9, channels: channels) { c, y, x in
                    Float((x * 7919 + y * 104_729 + c * 1_299_709) % (levels + 1)) / Float(levels)
                }
                for level in [0, 6, 9] {
                    for filter in [PNG.Filter.adaptive, .none, .paeth] {
                        let data = try PNG.encode(image, bitDepth: bits, compressionLevel: level, filter: filter)
                        let back = try PNG.decode(data)
                        XCTAssertEqual(back.channels, channels)
                        let original = bits == 8 ? image.interleaved8().map(Int.init) : image.interleaved16().map(Int.init)
                        let decoded = bits == 8 ? back.interleaved8().map(Int.init) : back.interleaved16().map(Int.init)
                        XCTAssertEqual(decoded, original, "\(channels) channels, \(bits) bits, level \(level), \(filter)")
                    }
                }
            }
        }
    }

    func testSixteenBitSamplesSurviveBitExactly() throws {
        let samples: [UInt16] = [0, 1, 2, 255, 256, 4097, 32767, 32768, 65534, 65535, 12345, 54321]
        let data = try samples.withUnsafeBytes { try PNG.encode(samples: $0, width: 4, height: 3, channels: 1, bitDepth: 16) }
        let image = try PNG.decode(data)
        XCTAssertEqual(image.interleaved16(), samples)
    }

    func testCompressionLevelChangesSizeNotContent() throws {
        let image = smoothImage(width: 96, height: 64)
        let fast = try PNG.encode(image, compressionLevel: 0)
        let small = try PNG.encode(image, compressionLevel: 9)
        XCTAssertLessThan(small.count, fast.count)
        XCTAssertEqual(try PNG.decode(fast), try PNG.decode(small))
    }

    func testRejectsWhatIsNotAPNG() throws {
        let jpeg = try JPEG.encode(smoothImage(width: 8, height: 8))
        assertMediaError(.unrecognizedFormat("not a PNG file (bad signature)")) { _ = try PNG.decode(jpeg) }
        assertMediaError(.unsupported("PNG holds 1 to 4 channels, not 5")) {
            _ = try PNG.encode(Image(width: 2, height: 2, channels: 5))
        }
    }

    func testTruncatedAndDamagedFilesGiveTypedErrors() throws {
        let data = try PNG.encode(smoothImage(width: 40, height: 30))
        assertMediaError(.truncated) { _ = try PNG.decode(data.prefix(data.count - 20)) }
        assertMediaError(.truncated) { _ = try PNG.decode(data.prefix(40)) }
        var damaged = [UInt8](data)
        damaged[20] ^= 0xFF  // inside IHDR: its CRC no longer matches
        guard let error = assertMediaError(.corrupt("IHDR: CRC error"), { _ = try PNG.decode(Data(damaged)) }) else { return }
        XCTAssertEqual(error.exitCode, 65)
    }

    func testPixelLimitRefusesDecompressionBombsBeforeAllocating() throws {
        var bytes = [UInt8](try PNG.encode(Image(width: 4, height: 4, channels: 1)))
        // Rewrite IHDR to claim 100000 × 100000 pixels (10 gigapixels), with a valid CRC.
        let big: [UInt8] = [0x00, 0x01, 0x86, 0xA0]
        bytes.replaceSubrange(16..<20, with: big)
        bytes.replaceSubrange(20..<24, with: big)
        let crc = crc32(bytes[12..<29])
        bytes.replaceSubrange(29..<33, with: [UInt8(crc >> 24), UInt8(crc >> 16 & 0xFF), UInt8(crc >> 8 & 0xFF), UInt8(crc & 0xFF)])
        let error = assertMediaError(.tooLarge(width: 100_000, height: 100_000, limit: ImageFile.defaultMaxPixels)) {
            _ = try PNG.decode(Data(bytes), path: "bomb.png")
        }
        XCTAssertEqual(error?.description.hasPrefix("bomb.png: 100000x100000"), true)
        // A lower limit refuses an ordinary image too.
        assertMediaError(.tooLarge(width: 40, height: 30, limit: 1000)) {
            _ = try PNG.decode(try PNG.encode(smoothImage(width: 40, height: 30)), maxPixels: 1000)
        }
    }
}
