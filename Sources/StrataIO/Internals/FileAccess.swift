import Foundation
import StrataCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reading whole files and writing them atomically, with errors that name the path.
enum FileAccess {
    /// The contents of the file at `url`, after checking that it is a readable regular file.
    static func read(_ url: URL) throws -> Data {
        try checkReadable(url)
        do {
            return try Data(contentsOf: url, options: .mappedIfSafe)
        } catch {
            throw MediaError(path: url.path, .notReadable(systemMessage(error)))
        }
    }

    /// Throws unless `url` names an existing, readable regular file.
    static func checkReadable(_ url: URL) throws {
        var status = stat()
        guard stat(url.path, &status) == 0 else {
            let code = errno
            if code == ENOENT || code == ENOTDIR { throw MediaError(path: url.path, .notFound) }
            throw MediaError(path: url.path, .notReadable(String(cString: strerror(code))))
        }
        if (status.st_mode & S_IFMT) == S_IFDIR { throw MediaError(path: url.path, .isDirectory) }
        guard access(url.path, R_OK) == 0 else {
            throw MediaError(path: url.path, .notReadable(String(cString: strerror(errno))))
        }
    }

    private static func systemMessage(_ error: Error) -> String {
        if let posix = error as? POSIXError { return String(cString: strerror(posix.code.rawValue)) }
        return (error as NSError).localizedDescription
    }
}

/// Writes files under a temporary name in the destination folder and renames them into
/// place, so that a reader (or an interrupted run) never sees a half-written file.
public enum AtomicFile {
    /// Writes `bytes` to `url` atomically.
    public static func write(_ bytes: UnsafeRawBufferPointer, to url: URL) throws {
        let temporary = try temporaryURL(for: url)
        let fd = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw MediaError(path: url.path, .notWritable(String(cString: strerror(errno)))) }
        var offset = 0
        while offset < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                let message = String(cString: strerror(errno))
                close(fd)
                unlink(temporary.path)
                throw MediaError(path: url.path, .notWritable(message))
            }
            offset += n
        }
        if close(fd) != 0 {
            let message = String(cString: strerror(errno))
            unlink(temporary.path)
            throw MediaError(path: url.path, .notWritable(message))
        }
        try commit(temporary, to: url)
    }

    /// Writes `data` to `url` atomically.
    public static func write(_ data: Data, to url: URL) throws {
        try data.withUnsafeBytes { try write($0, to: url) }
    }

    /// Writes `bytes` to `url` atomically.
    public static func write(_ bytes: [UInt8], to url: URL) throws {
        try bytes.withUnsafeBytes { try write($0, to: url) }
    }

    /// A fresh hidden name next to `url`, after checking that its folder exists and is a folder.
    public static func temporaryURL(for url: URL) throws -> URL {
        let folder = url.deletingLastPathComponent()
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory) else {
            throw MediaError(path: url.path, .notWritable("the folder \(folder.path) does not exist"))
        }
        guard isDirectory.boolValue else {
            throw MediaError(path: url.path, .notWritable("\(folder.path) is not a folder"))
        }
        var existing = stat()
        if stat(url.path, &existing) == 0 && (existing.st_mode & S_IFMT) == S_IFDIR {
            throw MediaError(path: url.path, .notWritable("a folder of that name exists"))
        }
        return TemporaryName.next(to: url)
    }

    /// Removes temporary files in `folder` left by writers that were killed: those made on
    /// this machine by a process that no longer exists. Files of live processes, and of
    /// other machines sharing the folder, are left alone. Returns how many were removed.
    @discardableResult
    public static func removeAbandoned(in folder: URL) -> Int { TemporaryName.removeAbandoned(in: folder) }

    /// Renames a finished temporary file onto its destination.
    public static func commit(_ temporary: URL, to url: URL) throws {
        guard rename(temporary.path, url.path) == 0 else {
            let message = String(cString: strerror(errno))
            unlink(temporary.path)
            throw MediaError(path: url.path, .notWritable(message))
        }
    }

    /// Creates `folder` and its parents when missing.
    public static func createFolder(_ folder: URL) throws {
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw MediaError(path: folder.path, .notWritable("cannot create the folder: \((error as NSError).localizedDescription)"))
        }
    }
}
