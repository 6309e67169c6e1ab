import StrataCore

/// Six square faces F R B L U D of any channel count, optionally extended by the same
/// padding on every side (cube padding).
///
/// The faces are stored stacked top to bottom in one image, plane after plane, which is
/// the grid ``SampleGrid/cube(faceSize:padding:)`` reads, so sampling across faces needs
/// no copy.
public struct Cubemap: Sendable, Equatable {
    /// Pixels across a face, not counting padding.
    public let faceSize: Int
    /// Pixels added on every side of every face.
    public let padding: Int
    /// The faces stacked F R B L U D: `side` wide, `6 × side` high.
    public var stacked: Image

    /// Pixels across a stored face, padding included.
    public var side: Int { faceSize + 2 * padding }
    /// Planes per face.
    public var channels: Int { stacked.channels }

    /// A cubemap over faces stacked F R B L U D (each `faceSize + 2 × padding` square).
    public init(stacked: Image, faceSize: Int, padding: Int = 0) {
        precondition(faceSize > 0 && padding >= 0, "invalid cube face size \(faceSize), padding \(padding)")
        precondition(stacked.width == faceSize + 2 * padding && stacked.height == 6 * stacked.width,
                     "stacked faces are \(stacked.width)x\(stacked.height), expected \(faceSize + 2 * padding)x\(6 * (faceSize + 2 * padding))")
        (self.stacked, self.faceSize, self.padding) = (stacked, faceSize, padding)
    }

    /// A cubemap of six equal square faces in the order F R B L U D, each `faceSize + 2 ×
    /// padding` across.
    public init(faces: [Image], padding: Int = 0) throws {
        guard faces.count == 6 else { throw SphereError.faceCount(faces.count) }
        let first = faces[0]
        for (i, face) in faces.enumerated() where face.width != first.width || face.height != first.height
            || face.width != face.height || face.channels != first.channels {
            throw SphereError.faceMismatch(face: CubeFace(rawValue: i)!.letter,
                                           found: "\(face.width)x\(face.height)x\(face.channels)",
                                           expected: "\(first.width)x\(first.width)x\(first.channels)")
        }
        guard first.width > 2 * padding else {
            throw SphereError.invalid("faces of \(first.width) pixels cannot hold \(padding) pixels of padding on each side")
        }
        let side = first.width
        var stacked = Image(width: side, height: 6 * side, channels: first.channels)
        let facePlane = side * side
        for c in 0..<first.channels {
            for (f, face) in faces.enumerated() {
                let dst = (c * 6 + f) * facePlane
                stacked.pixels.replaceSubrange(dst..<(dst + facePlane), with: face.pixels[(c * facePlane)..<((c + 1) * facePlane)])
            }
        }
        self.init(stacked: stacked, faceSize: side - 2 * padding, padding: padding)
    }

    /// A cubemap from a dictionary keyed F R B L U D (py360convert's `dict` layout).
    public init(dictionary: [String: Image], padding: Int = 0) throws {
        let missing = CubeFace.allCases.map(\.letter).filter { dictionary[$0] == nil }
        guard missing.isEmpty else { throw SphereError.missingFaces(missing) }
        try self.init(faces: CubeFace.allCases.map { dictionary[$0.letter]! }, padding: padding)
    }

    /// One face, padding included.
    public func face(_ face: CubeFace) -> Image {
        let plane = side * side
        var out = Image(width: side, height: side, channels: channels)
        for c in 0..<channels {
            let src = (c * 6 + face.rawValue) * plane
            out.pixels.replaceSubrange((c * plane)..<((c + 1) * plane), with: stacked.pixels[src..<(src + plane)])
        }
        return out
    }

    /// The faces F R B L U D (py360convert's `list` layout).
    public var faces: [Image] { CubeFace.allCases.map { face($0) } }

    /// The faces keyed F R B L U D (py360convert's `dict` layout).
    public var dictionary: [String: Image] { Dictionary(uniqueKeysWithValues: CubeFace.allCases.map { ($0.letter, face($0)) }) }

    /// The faces without their padding.
    public var unpadded: Cubemap {
        guard padding > 0 else { return self }
        let n = faceSize, p = padding
        let image = Image(width: n, height: 6 * n, channels: channels) { c, y, x in
            self.stacked[c, (y / n) * self.side + y % n + p, x + p]
        }
        return Cubemap(stacked: image, faceSize: n, padding: 0)
    }
}

/// How cube faces are laid out in one image, as py360convert draws them.
public enum CubeLayout: String, Sendable, CaseIterable, Codable {
    /// A cross 4 faces wide and 3 high: U above F; L F R B across the middle; D below F.
    case dice
    /// The six faces side by side, F R B L U D.
    case horizon
    /// Six separate images F R B L U D.
    case list
    /// Six separate images keyed F R B L U D.
    case dict

    /// Where each face (F R B L U D) sits in a dice or horizon image, in face units.
    var cells: [(x: Int, y: Int)] {
        switch self {
        case .dice: return [(1, 1), (2, 1), (3, 1), (0, 1), (1, 0), (1, 2)]
        default: return (0..<6).map { ($0, 0) }
        }
    }

    /// Size of a dice or horizon image in face units.
    var grid: (columns: Int, rows: Int) { self == .dice ? (4, 3) : (6, 1) }
}

extension Cubemap {
    /// The faces (padding included) in one image laid out as dice or horizon; cells of a
    /// dice image that hold no face are `fill`.
    public func image(layout: CubeLayout, fill: Float = 0) -> Image {
        precondition(layout == .dice || layout == .horizon, "\(layout) is not a single-image layout")
        let (columns, rows) = layout.grid
        let s = side
        var out = Image(width: columns * s, height: rows * s, channels: channels, fill: fill)
        for (f, cell) in layout.cells.enumerated() {
            for c in 0..<channels {
                for y in 0..<s {
                    let src = (c * 6 * s + f * s + y) * s
                    let dst = (c * out.height + cell.y * s + y) * out.width + cell.x * s
                    out.pixels.replaceSubrange(dst..<(dst + s), with: stacked.pixels[src..<(src + s)])
                }
            }
        }
        return out
    }

    /// The cubemap in a dice or horizon image.
    public init(image: Image, layout: CubeLayout, padding: Int = 0) throws {
        guard layout == .dice || layout == .horizon else { throw SphereError.notSingleImage(layout.rawValue) }
        let (columns, rows) = layout.grid
        guard image.width % columns == 0, image.height % rows == 0, image.width / columns == image.height / rows, image.width > 0 else {
            throw SphereError.layoutSize(layout: layout.rawValue, width: image.width, height: image.height)
        }
        let s = image.width / columns
        guard s > 2 * padding else { throw SphereError.layoutSize(layout: layout.rawValue, width: image.width, height: image.height) }
        var stacked = Image(width: s, height: 6 * s, channels: image.channels)
        for (f, cell) in layout.cells.enumerated() {
            for c in 0..<image.channels {
                for y in 0..<s {
                    let src = (c * image.height + cell.y * s + y) * image.width + cell.x * s
                    let dst = (c * 6 * s + f * s + y) * s
                    stacked.pixels.replaceSubrange(dst..<(dst + s), with: image.pixels[src..<(src + s)])
                }
            }
        }
        self.init(stacked: stacked, faceSize: s - 2 * padding, padding: padding)
    }
}
