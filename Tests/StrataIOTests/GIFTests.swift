import Foundation
import StrataCore
import XCTest
@testable import StrataIO

/// Animated GIFs read back by a decoder written here from the GIF89a specification: the
/// header, the global table, the loop extension, each frame's delay, and LZW decoded code
/// by code (widths growing, clear codes), so an encoder that got any of them wrong fails.
final class GIFTests: XCTestCase {
    struct Decoded {
        var width = 0, height = 0
        var palette: [[UInt8]] = []
        var loops = false
        var delays: [Int] = []
        var frames: [[UInt8]] = []
    }

    static func decode(_ data: Data) throws -> Decoded {
        let b = [UInt8](data)
        var out = Decoded()
        XCTAssertEqual(Array(b[0..<6]), Array("GIF89a".utf8))
        func u16(_ i: Int) -> Int { Int(b[i]) | Int(b[i + 1]) << 8 }
        (out.width, out.height) = (u16(6), u16(8))
        XCTAssertEqual(b[10] & 0x80, 0x80, "a global colour table")
        let tableSize = 2 << Int(b[10] & 7)
        out.palette = (0..<tableSize).map { Array(b[(13 + 3 * $0)..<(16 + 3 * $0)]) }
        var i = 13 + 3 * tableSize
        while b[i] != 0x3B {
            switch b[i] {
            case 0x21:
                let label = b[i + 1]
                if label == 0xFF, String(decoding: b[(i + 3)..<(i + 14)], as: UTF8.self) == "NETSCAPE2.0" { out.loops = u16(i + 16) == 0 }
                if label == 0xF9 { out.delays.append(u16(i + 4)) }
                i += 2
                while b[i] != 0 { i += Int(b[i]) + 1 }
                i += 1
            case 0x2C:
                XCTAssertEqual([u16(i + 5), u16(i + 7)], [out.width, out.height])
                XCTAssertEqual(b[i + 9] & 0x80, 0, "no local table")
                let minimum = Int(b[i + 10])
                i += 11
                var stream: [UInt8] = []
                while b[i] != 0 { stream += b[(i + 1)...(i + Int(b[i]))]; i += Int(b[i]) + 1 }
                i += 1
                out.frames.append(lzwDecode(stream, minimum: minimum, count: out.width * out.height))
            default:
                throw CodedError("unexpected block 0x\(String(b[i], radix: 16)) at \(i)")
            }
        }
        return out
    }

    static func lzwDecode(_ stream: [UInt8], minimum: Int, count: Int) -> [UInt8] {
        let clear = 1 << minimum, end = clear + 1
        var width = minimum + 1
        var table: [[UInt8]] = (0..<clear).map { [UInt8($0)] } + [[], []]
        var out: [UInt8] = []
        var bitPosition = 0
        var previous: [UInt8]?
        while bitPosition + width <= stream.count * 8 {
            var code = 0
            for k in 0..<width where stream[(bitPosition + k) / 8] & (1 << ((bitPosition + k) % 8)) != 0 { code |= 1 << k }
            bitPosition += width
            if code == clear {
                table = (0..<clear).map { [UInt8($0)] } + [[], []]
                (width, previous) = (minimum + 1, nil)
                continue
            }
            if code == end { break }
            let entry: [UInt8]
            if code < table.count {
                entry = table[code]
                if let previous, table.count < 4096 { table.append(previous + [entry[0]]) }
            } else {
                XCTAssertEqual(code, table.count, "a code one past the table (KwKwK)")
                entry = previous! + [previous![0]]
                table.append(entry)
            }
            out += entry
            previous = entry
            if table.count == 1 << width && width < 12 { width += 1 }
        }
        XCTAssertEqual(out.count, count)
        return out
    }

    func testFewColoursRoundTripExactlyWithTheLoopAndTheDelays() throws {
        // Four colours in stripes that move: every pixel is one of the palette's colours.
        let colours: [[Float]] = [[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 1]]
        let frames = (0..<5).map { t in Image(width: 37, height: 23, channels: 3) { c, y, x in colours[(x / 3 + y / 5 + t) % 4][c] } }
        let decoded = try Self.decode(GIF.encode(frames, delay: 4))
        XCTAssertEqual([decoded.width, decoded.height], [37, 23])
        XCTAssertTrue(decoded.loops)
        XCTAssertEqual(decoded.delays, [4, 4, 4, 4, 4])
        XCTAssertEqual(decoded.frames.count, 5)
        for (t, frame) in decoded.frames.enumerated() {
            for y in 0..<23 {
                for x in 0..<37 {
                    let expected = colours[(x / 3 + y / 5 + t) % 4].map { UInt8($0 * 255) }
                    XCTAssertEqual(decoded.palette[Int(frame[y * 37 + x])], expected, "frame \(t) (\(x), \(y))")
                }
            }
        }
    }

    /// Many colours (a smooth field with texture): long enough that the table fills and is
    /// cleared, and every pixel within a few levels of the original.
    func testManyColoursStayCloseThroughClearCodes() throws {
        let frames = (0..<3).map { t in
            Image(width: 200, height: 150, channels: 3) { c, y, x in
                0.5 + 0.45 * sin(Float(x) * 0.07 + Float(c) * 2 + Float(t)) * cos(Float(y) * 0.05) + Float((x * 7 + y * 13 + c) % 5) / 255
            }
        }
        let data = GIF.encode(frames, delay: 10)
        let decoded = try Self.decode(data)
        XCTAssertLessThan(data.count, 3 * 200 * 150, "compressed")
        var error = 0.0
        for (t, frame) in decoded.frames.enumerated() {
            for i in 0..<(200 * 150) {
                for c in 0..<3 { error += abs(Double(decoded.palette[Int(frame[i])][c]) - Double(frames[t].pixels[c * 200 * 150 + i] * 255)) }
            }
        }
        XCTAssertLessThan(error / Double(3 * 3 * 200 * 150), 6, "mean error in levels of 255")
    }
}
