import Dispatch
import Foundation
import StrataCore

/// Encodes and writes numbered frames on several threads while the caller decodes the next
/// ones. At most `threads` frames are in flight, so memory stays bounded. A failure stops
/// the frames after it, while every frame before it is still written (nothing finished is
/// lost); ``finish()`` rethrows the failure of the lowest frame.
public final class ConcurrentFrameWriter: @unchecked Sendable {
    private let writer: FrameSequenceWriter
    private let queue = DispatchQueue(label: "strata.frame-writer", attributes: .concurrent)
    private let group = DispatchGroup()
    private let slots: DispatchSemaphore
    private let failure = Mutex<(index: Int, error: Error)?>(nil)

    /// A writer using `threads` encoding threads (0: every core).
    public init(_ writer: FrameSequenceWriter, threads: Int = 0) {
        self.writer = writer
        let count = threads > 0 ? threads : Parallel.activeCores
        slots = DispatchSemaphore(value: max(1, count))
    }

    /// Queues frame `index` for writing; blocks while every slot is busy. Throws the first
    /// failure of an earlier frame, so the caller can stop decoding.
    public func write(_ image: Image, index: Int) throws {
        if let failed = failure.withLock({ $0 }) { throw failed.error }
        slots.wait()
        group.enter()
        let writer = self.writer
        let image = UncheckedSendable(image)
        queue.async { [self] in
            defer { slots.signal(); group.leave() }
            if let failed = failure.withLock({ $0 }), failed.index < index { return }
            do {
                try writer.write(image.value, index: index)
            } catch {
                failure.withLock { if $0 == nil || $0!.index > index { $0 = (index, error) } }
            }
        }
    }

    /// Waits for every queued frame and rethrows the first failure.
    public func finish() throws {
        group.wait()
        if let failed = failure.withLock({ $0 }) { throw failed.error }
    }
}
