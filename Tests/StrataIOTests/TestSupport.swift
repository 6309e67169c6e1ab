import Foundation
import StrataCore
import StrataIO
import XCTest

/// A fresh folder under the system temporary folder, removed when the test ends.
func temporaryFolder(_ test: XCTestCase) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("strata-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
    return url
}

/// The committed fixture of that name.
func fixture(_ name: String) -> URL {
    Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures")!
}

/// Peak signal-to-noise ratio in dB of two images of equal shape with values in 0…1.
func psnr(_ a: Image, _ b: Image) -> Double {
    precondition(a.pixels.count == b.pixels.count)
    var sum = 0.0
    for i in a.pixels.indices { let d = Double(a.pixels[i] - b.pixels[i]); sum += d * d }
    let mse = sum / Double(a.pixels.count)
    return mse == 0 ? .infinity : 10 * log10(1 / mse)
}

/// A smooth colour test image (gradients and a soft disc), like real photographs in spectrum.
func smoothImage(width: Int, height: Int, seed: Float = 0) -> Image {
    Image(width: width, height: height, channels: 3) { c, y, x in
        let u = Float(x) / Float(width), v = Float(y) / Float(height)
        let disc = exp(-((u - 0.6) * (u - 0.6) + (v - 0.4) * (v - 0.4)) * 12)
        let base: Float = c == 0 ? u : (c == 1 ? v : 1 - u * v)
        return min(1, max(0, 0.7 * base + 0.3 * disc + 0.05 * sin(seed + Float(c))))
    }
}

/// A frame that says its index in 8 vertical bars (bit 7 left … bit 0 right), white for 1.
/// The bars are wide enough to survive lossy compression.
func indexFrame(_ index: Int, width: Int = 64, height: Int = 48) -> Image {
    Image(width: width, height: height, channels: 3) { _, _, x in
        let bit = 7 - x * 8 / width
        return (index >> bit) & 1 == 1 ? 0.9 : 0.1
    }
}

/// Reads back the index that `indexFrame` drew, sampling the middle of each bar.
func readIndex(_ image: Image) -> Int {
    var value = 0
    for bit in 0..<8 {
        let x = (7 - bit) * image.width / 8 + image.width / 16
        var sum: Float = 0
        for y in (image.height / 4)..<(3 * image.height / 4) { sum += image[1, y, x] }
        if sum / Float(image.height / 2) > 0.5 { value |= 1 << bit }
    }
    return value
}

/// Asserts that `body` throws a MediaError with the given reason, and returns it.
@discardableResult
func assertMediaError(_ expected: MediaError.Reason, file: StaticString = #filePath, line: UInt = #line,
                      _ body: () throws -> Void) -> MediaError? {
    do {
        try body()
        XCTFail("expected \(expected), nothing was thrown", file: file, line: line)
    } catch let error as MediaError {
        XCTAssertEqual(error.reason, expected, "\(error)", file: file, line: line)
        return error
    } catch {
        XCTFail("expected a MediaError, got \(error)", file: file, line: line)
    }
    return nil
}

/// Whether a MediaError's reason is of the same case, ignoring associated text.
func sameCase(_ a: MediaError.Reason, _ b: MediaError.Reason) -> Bool {
    switch (a, b) {
    case (.notFound, .notFound), (.isDirectory, .isDirectory), (.notReadable, .notReadable), (.notWritable, .notWritable),
         (.unrecognizedFormat, .unrecognizedFormat), (.corrupt, .corrupt), (.truncated, .truncated), (.tooLarge, .tooLarge),
         (.noVideoStream, .noVideoStream), (.unsupported, .unsupported), (.frameOutOfRange, .frameOutOfRange):
        return true
    default:
        return false
    }
}

/// The CRC-32 PNG chunks use (ISO 3309), for tests that rewrite headers.
func crc32(_ bytes: ArraySlice<UInt8>) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in bytes {
        crc ^= UInt32(byte)
        for _ in 0..<8 { crc = (crc >> 1) ^ (0xEDB8_8320 & (0 &- (crc & 1))) }
    }
    return ~crc
}

/// A minimal WAV file (mono 16-bit PCM): a container FFmpeg opens that has no video stream.
func wavBytes(samples: Int = 800) -> Data {
    func le32(_ v: Int) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 24 & 0xFF)] }
    func le16(_ v: Int) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF)] }
    var bytes = Array("RIFF".utf8) + le32(36 + samples * 2) + Array("WAVEfmt ".utf8)
    bytes += le32(16) + le16(1) + le16(1) + le32(8000) + le32(16000) + le16(2) + le16(16)
    bytes += Array("data".utf8) + le32(samples * 2)
    for i in 0..<samples { bytes += le16(Int(Int16(sin(Double(i) * 0.3) * 8000)) & 0xFFFF) }
    return Data(bytes)
}
