import Foundation
import XCTest
@testable import StrataCore

final class HugePagesTests: XCTestCase {
    /// The kernel's flags for the mapping that holds `address` (the VmFlags line of /proc/self/smaps).
    private func mappingFlags(of address: UnsafeRawPointer) throws -> [String] {
        // FileHandle reads to the end; String(contentsOfFile:) stops after one read of a proc file.
        guard let file = FileHandle(forReadingAtPath: "/proc/self/smaps") else { throw XCTSkip("no /proc/self/smaps") }
        let smaps = String(decoding: file.readDataToEndOfFile(), as: UTF8.self)
        let a = UInt(bitPattern: address)
        var inside = false
        for line in smaps.split(separator: "\n") {
            let fields = line.split(separator: " ")
            if let range = fields.first, range.contains("-"), !range.hasSuffix(":") {
                let bounds = range.split(separator: "-").compactMap { UInt($0, radix: 16) }
                inside = bounds.count == 2 && a >= bounds[0] && a < bounds[1]
            } else if inside, fields.first == "VmFlags:" {
                return fields.dropFirst().map(String.init)
            }
        }
        XCTFail("no mapping holds \(address) in /proc/self/smaps")
        return []
    }

    func testLargeBuffersAreAdvisedHugePagesAndSmallOnesAreNot() throws {
        #if !os(Linux)
        throw XCTSkip("transparent huge pages are Linux's")
        #else
        let large = [Float](largeRepeating: 1.5, count: 3 << 20)  // 12 MiB
        XCTAssertEqual(large.count, 3 << 20)
        XCTAssertTrue(large.allSatisfy { $0 == 1.5 })
        try large.withUnsafeBufferPointer { buffer in
            // The 2 MiB-aligned interior carries the advice ("hg").
            let middle = UnsafeRawPointer(buffer.baseAddress!) + buffer.count * 2
            XCTAssertTrue(try mappingFlags(of: middle).contains("hg"), "a 12 MiB buffer should be advised huge pages")
        }
        let small = [Float](largeRepeating: 2, count: 1 << 18)  // 1 MiB: below the threshold
        XCTAssertEqual(small, [Float](repeating: 2, count: 1 << 18))
        #endif
    }

    func testLargeCountWritesWhatTheInitializerWrites() {
        let values = [Int32](largeCount: 5 << 20) { buffer in
            for i in buffer.indices { buffer[i] = Int32(i % 977) }
        }
        XCTAssertEqual(values.count, 5 << 20)
        XCTAssertEqual(values[0], 0)
        XCTAssertEqual(values[978], 1)
        XCTAssertEqual(values[(5 << 20) - 1], Int32(((5 << 20) - 1) % 977))
    }

    func testImagesOfAnySizeKeepTheirFill() {
        let image = Image(width: 1024, height: 1024, channels: 3, fill: 0.25)
        XCTAssertEqual(image.pixels.count, 3 << 20)
        XCTAssertTrue(image.pixels.allSatisfy { $0 == 0.25 })
    }

    /// Minor page faults of this process so far.
    private func minorFaults() -> Int {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return usage.ru_minflt
    }

    func testAFreedLargeBufferIsReusedWithoutFaultingItsPagesInAgain() {
        #if !os(Linux)
        throw XCTSkip("the policy is glibc's")
        #else
        // 40 MB: above glibc's own ceiling for keeping freed blocks (32 MiB), so without the
        // policy every such buffer is a fresh mapping, faulted in page by page (or 2 MiB
        // page by 2 MiB page) when written.
        let count = 10 << 20
        var first: [Float]? = [Float](largeRepeating: 1, count: count)
        XCTAssertEqual(first?[count - 1], 1)
        first = nil
        let before = minorFaults()
        let second = [Float](largeRepeating: 2, count: count)
        let faults = minorFaults() - before
        XCTAssertEqual(second[count / 2], 2)
        XCTAssertLessThan(faults, 8, "a 40 MB buffer allocated after one was freed should reuse its pages")
        #endif
    }
}
