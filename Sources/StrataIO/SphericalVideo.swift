import CFFmpeg

/// How a 360° video maps the sphere, as its container says (Google's spherical video
/// metadata: MP4 `sv3d`, Matroska `Projection`), read through FFmpeg's "Spherical Mapping".
public struct SphericalMapping: Sendable, Equatable, Codable {
    /// `equirectangular`, `cubemap`, or `equirectangular-tile` (a cropped equirect: `bounds`).
    public var projection: String
    /// The orientation of the projection, in degrees (yaw about up, pitch about right, roll about forward).
    public var yaw: Double
    public var pitch: Double
    public var roll: Double
    /// For a cropped equirect: the fractions of the full panorama cut from its left, top,
    /// right and bottom; all 0 for a full one.
    public var bounds: [Double]

    public init(projection: String = "equirectangular", yaw: Double = 0, pitch: Double = 0, roll: Double = 0,
                bounds: [Double] = [0, 0, 0, 0]) {
        (self.projection, self.yaw, self.pitch, self.roll, self.bounds) = (projection, yaw, pitch, roll, bounds)
    }

    /// Whether the frame is an equirect (full or cropped).
    public var isEquirect: Bool { projection == "equirectangular" || projection == "equirectangular-tile" }

    /// Whether the frame covers only part of the panorama.
    public var isCropped: Bool { bounds.contains { $0 > 0 } }

    static let names = [0: "equirectangular", 1: "cubemap", 2: "equirectangular-tile"]

    /// The stream's mapping, when it has one.
    init?(stream: UnsafePointer<AVStream>) {
        var projection: Int32 = 0
        var ypr = [Double](repeating: 0, count: 3), bounds = [Double](repeating: 0, count: 4)
        guard strata_stream_spherical(stream, &projection, &ypr, &bounds) == 1 else { return nil }
        self.init(projection: Self.names[Int(projection)] ?? "unknown (\(projection))", yaw: ypr[0], pitch: ypr[1], roll: ypr[2],
                  bounds: bounds)
    }

    /// Tags a stream being written.
    func attach(to stream: UnsafeMutablePointer<AVStream>) -> Int32 {
        let code = Self.names.first { $0.value == projection }?.key ?? 0
        let ypr = [yaw, pitch, roll]
        return strata_stream_set_spherical(stream, Int32(code), ypr, bounds)
    }
}

/// How a stereo video packs its two eyes in a frame (FFmpeg's "Stereo 3D" side data: MP4
/// `st3d`, Matroska `StereoMode`).
public struct StereoLayout: Sendable, Equatable, Codable {
    /// `mono`, `top-bottom`, `side-by-side`, or another of FFmpeg's packings (`frame-sequence`,
    /// `checkerboard`, `lines`, `columns`, `side-by-side-quincunx`).
    public var packing: String
    /// Whether the right eye comes first (bottom-top, right-left).
    public var inverted: Bool

    public init(packing: String, inverted: Bool = false) { (self.packing, self.inverted) = (packing, inverted) }

    static let names = [0: "mono", 1: "side-by-side", 2: "top-bottom", 3: "frame-sequence", 4: "checkerboard",
                        5: "side-by-side-quincunx", 6: "lines", 7: "columns"]

    init?(stream: UnsafePointer<AVStream>) {
        var type: Int32 = 0, flags: Int32 = 0
        guard strata_stream_stereo(stream, &type, &flags) == 1 else { return nil }
        self.init(packing: Self.names[Int(type)] ?? "unknown (\(type))", inverted: flags & Int32(AV_STEREO3D_FLAG_INVERT) != 0)
    }

    func attach(to stream: UnsafeMutablePointer<AVStream>) -> Int32 {
        strata_stream_set_stereo(stream, Int32(Self.names.first { $0.value == packing }?.key ?? 0), inverted ? Int32(AV_STEREO3D_FLAG_INVERT) : 0)
    }
}
