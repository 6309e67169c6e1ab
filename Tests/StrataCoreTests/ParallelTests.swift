import Foundation
import StrataCore
import XCTest

/// Strata's worker pool behind `Parallel.forEachBand`: every band once, loop after loop;
/// loops inside a band and loops from several threads at once (which the pool hands to
/// libdispatch); and workers that went to sleep between loops coming back.
final class ParallelTests: XCTestCase {
    /// Counts each index a loop covers.
    private static func covered(_ count: Int, minimumBand: Int = 1, _ extra: (Range<Int>) -> Void = { _ in }) -> [Int] {
        let hits = Mutex([Int](repeating: 0, count: count))
        Parallel.forEachBand(count, minimumBand: minimumBand) { band in
            extra(band)
            hits.withLock { for i in band { $0[i] += 1 } }
        }
        return hits.withLock { $0 }
    }

    func testThousandsOfLoopsInARowCoverEveryIndexOnce() {
        for loop in 0..<3000 {
            let count = 1 + loop % 37
            let hits = Self.covered(count)
            if hits != [Int](repeating: 1, count: count) { return XCTFail("loop \(loop) of \(count): \(hits)") }
        }
    }

    func testALoopInsideABandCoversEveryIndexOnce() {
        let inner = Mutex([Int](repeating: 0, count: 16 * 50))
        let outer = Self.covered(16) { band in
            for row in band {
                Parallel.forEachBand(50, minimumBand: 1) { columns in
                    inner.withLock { for c in columns { $0[row * 50 + c] += 1 } }
                }
            }
        }
        XCTAssertEqual(outer, [Int](repeating: 1, count: 16))
        XCTAssertEqual(inner.withLock { $0 }, [Int](repeating: 1, count: 16 * 50))
    }

    func testLoopsFromSeveralThreadsAtOnceEachCoverTheirIndicesOnce() {
        let failures = Mutex(0)
        DispatchQueue.concurrentPerform(iterations: 4) { caller in
            for loop in 0..<300 {
                let count = 10 + (caller * 7 + loop) % 90
                if Self.covered(count) != [Int](repeating: 1, count: count) { failures.withLock { $0 += 1 } }
            }
        }
        XCTAssertEqual(failures.withLock { $0 }, 0)
    }

    /// Loops far apart (the workers sleep after 200 µs without one) still run on more than
    /// one thread: the workers are woken, not only the caller left to do every band.
    func testWorkersAsleepBetweenLoopsAreWokenForTheNext() throws {
        guard Parallel.threadCount > 1 else { throw XCTSkip("one core: every loop runs on the caller") }
        let threads = Mutex(Set<String>())
        for _ in 0..<10 {
            Thread.sleep(forTimeInterval: 0.005)
            _ = Self.covered(8) { _ in
                threads.withLock { _ = $0.insert(String(describing: pthread_self())) }
                Thread.sleep(forTimeInterval: 0.005)
            }
        }
        XCTAssertGreaterThan(threads.withLock { $0.count }, 1)
    }
}
