import Foundation
import StrataCore

/// How depth values are stored in files.
public enum DepthEncoding: String, Sendable, Codable, CaseIterable {
    /// 16-bit PNG holding round(depth × scale); 0 = invalid.
    case png16
    /// 16-bit PNG holding 1…65535 spread linearly over `range`; 0 = invalid.
    case png16Normalized = "png16-normalized"
    /// Float32 PFM; invalid pixels are 0 in the file (NaN in memory) unless stored as NaN.
    case pfm
    /// Float32 NPY, same invalid convention.
    case npy
}

/// Integer scales of 16-bit depth PNGs in common use.
public enum DepthScale: Sendable, Equatable {
    /// Millimetres (× 1000): Strata's default, as most RGB-D sensors store.
    case millimetres
    /// KITTI's × 256.
    case kitti
    /// TUM RGB-D's × 5000.
    case tum
    /// Any other factor from metres to stored units.
    case custom(Double)

    /// Stored units per metre.
    public var factor: Double {
        switch self {
        case .millimetres: return 1000
        case .kitti: return 256
        case .tum: return 5000
        case .custom(let f): return f
        }
    }

    /// A preset by name (`mm`, `kitti`, `tum`) or a number.
    public init?(name: String) {
        switch name.lowercased() {
        case "mm", "millimetres", "millimeters", "1000": self = .millimetres
        case "kitti", "256": self = .kitti
        case "tum", "5000": self = .tum
        default:
            guard let f = Double(name), f > 0, f.isFinite else { return nil }
            self = .custom(f)
        }
    }
}

/// The `depth.json` written beside depth files: what the stored numbers mean.
public struct DepthSidecar: Sendable, Codable, Equatable {
    /// The sidecar's file name.
    public static let fileName = "depth.json"

    public var version: Int = 1
    public var kind: DepthKind
    public var quantity: DepthQuantity
    public var encoding: DepthEncoding
    /// Stored units per unit of depth (`png16` only).
    public var scale: Double?
    /// The stored value that marks an invalid pixel.
    public var invalidValue: Double
    /// The depth range that `png16-normalized` values 1…65535 span.
    public var range: [Double]?
    public var projection: Projection
    /// Intrinsics repeated at the top level for tools that read only that.
    public var intrinsics: PinholeIntrinsics?

    public init(kind: DepthKind, quantity: DepthQuantity, encoding: DepthEncoding, scale: Double? = nil,
                invalidValue: Double = 0, range: [Double]? = nil, projection: Projection) {
        self.kind = kind
        self.quantity = quantity
        self.encoding = encoding
        self.scale = scale
        self.invalidValue = invalidValue
        self.range = range
        self.projection = projection
        if case .pinhole(let k) = projection { intrinsics = k }
    }

    /// Writes the sidecar into `folder`, atomically.
    public func write(toFolder folder: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let url = folder.appendingPathComponent(DepthSidecar.fileName)
        let data: Data
        do { data = try encoder.encode(self) } catch {
            throw MediaError(path: url.path, .unsupported("cannot encode the sidecar: \(error)"))
        }
        try AtomicFile.write(data, to: url)
    }

    /// Reads `depth.json` from `folder`, or nil when there is none.
    public static func read(inFolder folder: URL) throws -> DepthSidecar? {
        let url = folder.appendingPathComponent(fileName)
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        let data = try FileAccess.read(url)
        do {
            return try JSONDecoder().decode(DepthSidecar.self, from: data)
        } catch {
            throw MediaError(path: url.path, .corrupt("not a valid depth sidecar: \(error)"))
        }
    }
}
