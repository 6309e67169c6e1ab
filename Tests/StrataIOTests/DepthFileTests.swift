import Foundation
import StrataCore
import XCTest
@testable import StrataIO

final class DepthFileTests: XCTestCase {
    /// Depth on the millimetre grid, with one invalid pixel and one beyond 65.535 m.
    func metricDepth() -> DepthMap {
        var values = Image(width: 6, height: 4, channels: 1) { _, y, x in Float(500 + 1237 * (y * 6 + x)) / 1000 }
        values[0, 1, 1] = .nan
        values[0, 3, 5] = 80
        return DepthMap(values: values, kind: .metric, quantity: .zDepth,
                        projection: .pinhole(PinholeIntrinsics(horizontalFOV: 60, width: 6, height: 4)))
    }

    func testMillimetrePNGRoundTripIsExactOnTheGrid() throws {
        let folder = try temporaryFolder(self)
        let url = folder.appendingPathComponent("d.png")
        let depth = metricDepth()
        try DepthFile.writePNG16(depth, to: url)
        let back = try DepthFile.readPNG16(url)
        for i in depth.values.pixels.indices {
            let v = depth.values.pixels[i]
            if !v.isFinite || v > 65.535 {
                XCTAssertTrue(back.values.pixels[i].isNaN, "invalid and out-of-range pixels are stored as 0")
            } else {
                XCTAssertEqual(back.values.pixels[i], v, accuracy: 1e-6)
            }
        }
        // The raw file holds millimetres.
        let raw = try PNG.read(url).interleaved16()
        XCTAssertEqual(raw[0], 500)
        XCTAssertEqual(raw[7], 0)
    }

    func testScalePresets() throws {
        XCTAssertEqual(DepthScale(name: "kitti"), .kitti)
        XCTAssertEqual(DepthScale(name: "tum")?.factor, 5000)
        XCTAssertEqual(DepthScale(name: "mm")?.factor, 1000)
        XCTAssertEqual(DepthScale(name: "12.5"), .custom(12.5))
        XCTAssertNil(DepthScale(name: "-3"))
        let depth = DepthMap(values: Image(width: 3, height: 1, channels: 1, pixels: [1, 2.5, 10]), kind: .metric)
        XCTAssertEqual(DepthFile.quantize(depth, scale: DepthScale.kitti.factor), [256, 640, 2560])
        XCTAssertEqual(DepthFile.quantize(depth, scale: DepthScale.tum.factor), [5000, 12500, 50000])
        // 13.107 m is the largest TUM can hold.
        XCTAssertEqual(DepthFile.quantize(DepthMap(values: Image(width: 1, height: 1, channels: 1, pixels: [13.2]), kind: .metric),
                                          scale: 5000), [0])
        let folder = try temporaryFolder(self)
        try DepthFile.writePNG16(depth, to: folder.appendingPathComponent("k.png"), scale: .kitti)
        XCTAssertEqual(try DepthFile.readPNG16(folder.appendingPathComponent("k.png"), scale: .kitti).values.pixels, [1, 2.5, 10])
    }

    func testNormalisedRelativeDepthKeepsItsRange() throws {
        let folder = try temporaryFolder(self)
        var values = Image(width: 50, height: 3, channels: 1) { _, y, x in 0.2 + Float(x * 3 + y) * 0.01 }
        values[0, 0, 0] = .nan
        let depth = DepthMap(values: values, kind: .inverseRelative)
        let range = try DepthFile.writeNormalizedPNG16(depth, to: folder.appendingPathComponent("r.png"))
        XCTAssertEqual(range.lowerBound, 0.21, accuracy: 1e-6)
        XCTAssertEqual(range.upperBound, 0.2 + 149 * 0.01, accuracy: 1e-5)
        let back = try DepthFile.readPNG16(folder.appendingPathComponent("r.png"), range: range, kind: .inverseRelative)
        XCTAssertTrue(back.values.pixels[0].isNaN)
        let step = (range.upperBound - range.lowerBound) / 65534
        for i in 1..<values.pixels.count { XCTAssertEqual(back.values.pixels[i], values.pixels[i], accuracy: step) }
        let raw = try PNG.read(folder.appendingPathComponent("r.png")).interleaved16()
        XCTAssertEqual(raw[50], 1, "the minimum (x 0, y 1) is stored as 1, keeping 0 for invalid")
        XCTAssertEqual(raw[0], 0)
        XCTAssertEqual(raw.max(), 65535)
    }

    func testFloatFilesRoundTripExactlyIncludingNaN() throws {
        let folder = try temporaryFolder(self)
        var values = Image(width: 5, height: 3, channels: 1) { _, y, x in Float(x) * 1.1e-3 + Float(y) * 1e6 - 3.25 }
        values[0, 2, 4] = .nan
        values[0, 0, 1] = -.infinity
        let depth = DepthMap(values: values, kind: .metric)
        for name in ["d.pfm", "d.npy"] {
            let url = folder.appendingPathComponent(name)
            try DepthFile.writeFloat(depth, to: url)
            let back = name.hasSuffix("pfm") ? try PFM.read(url) : try NPY.read(url)
            XCTAssertEqual(back.pixels.map(\.bitPattern), values.pixels.map(\.bitPattern), name)
        }
        let rgb = smoothImage(width: 7, height: 4)
        XCTAssertEqual(try PFM.decode(try PFM.encode(rgb)), rgb)
        XCTAssertEqual(try NPY.decode(NPY.encode(rgb)), rgb)
    }

    func testPFMIsStoredBottomUpAndReadsBigEndian() throws {
        let image = Image(width: 2, height: 2, channels: 1, pixels: [1, 2, 3, 4])
        let data = try PFM.encode(image)
        let header = "Pf\n2 2\n-1.0\n"
        XCTAssertEqual(String(decoding: data.prefix(header.utf8.count), as: UTF8.self), header)
        // The first stored row is the bottom one: 3, 4.
        let first = data.dropFirst(header.utf8.count).prefix(4)
        XCTAssertEqual(Float(bitPattern: UInt32(littleEndian: first.withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) })), 3)
        var big = Data("Pf\n2 2\n1.0\n".utf8)
        for v: Float in [3, 4, 1, 2] { withUnsafeBytes(of: v.bitPattern.bigEndian) { big.append(contentsOf: $0) } }
        XCTAssertEqual(try PFM.decode(big), image)
        assertMediaError(.truncated) { _ = try PFM.decode(big.prefix(big.count - 1)) }
    }

    func testNPYMatchesNumPy() throws {
        // Written by numpy.save (Tools/make_io_fixtures.py): value x + 100 y + 0.5 c.
        let hwc = try NPY.read(fixture("hwc-f4.npy"))
        XCTAssertEqual([hwc.width, hwc.height, hwc.channels], [13, 7, 2])
        let f8 = try NPY.read(fixture("hw-f8.npy"))
        for y in 0..<7 {
            for x in 0..<13 {
                XCTAssertEqual(hwc[0, y, x], Float(x + 100 * y))
                XCTAssertEqual(hwc[1, y, x], Float(x + 100 * y) + 0.5)
                XCTAssertEqual(f8[0, y, x], Float(x + 100 * y))
            }
        }
        // Strata's header is what numpy writes: 64-byte aligned, ending in a newline.
        let data = NPY.encode(Image(width: 13, height: 7, channels: 2))
        let headerLength = Int(data[8]) | Int(data[9]) << 8
        XCTAssertEqual((10 + headerLength) % 64, 0)
        XCTAssertEqual(data[10 + headerLength - 1], 0x0A)
        XCTAssertTrue(String(decoding: data[10..<(10 + headerLength)], as: UTF8.self).contains("'shape': (7, 13, 2)"))
        assertMediaError(.unrecognizedFormat("not an NPY file (bad magic)")) { _ = try NPY.decode(Data("nope".utf8)) }
        assertMediaError(.truncated) { _ = try NPY.decode(data.prefix(data.count - 4)) }
    }

    func testSidecarRoundTripAndReadInterpretsFiles() throws {
        let folder = try temporaryFolder(self)
        let depth = metricDepth()
        let sidecar = DepthSidecar(kind: .metric, quantity: .zDepth, encoding: .png16, scale: 5000, projection: depth.projection)
        try sidecar.write(toFolder: folder)
        XCTAssertEqual(try DepthSidecar.read(inFolder: folder), sidecar)
        XCTAssertNotNil(sidecar.intrinsics)
        let json = try String(contentsOf: folder.appendingPathComponent("depth.json"), encoding: .utf8)
        for key in ["\"kind\" : \"metric\"", "\"quantity\" : \"z-depth\"", "\"scale\" : 5000", "\"invalidValue\" : 0", "\"fx\""] {
            XCTAssertTrue(json.contains(key), "sidecar lacks \(key):\n\(json)")
        }
        // A file written at the TUM scale is read back through the sidecar.
        let small = DepthMap(values: Image(width: 2, height: 1, channels: 1, pixels: [1.5, 2.0002]), kind: .metric)
        try DepthFile.writePNG16(small, to: folder.appendingPathComponent("000001.png"), scale: .tum)
        let back = try DepthFile.read(folder.appendingPathComponent("000001.png"))
        XCTAssertEqual(back.values.pixels, [1.5, 2.0002])
        XCTAssertEqual(back.projection, depth.projection)
        try Data("{\"kind\": \"metric\"}".utf8).write(to: folder.appendingPathComponent("depth.json"))
        XCTAssertThrowsError(try DepthSidecar.read(inFolder: folder)) { error in
            XCTAssertTrue(sameCase((error as! MediaError).reason, .corrupt("")))
        }
    }

    func testDepthIsReadOnlyFromSixteenBitGray() throws {
        let folder = try temporaryFolder(self)
        try PNG.write(smoothImage(width: 4, height: 4), to: folder.appendingPathComponent("rgb.png"))
        XCTAssertThrowsError(try DepthFile.readPNG16(folder.appendingPathComponent("rgb.png"))) { error in
            XCTAssertTrue(sameCase((error as! MediaError).reason, .unsupported("")))
        }
    }

    func testPreviewIsNearBrightAndInvalidBlack() {
        let depth = DepthMap(values: Image(width: 3, height: 1, channels: 1, pixels: [1, 5, .nan]), kind: .metric)
        let preview = DepthPreview.render(depth, colormap: .gray)
        XCTAssertEqual(preview.channel(0).pixels, [1, 0, 0])
        let disparity = DepthMap(values: depth.values, kind: .inverseRelative)
        XCTAssertEqual(DepthPreview.render(disparity, colormap: .gray).channel(0).pixels, [0, 1, 0])
        let turbo = DepthPreview.render(depth, colormap: .turbo)
        XCTAssertEqual(turbo[0, 0, 0], 0.4796, accuracy: 1e-6)  // turbo(1): nearest
    }
}
