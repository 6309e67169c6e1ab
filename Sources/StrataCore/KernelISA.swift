import CStrataKernels
import Foundation

/// The instruction set that Strata's run-time-selected C kernels use: the best the processor
/// has by its CPUID feature bits, or a lower one forced with `STRATA_ISA=generic|avx2|avx512`
/// (so that tests and benchmarks can run every path the machine supports; asking for more
/// than the processor has gives what it has).
public enum KernelISA: Int32, Sendable, CaseIterable, CustomStringConvertible {
    case generic = 0, avx2 = 1, avx512 = 2

    /// What this processor runs.
    public static let supported = KernelISA(rawValue: strata_isa_supported()) ?? .generic

    /// The path kernels take: `STRATA_ISA` if set (and within ``supported``), else ``supported``.
    /// A test may set it to compare the paths.
    nonisolated(unsafe) public static var selected: KernelISA = {
        guard let name = ProcessInfo.processInfo.environment["STRATA_ISA"]?.lowercased(),
              let forced = KernelISA.allCases.first(where: { $0.description == name }) else { return supported }
        return KernelISA(rawValue: min(forced.rawValue, supported.rawValue))!
    }()

    public var description: String {
        switch self {
        case .generic: "generic"
        case .avx2: "avx2"
        case .avx512: "avx512"
        }
    }
}
