import StrataCore

/// The pixel grid a ``ResampleMap`` reads, and what lies beyond its edges, so taps that
/// cross an edge read what the sphere puts there instead of a border.
public enum SampleGrid: Hashable, Sendable {
    /// An equirect panorama: columns wrap round; a row above the top (below the bottom)
    /// continues over the pole, half a turn round.
    case equirect(width: Int, height: Int)
    /// A flat image: taps beyond the edge repeat it, and positions more than half a pixel
    /// outside have no source.
    case plane(width: Int, height: Int)
    /// Six square faces of `faceSize` pixels, each extended by `padding` pixels, stacked
    /// F R B L U D in one plane; taps beyond a face's padding continue on its neighbours.
    case cube(faceSize: Int, padding: Int)

    /// Samples in one source plane.
    var planeSize: Int {
        switch self {
        case .equirect(let w, let h), .plane(let w, let h): return w * h
        case .cube(let n, let p): return 6 * (n + 2 * p) * (n + 2 * p)
        }
    }

    /// Distance between rows in the source plane.
    var stride: Int {
        switch self {
        case .equirect(let w, _), .plane(let w, _): return w
        case .cube(let n, let p): return n + 2 * p
        }
    }

    /// The flat index of the tap (face, x, y) when a block of `k × k` taps from it stays on
    /// the grid's own rows (no wrap, no pole, no face change), else nil.
    @inline(__always)
    func directIndex(face: Int, x: Int, y: Int, k: Int) -> Int? {
        switch self {
        case .equirect(let w, let h), .plane(let w, let h):
            guard x >= 0, y >= 0, x + k <= w, y + k <= h else { return nil }
            return y * w + x
        case .cube(let n, let p):
            let side = n + 2 * p
            guard x >= -p, y >= -p, x + k <= n + p, y + k <= n + p else { return nil }
            return (face * side + y + p) * side + x + p
        }
    }

    /// The flat index the tap (face, x, y) reads, wherever it lies.
    func resolve(face: Int, x: Int, y: Int) -> Int {
        switch self {
        case .equirect(let w, let h):
            var (x, y) = (x, y)
            if y < 0 || y >= h {
                // Over the pole: the row mirrored, half a turn round.
                y = y < 0 ? min(h - 1, -1 - y) : max(0, 2 * h - 1 - y)
                x += w / 2
            }
            x %= w
            if x < 0 { x += w }
            return y * w + x
        case .plane(let w, let h):
            return min(max(y, 0), h - 1) * w + min(max(x, 0), w - 1)
        case .cube(let n, _):
            if let index = directIndex(face: face, x: x, y: y, k: 1) { return index }
            // Beyond this face's padding: follow the ray through the tap's centre on the
            // face's extended plane to the face it meets.
            let scale = 2 / Double(n)
            let d = CubeFace(rawValue: face)!.direction(a: (Double(x) + 0.5) * scale - 1, b: (Double(y) + 0.5) * scale - 1)
            let (other, a, b) = CubeFace.locate(d)
            let ix = min(max(Int(((a + 1) / scale - 0.5).rounded()), 0), n - 1)
            let iy = min(max(Int(((b + 1) / scale - 0.5).rounded()), 0), n - 1)
            return directIndex(face: other.rawValue, x: ix, y: iy, k: 1)!
        }
    }

    /// Whether a sample position has a source at all (only a plane's outside has none).
    func covers(x: Double, y: Double) -> Bool {
        if case .plane(let w, let h) = self {
            return x >= -0.5 && y >= -0.5 && x <= Double(w) - 0.5 && y <= Double(h) - 0.5
        }
        return true
    }
}

/// Where one output pixel samples a ``SampleGrid``: a face (0 except on a cube) and a
/// sample position in that face's own pixels (the centre of pixel i at i).
public struct SamplePosition: Sendable {
    public var face: Int
    public var x: Double
    public var y: Double

    /// A position on face `face` (0 for an equirect or a plane).
    @inlinable
    public init(face: Int = 0, x: Double, y: Double) { (self.face, self.x, self.y) = (face, x, y) }
}
