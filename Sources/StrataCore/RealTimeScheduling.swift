import CStrataKernels

/// Strata's threads never run real-time.
///
/// SVT-AV1's encoder (libSvtAv1Enc, reached through FFmpeg) switches its caller and its own
/// worker threads to SCHED_FIFO when the process runs as root: a strata that had opened an
/// AV1 writer then held both cores against every normal process, and processes it started
/// inherited the policy (the test suite's signal tests starved that way). Whoever opens such a
/// library calls ``dropRealTime()`` right after.
public enum RealTimeScheduling {
    /// Puts every real-time thread of the process back to normal scheduling; returns how many.
    @discardableResult
    public static func dropRealTime() -> Int { Int(strata_drop_realtime_threads()) }
}
