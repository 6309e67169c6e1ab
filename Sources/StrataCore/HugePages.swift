#if canImport(Glibc)
import Glibc
#endif
import CStrataKernels

/// Transparent huge pages for large buffers, as numpy asks for its arrays.
///
/// Linux backs memory with 4 KiB pages unless told otherwise (`madvise` is the default THP
/// mode on Debian). A resampler gathers from all over a 25–100 MB image, so with 4 KiB pages
/// nearly every source row costs a TLB miss, and a fresh output costs a page fault per
/// 4 KiB. Advised buffers get 2 MiB pages: at 4096×2048 the cube and patch resamples ran
/// 1.3–1.8× faster with them (BENCHMARKS.md).
public enum HugePages {
    /// The smallest buffer advised (numpy's threshold).
    public static let threshold = 4 << 20

    /// Advises the kernel to back the 2 MiB-aligned interior of `bytes` at `base` with
    /// huge pages. Call it before the buffer is first written: pages already touched stay
    /// small until the kernel's background pass merges them.
    public static func advise(_ base: UnsafeMutableRawPointer, bytes: Int) {
        #if os(Linux)
        guard bytes >= threshold else { return }
        let huge = 2 << 20
        let start = (Int(bitPattern: base) + huge - 1) & ~(huge - 1)
        let end = (Int(bitPattern: base) + bytes) & ~(huge - 1)
        guard end > start else { return }
        // Only a hint: a kernel without THP answers EINVAL and the buffer works as before.
        _ = madvise(UnsafeMutableRawPointer(bitPattern: start), end - start, MADV_HUGEPAGE)
        #endif
    }
}

/// Freed buffers kept in the process for the next buffer of that size.
///
/// glibc returns blocks above its mmap threshold (128 KiB at first, raised as blocks are
/// freed) to the kernel, and the next block of that size comes back as fresh pages that the
/// kernel must fault in and zero: 45 ms for a 75 MB buffer of 4 KiB pages on one core here,
/// more than resampling it. A video runs the same sizes frame after frame, so the heap keeps
/// blocks up to 256 MiB and trims only past 1 GiB of free memory. numpy already reuses its
/// 3 MB arrays this way. Process-wide, set once by the first large buffer or NN session.
public enum FreedMemory {
    /// Applies the policy (the first call does; later ones cost one atomic load).
    public static func keep() { strata_keep_freed_memory() }
}

extension Array where Element: BitwiseCopyable {
    /// An array of `count` elements written by `initialize`, on huge pages when large.
    /// `initialize` must write every element.
    @inlinable
    public init(largeCount count: Int, initializingWith initialize: (UnsafeMutableBufferPointer<Element>) throws -> Void) rethrows {
        FreedMemory.keep()
        try self.init(unsafeUninitializedCapacity: count) { buffer, initialized in
            if let base = buffer.baseAddress {
                HugePages.advise(UnsafeMutableRawPointer(base), bytes: count * MemoryLayout<Element>.stride)
            }
            try initialize(UnsafeMutableBufferPointer(rebasing: buffer[0..<count]))
            initialized = count
        }
    }

    /// `count` copies of `value`, on huge pages when large.
    @inlinable
    public init(largeRepeating value: Element, count: Int) {
        self.init(largeCount: count) { $0.initialize(repeating: value) }
    }
}
