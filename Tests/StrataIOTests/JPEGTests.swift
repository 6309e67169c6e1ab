import Foundation
import StrataCore
import XCTest
@testable import StrataIO

final class JPEGTests: XCTestCase {
    func testColourRoundTripAboveAPSNRBound() throws {
        let image = smoothImage(width: 96, height: 64)
        let high = try JPEG.decode(try JPEG.encode(image, quality: 95)).image
        XCTAssertEqual([high.width, high.height, high.channels], [96, 64, 3])
        XCTAssertGreaterThan(psnr(high, image), 38)
        let low = try JPEG.decode(try JPEG.encode(image, quality: 30)).image
        XCTAssertGreaterThan(psnr(low, image), 28)
        XCTAssertLessThan(psnr(low, image), psnr(high, image))
    }

    func testGrayStaysGrayAndAlphaIsDropped() throws {
        let gray = smoothImage(width: 32, height: 16).grayscale()
        let back = try JPEG.decode(try JPEG.encode(gray, quality: 95)).image
        XCTAssertEqual(back.channels, 1)
        XCTAssertGreaterThan(psnr(back, gray), 40)
        let rgba = smoothImage(width: 32, height: 16).withAlpha(0.5)
        XCTAssertEqual(try JPEG.decode(try JPEG.encode(rgba)).image.channels, 3)
    }

    func testCMYKIsConvertedToRGB() throws {
        // Pure ink patches: cyan, magenta, yellow, black, and none.
        let inks: [[Float]] = [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0]]
        let expected: [[Float]] = [[0, 1, 1], [1, 0, 1], [1, 1, 0], [0, 0, 0], [1, 1, 1]]
        let ink = Image(width: 80, height: 16, channels: 4) { c, _, x in inks[x / 16][c] }
        let decoded = try JPEG.decode(try JPEG.encodeCMYK(ink, quality: 100))
        XCTAssertTrue(decoded.wasCMYK)
        for (patch, rgb) in expected.enumerated() {
            for c in 0..<3 { XCTAssertEqual(decoded.image[c, 8, patch * 16 + 8], rgb[c], accuracy: 0.03, "patch \(patch)") }
        }
    }

    func testEXIFOrientationIsReadAndApplied() throws {
        // A 3:2 image with a marker in one corner, stored as a camera would for each orientation.
        let shown = Image(width: 48, height: 32, channels: 1) { _, y, x in x < 16 && y < 8 ? 1 : 0.2 }
        let stored: [Int: Image] = [
            1: shown, 2: shown.flippedHorizontally(), 3: shown.rotated180(), 4: shown.flippedVertically(),
            5: shown.transposed(), 6: shown.rotated90CounterClockwise(), 7: shown.transversed(), 8: shown.rotated90Clockwise(),
        ]
        for (orientation, image) in stored {
            let data = try JPEG.encode(image, quality: 98, exifOrientation: orientation)
            let decoded = try JPEG.decode(data)
            XCTAssertEqual(decoded.exifOrientation, orientation)
            XCTAssertEqual([decoded.image.width, decoded.image.height], [48, 32], "orientation \(orientation)")
            XCTAssertGreaterThan(psnr(decoded.image, shown), 30, "orientation \(orientation)")
            let raw = try JPEG.decode(data, applyOrientation: false).image
            XCTAssertEqual([raw.width, raw.height], [image.width, image.height])
        }
    }

    func testEXIFParserToleratesDamage() {
        var block = EXIF.block(orientation: 6)
        XCTAssertEqual(EXIF.orientation(in: block), 6)
        block[19] = 9  // orientation outside 1…8
        XCTAssertNil(EXIF.orientation(in: block))
        XCTAssertNil(EXIF.orientation(in: Array(block.prefix(12))))
        XCTAssertNil(EXIF.orientation(in: [0x4D, 0x4D, 0x00, 0x2A, 0xFF, 0xFF, 0xFF, 0xF0]))
        // Little-endian ("II") blocks as most cameras write them.
        let little: [UInt8] = [0x49, 0x49, 0x2A, 0x00, 0x08, 0x00, 0x00, 0x00, 0x01, 0x00,
                               0x12, 0x01, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00]
        XCTAssertEqual(EXIF.orientation(in: little), 8)
    }

    /// A little-endian EXIF block as cameras write it: IFD0 with an orientation and the
    /// pointer to the Exif sub-IFD, which holds the 35 mm focal length (26 mm).
    static let cameraEXIF: [UInt8] = [0x49, 0x49, 0x2A, 0x00, 0x08, 0x00, 0x00, 0x00, 0x02, 0x00,
                                      0x12, 0x01, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
                                      0x69, 0x87, 0x04, 0x00, 0x01, 0x00, 0x00, 0x00, 0x26, 0x00, 0x00, 0x00,
                                      0x00, 0x00, 0x00, 0x00,
                                      0x01, 0x00, 0x05, 0xA4, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x1A, 0x00, 0x00, 0x00,
                                      0x00, 0x00, 0x00, 0x00]

    /// `data` (a JPEG) with an APP1 EXIF segment holding `block` right after its SOI marker.
    static func withEXIF(_ data: Data, _ block: [UInt8]) -> Data {
        let length = 2 + 6 + block.count
        return data.prefix(2) + Data([0xFF, 0xE1, UInt8(length >> 8), UInt8(length & 0xFF)]) + Data("Exif".utf8) + Data([0, 0]) + Data(block) + data.dropFirst(2)
    }

    func testTheFocalLengthIn35mmTermsIsReadFromTheExifSubIFD() throws {
        XCTAssertEqual(EXIF.focalLength35mm(in: Self.cameraEXIF), 26)
        XCTAssertEqual(EXIF.orientation(in: Self.cameraEXIF), 1)
        XCTAssertNil(EXIF.focalLength35mm(in: Array(Self.cameraEXIF.prefix(45))), "the sub-IFD cut short")
        XCTAssertNil(EXIF.focalLength35mm(in: EXIF.block(orientation: 3)), "no Exif sub-IFD")
        var away = Self.cameraEXIF
        away[30] = 0xF0  // the sub-IFD pointer past the block's end
        XCTAssertNil(EXIF.focalLength35mm(in: away))
        // Through a file: the decoder and ImageFile.info report it.
        let data = Self.withEXIF(try JPEG.encode(smoothImage(width: 32, height: 24), quality: 90), Self.cameraEXIF)
        XCTAssertEqual(try JPEG.decode(data).focalLength35mm, 26)
        XCTAssertNil(try JPEG.decode(try JPEG.encode(smoothImage(width: 32, height: 24), quality: 90)).focalLength35mm)
    }

    func testDamagedFilesGiveTypedErrorsNeverAnExit() throws {
        let data = try JPEG.encode(smoothImage(width: 64, height: 48), quality: 90)
        assertMediaError(.truncated) { _ = try JPEG.decode(data.prefix(data.count / 2)) }
        assertMediaError(.unrecognizedFormat("not a JPEG file (bad signature)")) { _ = try JPEG.decode(Data("hello".utf8)) }
        // SOI and nothing else: libjpeg would call exit() with its default handler.
        let error = assertMediaError(.corrupt("JPEG datastream contains no image")) {
            _ = try JPEG.decode(Data([0xFF, 0xD8, 0xFF, 0xD9]))
        }
        XCTAssertEqual(error?.exitCode, 65)
        assertMediaError(.tooLarge(width: 64, height: 48, limit: 100)) { _ = try JPEG.decode(data, maxPixels: 100) }
    }
}
