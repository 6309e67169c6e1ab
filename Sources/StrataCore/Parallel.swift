import CStrataKernels
import Dispatch
import Foundation

/// Splits loops over rows into bands run on several cores.
public enum Parallel {
    private static let storedLimit = Mutex(0)

    /// Upper bound on the threads Strata's own loops use; 0 means every active core.
    public static var maxThreads: Int {
        get { storedLimit.withLock { $0 } }
        set { storedLimit.withLock { $0 = max(0, newValue) } }
    }

    /// The cores the process may run on, read once: Foundation reads them from the
    /// kernel's files on every call (eight system calls, 30 µs here), and a network's run
    /// asked for them some 400 times, about a sixth of MiDaS's time on two threads.
    public static let activeCores = ProcessInfo.processInfo.activeProcessorCount

    /// Threads the next parallel loop will use.
    public static var threadCount: Int {
        let cores = activeCores
        let limit = maxThreads
        return max(1, limit == 0 ? cores : min(limit, cores))
    }

    /// Calls `body` on disjoint, contiguous bands that cover `0..<count` exactly once.
    ///
    /// Bands run concurrently; `minimumBand` keeps them large enough that the hand-off costs
    /// less than the work (small images run on the calling thread). Threads take bands as
    /// they finish the last, so more bands per thread (`bandsPerThread`) even out work that
    /// costs unevenly across the range, or a thread the system preempts, for the price of a
    /// hand-off per band.
    public static func forEachBand(_ count: Int, minimumBand: Int = 16, bandsPerThread: Int = 4, _ body: (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let threads = threadCount
        let bands = min(threads * max(1, bandsPerThread), max(1, count / max(1, minimumBand)))
        if bands <= 1 || threads == 1 {
            body(0..<count)
            return
        }
        withoutActuallyEscaping(body) { body in
            // The bands are disjoint by construction, which is what makes sharing the
            // caller's buffers across threads sound; the compiler cannot see that.
            var loop = Loop(count: count, bands: bands, body: body)
            // Strata's own workers (they spin between loops, so a network's hundred loops
            // start on every core at once); libdispatch's where they are busy with another loop.
            let ran = withUnsafeMutablePointer(to: &loop) { pointer in
                strata_pool_run(bands, Int32(threads), { context, band in
                    context!.assumingMemoryBound(to: Loop.self).pointee.run(band: band)
                }, pointer)
            }
            guard ran == 0 else { return }
            let shared = UncheckedSendable(loop)
            DispatchQueue.concurrentPerform(iterations: bands) { band in shared.value.run(band: band) }
        }
    }

    /// `transform` of each element, the elements spread over the threads, in order. Each
    /// element is a band of its own, taken by the next free thread, so elements of uneven
    /// cost (a scene's layers) do not queue behind each other on one thread.
    public static func map<T, U>(_ items: [T], _ transform: (T) -> U) -> [U] {
        var out = [U?](repeating: nil, count: items.count)
        out.withUnsafeMutableBufferPointer { slots in
            // Each band writes its own elements only.
            let base = UncheckedSendable(slots.baseAddress!)
            forEachBand(items.count, minimumBand: 1, bandsPerThread: max(1, items.count)) { range in
                for i in range { base.value[i] = transform(items[i]) }
            }
        }
        return out.map { $0! }
    }
}

/// A value guarded by a lock (a small stand-in for Synchronization.Mutex, which needs newer OS
/// versions on Apple platforms).
public final class Mutex<Value>: @unchecked Sendable {
    private var value: Value
    private let lock = NSLock()

    /// A mutex holding `value`.
    public init(_ value: Value) { self.value = value }

    /// Runs `body` with exclusive access to the value.
    public func withLock<T>(_ body: (inout Value) throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}

/// Carries a value across a concurrency boundary that the caller has made safe by hand.
public struct UncheckedSendable<Value>: @unchecked Sendable {
    /// The carried value.
    public let value: Value
    /// Wraps `value`.
    public init(_ value: Value) { self.value = value }
}

/// One parallel loop as its bands see it: band b covers `count · b / bands ..< count · (b + 1) / bands`.
private struct Loop {
    let count: Int, bands: Int
    let body: (Range<Int>) -> Void

    func run(band: Int) {
        let start = count * band / bands, end = count * (band + 1) / bands
        if start < end { body(start..<end) }
    }
}
