import CStrataCodecs
import Foundation

/// A ZIP archive of stored (uncompressed) entries, as OpenRaster wants its `mimetype` and
/// as PNG layers need (already compressed). Entries carry a fixed date (1980-01-01), so
/// the same content gives the same bytes.
public struct ZipArchive: Sendable {
    public private(set) var entries: [(name: String, data: Data)] = []

    public init() {}

    /// Adds `data` as the file `name` (a relative path with `/`).
    public mutating func add(_ name: String, _ data: Data) { entries.append((name, data)) }

    /// The archive's bytes.
    public func encoded() throws -> Data {
        var out = Data(), central = Data()
        func u16(_ v: Int, _ d: inout Data) { withUnsafeBytes(of: UInt16(v).littleEndian) { d.append(contentsOf: $0) } }
        func u32(_ v: UInt32, _ d: inout Data) { withUnsafeBytes(of: v.littleEndian) { d.append(contentsOf: $0) } }
        let date = (1 << 5) | 1  // 1980-01-01, 00:00
        for (name, data) in entries {
            let nameBytes = Data(name.utf8)
            guard data.count < Int(UInt32.max), out.count < Int(UInt32.max) else {
                throw MediaError(path: name, .unsupported("a ZIP entry or archive past 4 GB (ZIP64 is not written)"))
            }
            let crc = data.withUnsafeBytes { strata_crc32(0, $0.bindMemory(to: UInt8.self).baseAddress, $0.count) }
            let offset = UInt32(out.count)
            // Local header: version 2.0, no flags, stored, the fixed date.
            u32(0x0403_4b50, &out); u16(20, &out); u16(0, &out); u16(0, &out); u16(0, &out); u16(date, &out)
            u32(crc, &out); u32(UInt32(data.count), &out); u32(UInt32(data.count), &out)
            u16(nameBytes.count, &out); u16(0, &out)
            out.append(nameBytes)
            out.append(data)
            // Its central directory record.
            u32(0x0201_4b50, &central); u16(20, &central); u16(20, &central); u16(0, &central); u16(0, &central); u16(0, &central)
            u16(date, &central); u32(crc, &central); u32(UInt32(data.count), &central); u32(UInt32(data.count), &central)
            u16(nameBytes.count, &central); u16(0, &central); u16(0, &central); u16(0, &central); u16(0, &central)
            u32(0, &central); u32(offset, &central)
            central.append(nameBytes)
        }
        let start = UInt32(out.count)
        out.append(central)
        // End of central directory.
        u32(0x0605_4b50, &out); u16(0, &out); u16(0, &out); u16(entries.count, &out); u16(entries.count, &out)
        u32(UInt32(central.count), &out); u32(start, &out); u16(0, &out)
        return out
    }
}
