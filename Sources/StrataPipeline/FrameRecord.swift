import Foundation
import StrataCore

/// One frame's values at the cut between a sharded run's map step and its `--finalize`
/// step: what the stages after the cut read, stored losslessly so that the finalize step
/// computes exactly what one run computes in memory.
///
/// The file is a text header and the samples after it:
///
///     STRATA-FRAME-RECORD 1
///     {"frame":{"index":17,"number":18,"position":17},"values":[{"key":"depth.depth","type":"depth",…}]}
///     <samples of each value, in order, little-endian>
///
/// Images whose samples are all `n / 255` (decoded 8-bit frames) are stored as bytes, those
/// that are all `n / 65535` as 16-bit words, any other as Float32 bit patterns: each value
/// reads back bit for bit.
enum FrameRecord {
    static let magic = "STRATA-FRAME-RECORD 1\n"

    /// What a value is stored as.
    struct Entry: Codable, Equatable {
        var key: String
        var type: String
        var width: Int?
        var height: Int?
        var channels: Int?
        var sample: String?
        var kind: DepthKind?
        var quantity: DepthQuantity?
        var projection: Projection?
        var int: Int?
        var number: Double?
        var string: String?
    }

    struct Header: Codable {
        var frame: Frame
        var values: [Entry]
        struct Frame: Codable { var index: Int, position: Int, number: Int }
    }

    /// Whether values of this port type can be stored (images, masks, depth, numbers, strings).
    static func canStore(_ type: PortType) -> Bool {
        [.image, .mask, .depth, .number, .string].contains(type)
    }

    static func encode(_ values: [(key: String, value: any Sendable)], frame: FrameInfo) throws -> Data {
        var entries: [Entry] = []
        var payload = Data()
        for (key, value) in values {
            var entry = Entry(key: key, type: "")
            switch value {
            case let image as Image:
                entry.type = "image"
                entry.sample = append(image, to: &payload)
                (entry.width, entry.height, entry.channels) = (image.width, image.height, image.channels)
            case let depth as DepthMap:
                entry.type = "depth"
                entry.sample = append(depth.values, to: &payload)
                (entry.width, entry.height, entry.channels) = (depth.width, depth.height, 1)
                (entry.kind, entry.quantity, entry.projection) = (depth.kind, depth.quantity, depth.projection)
            case let n as Int: (entry.type, entry.int) = ("int", n)
            case let n as Double: (entry.type, entry.number) = ("number", n)
            case let s as String: (entry.type, entry.string) = ("string", s)
            default:
                throw StageError("the value \"\(key)\" (\(type(of: value))) cannot be stored between the shards and --finalize", exitCode: 70)
            }
            entries.append(entry)
        }
        let header = Header(frame: .init(index: frame.index, position: frame.position, number: frame.number), values: entries)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var data = Data(magic.utf8)
        data.append(try encoder.encode(header))
        data.append(0x0A)
        data.append(payload)
        return data
    }

    static func decode(_ data: Data, path: String) throws -> (frame: FrameInfo, values: [(key: String, value: any Sendable)]) {
        func damaged(_ why: String) -> StageError { StageError("\(path): damaged frame record: \(why)", exitCode: 65) }
        let magicBytes = Data(magic.utf8)
        guard data.count > magicBytes.count, data.prefix(magicBytes.count) == magicBytes else { throw damaged("not a frame record") }
        guard let newline = data[magicBytes.count...].firstIndex(of: 0x0A) else { throw damaged("no header") }
        let header: Header
        do { header = try JSONDecoder().decode(Header.self, from: data[magicBytes.count..<newline]) } catch { throw damaged("unreadable header") }
        var offset = newline + 1
        var values: [(key: String, value: any Sendable)] = []
        for entry in header.values {
            switch entry.type {
            case "image", "depth":
                guard let w = entry.width, let h = entry.height, let c = entry.channels, w >= 0, h >= 0, c >= 1,
                      let sample = entry.sample, let bytes = ["u8": 1, "u16": 2, "f32": 4][sample] else { throw damaged("bad entry \(entry.key)") }
                let count = w * h * c
                guard data.count - offset >= count * bytes else { throw damaged("truncated at \(entry.key)") }
                let image = Image(width: w, height: h, channels: c, pixels: samples(data, at: offset, count: count, as: sample))
                offset += count * bytes
                if entry.type == "image" {
                    values.append((entry.key, image))
                } else {
                    guard c == 1, let kind = entry.kind else { throw damaged("bad depth entry \(entry.key)") }
                    values.append((entry.key, DepthMap(values: image, kind: kind, quantity: entry.quantity ?? .zDepth,
                                                       projection: entry.projection ?? .unknown)))
                }
            case "int": values.append((entry.key, entry.int ?? 0))
            case "number": values.append((entry.key, entry.number ?? 0))
            case "string": values.append((entry.key, entry.string ?? ""))
            default: throw damaged("unknown value type \"\(entry.type)\"")
            }
        }
        guard offset == data.count else { throw damaged("\(data.count - offset) bytes after the last value") }
        let f = header.frame
        return (FrameInfo(index: f.index, position: f.position, number: f.number), values)
    }

    /// The scale that decoders map 8- and 16-bit samples with (`Image(interleaved8:)`).
    private static let scale8: Float = 1 / 255, scale16: Float = 1 / 65535

    /// Appends the image's samples in the narrowest form that reads back exactly.
    private static func append(_ image: Image, to data: inout Data) -> String {
        let pixels = image.pixels
        func exact(_ maximum: Float, _ scale: Float) -> Bool {
            pixels.allSatisfy { v in
                let q = (v * maximum).rounded()
                return q.sign == .plus && q <= maximum && (q * scale).bitPattern == v.bitPattern
            }
        }
        if exact(255, scale8) {
            data.append(contentsOf: pixels.map { UInt8(($0 * 255).rounded()) })
            return "u8"
        }
        if exact(65535, scale16) {
            let words = pixels.map { UInt16(($0 * 65535).rounded()).littleEndian }
            words.withUnsafeBytes { data.append(contentsOf: $0) }
            return "u16"
        }
        let bits = pixels.map { $0.bitPattern.littleEndian }
        bits.withUnsafeBytes { data.append(contentsOf: $0) }
        return "f32"
    }

    private static func samples(_ data: Data, at offset: Int, count: Int, as sample: String) -> [Float] {
        data.withUnsafeBytes { raw in
            let base = raw.baseAddress! + (offset - data.startIndex)
            switch sample {
            case "u8":
                let bytes = base.assumingMemoryBound(to: UInt8.self)
                return (0..<count).map { Float(bytes[$0]) * scale8 }
            case "u16":
                return (0..<count).map { Float(UInt16(littleEndian: base.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self))) * scale16 }
            default:
                return (0..<count).map { Float(bitPattern: UInt32(littleEndian: base.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
            }
        }
    }
}

/// The map step's sink: one record per frame in the run's record folder, written under a
/// temporary name and renamed.
final class FrameRecordSink: FrameSink {
    let folder: URL

    init(folder: URL) { self.folder = folder }

    /// Records are named by input frame index, which the finalize step's source is asked for.
    static func url(in folder: URL, index: Int) -> URL { folder.appendingPathComponent(String(format: "%08d.record", index)) }

    func outputs(for frame: FrameInfo) -> [URL]? { [Self.url(in: folder, index: frame.index)] }

    func prepare() throws {
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw StageError("cannot create the record folder \(folder.path): \((error as NSError).localizedDescription)", exitCode: 73)
        }
        TemporaryName.removeAbandoned(in: folder)
    }

    func write(_ inputs: consuming PortValues, frame: FrameInfo) throws {
        let values = inputs.ports.sorted().map { (key: $0, value: inputs[$0]!) }
        let data = try FrameRecord.encode(values, frame: frame)
        let url = Self.url(in: folder, index: frame.index)
        let temporary = TemporaryName.next(to: url)
        do {
            try data.write(to: temporary)
        } catch {
            unlink(temporary.path)
            throw StageError("\(url.path): cannot write the frame record: \((error as NSError).localizedDescription)", exitCode: 73)
        }
        guard rename(temporary.path, url.path) == 0 else {
            let message = String(cString: strerror(errno))
            unlink(temporary.path)
            throw StageError("\(url.path): cannot write the frame record: \(message)", exitCode: 73)
        }
    }
}

/// The finalize step's source: each frame's values read back from its record.
final class FrameRecordSource: FrameSource {
    let folder: URL
    let frameCount: Int

    init(folder: URL, frameCount: Int) { (self.folder, self.frameCount) = (folder, frameCount) }

    var isRandomAccess: Bool { true }

    func read(_ index: Int) throws -> PortValues {
        let url = FrameRecordSink.url(in: folder, index: index)
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw StageError("\(url.path): the frame record is missing: rerun the shard that holds input frame \(index) with --resume", exitCode: 66)
        }
        let record = try FrameRecord.decode(data, path: url.path)
        guard record.frame.index == index else {
            throw StageError("\(url.path): holds input frame \(record.frame.index), not \(index)", exitCode: 65)
        }
        var values = PortValues()
        for (key, value) in record.values { values[key] = value }
        return values
    }
}
