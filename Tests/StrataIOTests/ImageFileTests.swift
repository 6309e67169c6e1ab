import Foundation
import StrataCore
import XCTest
@testable import StrataIO

final class ImageFileTests: XCTestCase {
    func testFormatIsJudgedByContentNotName() throws {
        let folder = try temporaryFolder(self)
        let image = smoothImage(width: 20, height: 10)
        // A PNG named .jpg (mislabelled) still reads as the PNG it is.
        let mislabelled = folder.appendingPathComponent("really-png.jpg")
        try PNG.encode(image).write(to: mislabelled)
        XCTAssertEqual(try ImageFile.read(mislabelled).interleaved8(), image.interleaved8())
        XCTAssertEqual(try ImageFile.info(mislabelled).format, .png)
        let text = folder.appendingPathComponent("notes.png")
        try Data("hello, world".utf8).write(to: text)
        assertMediaError(.unrecognizedFormat("not a PNG, JPEG, PFM or NPY image (unrecognised signature)")) {
            _ = try ImageFile.read(text)
        }
        let empty = folder.appendingPathComponent("empty.png")
        try Data().write(to: empty)
        assertMediaError(.truncated) { _ = try ImageFile.read(empty) }
    }

    func testEveryFormatRoundTripsThroughWrite() throws {
        let folder = try temporaryFolder(self)
        let image = smoothImage(width: 20, height: 10)
        for name in ["a.png", "a.jpg", "a.pfm", "a.npy"] {
            let url = folder.appendingPathComponent(name)
            try ImageFile.write(image, to: url, options: ImageWriteOptions(jpegQuality: 97))
            let back = try ImageFile.read(url)
            XCTAssertGreaterThan(psnr(back, image), name == "a.jpg" ? 38 : 48, name)
            let info = try ImageFile.info(url)
            XCTAssertEqual([info.width, info.height, info.channels], [20, 10, 3], name)
        }
        let sixteen = folder.appendingPathComponent("deep.png")
        try ImageFile.write(image, to: sixteen, options: ImageWriteOptions(bitDepth: 16))
        XCTAssertEqual(try ImageFile.info(sixteen).bitDepth, 16)
        assertMediaError(.unsupported("unknown image extension \".tiff\" (use .png, .jpg, .pfm or .npy)")) {
            try ImageFile.write(image, to: folder.appendingPathComponent("a.tiff"))
        }
    }

    func testMissingPathsAndFoldersAreNamed() throws {
        let folder = try temporaryFolder(self)
        let missing = assertMediaError(.notFound) { _ = try ImageFile.read(folder.appendingPathComponent("nope.png")) }
        XCTAssertEqual(missing?.exitCode, 66)
        XCTAssertEqual(missing?.description, "\(folder.path)/nope.png: no such file")
        assertMediaError(.isDirectory) { _ = try ImageFile.read(folder) }
    }

    func testWritesAreAtomicAndFailuresLeaveNothing() throws {
        let folder = try temporaryFolder(self)
        let url = folder.appendingPathComponent("out.png")
        let image = smoothImage(width: 20, height: 10)
        try ImageFile.write(image, to: url)
        let before = try Data(contentsOf: url)
        // A failed encode (5 channels) must not touch the existing file or leave a temporary.
        XCTAssertThrowsError(try ImageFile.write(Image(width: 2, height: 2, channels: 5), to: url))
        XCTAssertEqual(try Data(contentsOf: url), before)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), ["out.png"])

        let noFolder = assertMediaError(.notWritable("the folder \(folder.path)/missing does not exist")) {
            try ImageFile.write(image, to: folder.appendingPathComponent("missing/out.png"))
        }
        XCTAssertEqual(noFolder?.exitCode, 73)
        assertMediaError(.notWritable("a folder of that name exists")) {
            try FileManager.default.createDirectory(at: folder.appendingPathComponent("dir.png"), withIntermediateDirectories: false)
            try ImageFile.write(image, to: folder.appendingPathComponent("dir.png"))
        }
        // /sys refuses new files even to root.
        let denied = assertMediaError(.notWritable("Permission denied")) {
            try ImageFile.write(image, to: URL(fileURLWithPath: "/sys/strata-test.png"))
        }
        XCTAssertEqual(denied?.description, "/sys/strata-test.png: cannot write: Permission denied")
    }
}
