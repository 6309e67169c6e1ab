import Foundation

/// What the numbers of a depth map mean.
public enum DepthKind: String, Sendable, Codable, CaseIterable {
    /// Metres.
    case metric
    /// Proportional to depth up to an unknown scale (and possibly shift).
    case relative
    /// Proportional to 1/depth up to scale and shift: what MiDaS and Depth Anything output.
    case inverseRelative = "inverse-relative"
}

/// Which distance a depth value measures.
public enum DepthQuantity: String, Sendable, Codable, CaseIterable {
    /// Distance along the optical axis: perspective images.
    case zDepth = "z-depth"
    /// Distance from the camera centre along the pixel's ray: spherical images.
    case rayDistance = "ray-distance"
}

/// Pinhole camera intrinsics in pixels, for an image of the given size.
public struct PinholeIntrinsics: Sendable, Codable, Hashable {
    public var fx: Double, fy: Double, cx: Double, cy: Double
    public var width: Int, height: Int

    /// Intrinsics from focal lengths and principal point.
    public init(fx: Double, fy: Double, cx: Double, cy: Double, width: Int, height: Int) {
        (self.fx, self.fy, self.cx, self.cy, self.width, self.height) = (fx, fy, cx, cy, width, height)
    }

    /// Intrinsics of a centred camera with the given horizontal field of view in degrees.
    public init(horizontalFOV degrees: Double, width: Int, height: Int) {
        let f = Double(width) / 2 / tan(degrees * .pi / 360)
        self.init(fx: f, fy: f, cx: Double(width) / 2, cy: Double(height) / 2, width: width, height: height)
    }
}

/// How a map's pixels relate to directions from the camera.
public enum Projection: Sendable, Equatable, Codable {
    /// A perspective image.
    case pinhole(PinholeIntrinsics)
    /// A 360° equirectangular image (py360convert's conventions).
    case equirectangular
    /// One face of a cubemap, named F, R, B, L, U or D.
    case cubeFace(String)
    /// Not known.
    case unknown

    private enum CodingKeys: String, CodingKey { case type, intrinsics, face }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let type = try c.decode(String.self, forKey: .type)
        switch type {
        case "pinhole": self = .pinhole(try c.decode(PinholeIntrinsics.self, forKey: .intrinsics))
        case "equirectangular": self = .equirectangular
        case "cubeFace": self = .cubeFace(try c.decode(String.self, forKey: .face))
        case "unknown": self = .unknown
        default:
            throw DecodingError.dataCorruptedError(forKey: .type, in: c,
                debugDescription: "unknown projection \"\(type)\" (expected pinhole, equirectangular, cubeFace or unknown)")
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .pinhole(let k): try c.encode("pinhole", forKey: .type); try c.encode(k, forKey: .intrinsics)
        case .equirectangular: try c.encode("equirectangular", forKey: .type)
        case .cubeFace(let f): try c.encode("cubeFace", forKey: .type); try c.encode(f, forKey: .face)
        case .unknown: try c.encode("unknown", forKey: .type)
        }
    }
}

/// A single-channel map of depth values plus what they mean. Invalid pixels are NaN.
public struct DepthMap: Sendable, Equatable {
    /// The values, one channel.
    public var values: Image
    public var kind: DepthKind
    public var quantity: DepthQuantity
    public var projection: Projection

    /// A depth map over a one-channel image.
    public init(values: Image, kind: DepthKind, quantity: DepthQuantity = .zDepth, projection: Projection = .unknown) {
        precondition(values.channels == 1, "a depth map has one channel, not \(values.channels)")
        self.values = values
        self.kind = kind
        self.quantity = quantity
        self.projection = projection
    }

    public var width: Int { values.width }
    public var height: Int { values.height }

    /// The value at row `y`, column `x` (NaN when invalid).
    public subscript(y: Int, x: Int) -> Float {
        get { values[0, y, x] }
        set { values[0, y, x] = newValue }
    }

    /// Smallest and largest finite values, or nil when no pixel is valid.
    public func validRange() -> ClosedRange<Float>? {
        var lo = Float.infinity, hi = -Float.infinity
        for v in values.pixels where v.isFinite {
            lo = min(lo, v)
            hi = max(hi, v)
        }
        return lo <= hi ? lo...hi : nil
    }

    /// Pixels holding a finite value.
    public var validCount: Int { values.pixels.reduce(0) { $0 + ($1.isFinite ? 1 : 0) } }
}
