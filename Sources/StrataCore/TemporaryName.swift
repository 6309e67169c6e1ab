import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The hidden names files are written under before they are renamed into place:
/// `.NAME.strata-HOST-PID-RANDOM.tmp`, so that a later run can tell which were left by a
/// killed process on this machine (and remove them) and which belong to a live writer or
/// to another machine sharing the folder.
public enum TemporaryName {
    /// A fresh hidden name next to `url`.
    public static func next(to url: URL) -> URL {
        let unique = "\(hostName)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        return url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).strata-\(unique).tmp")
    }

    /// Whether `name` (a file name, not a path) is a temporary name made on this machine by
    /// a process that no longer exists.
    public static func isAbandoned(_ name: String) -> Bool {
        guard name.hasPrefix("."), name.hasSuffix(".tmp"), let marker = name.range(of: ".strata-", options: .backwards) else { return false }
        let fields = name[marker.upperBound...].dropLast(4).split(separator: "-")
        guard fields.count == 3, fields[0] == hostName, let pid = Int32(fields[1]) else { return false }
        return kill(pid, 0) == -1 && errno == ESRCH
    }

    /// Removes the abandoned temporary files in `folder`; returns how many.
    @discardableResult
    public static func removeAbandoned(in folder: URL) -> Int {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else { return 0 }
        return names.filter { isAbandoned($0) && unlink(folder.appendingPathComponent($0).path) == 0 }.count
    }

    /// This machine's name as it appears in temporary names (dots and dashes removed, so the
    /// name parses back).
    static let hostName: String = {
        var buffer = [CChar](repeating: 0, count: 256)
        gethostname(&buffer, buffer.count - 1)
        let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let kept = name.filter { $0.isLetter || $0.isNumber }
        return kept.isEmpty ? "host" : kept
    }()
}
