import Foundation
import StrataCore
import StrataSphere

/// A perspective view flattened for loops over every direction of the sphere (the
/// alignment's correspondences, the merge's pixels): rotation rows and intrinsics as plain
/// numbers, and the cone its image spans, so most views are skipped with one dot product.
struct ViewGeometry: Sendable {
    /// The rotation's rows: a world direction d is `rows.0 · d.x + rows.1 · d.y + rows.2 · d.z` in the view.
    let rows: (Vector3, Vector3, Vector3)
    /// The view's axis in the world, and the cosine of the widest angle its image reaches (its corners).
    let axis: Vector3
    let cosReach: Double
    let fx, fy, cx, cy: Double
    let width, height: Int

    init(_ view: PerspectiveView) {
        let r = view.rotation.rows, k = view.intrinsics
        let corner = view.localRay(x: -0.5, y: -0.5), far = view.localRay(x: Double(view.width) - 0.5, y: Double(view.height) - 0.5)
        let reach = max(corner.x * corner.x + corner.y * corner.y, far.x * far.x + far.y * far.y).squareRoot()
        (rows, axis, cosReach) = ((r[0], r[1], r[2]), view.rotation.apply(Vector3(0, 0, 1)), cos(atan(reach)) - 1e-9)
        (fx, fy, cx, cy, width, height) = (k.fx, k.fy, k.cx, k.cy, view.width, view.height)
    }

    /// Whether direction `d` may fall on the image (false: it certainly does not).
    @inline(__always)
    func mayContain(_ d: Vector3) -> Bool { axis.x * d.x + axis.y * d.y + axis.z * d.z >= cosReach }

    /// Where direction `d` meets the image plane: the sample position (pixel centres at
    /// integers) and the ray's slopes x/z and y/z; nil behind the view.
    @inline(__always)
    func project(_ d: Vector3) -> (x: Double, y: Double, rx: Double, ry: Double)? {
        let local = rows.0 * d.x + rows.1 * d.y + rows.2 * d.z
        guard local.z > 0 else { return nil }
        let (rx, ry) = (local.x / local.z, local.y / local.z)
        return (rx * fx + cx - 0.5, -ry * fy + cy - 0.5, rx, ry)
    }

    /// The bilinear value of a width × height plane at (x, y), positions clamped to the
    /// pixel centres; NaN when a tap is.
    @inline(__always)
    func bilinear(_ p: [Float], _ x: Double, _ y: Double) -> Double {
        let x = min(max(x, 0), Double(width - 1)), y = min(max(y, 0), Double(height - 1))
        let (x0, y0) = (Int(x), Int(y))
        let (x1, y1) = (min(x0 + 1, width - 1), min(y0 + 1, height - 1))
        let (fx, fy) = (x - Double(x0), y - Double(y0))
        let top = Double(p[y0 * width + x0]) * (1 - fx) + Double(p[y0 * width + x1]) * fx
        let bottom = Double(p[y1 * width + x0]) * (1 - fx) + Double(p[y1 * width + x1]) * fx
        return top * (1 - fy) + bottom * fy
    }
}

/// The unit directions of an equirect's pixel centres (``Equirect/direction(x:y:width:height:)``)
/// from tables of the columns' and rows' sines and cosines: four multiplies a pixel
/// instead of four trigonometric calls.
struct EquirectDirections: Sendable {
    private let sinLon: [Double], cosLon: [Double], sinLat: [Double], cosLat: [Double]

    init(width: Int, height: Int) {
        let longitudes = (0..<width).map { ((Double($0) + 0.5) / Double(width) - 0.5) * 2 * Double.pi }
        let latitudes = (0..<height).map { (0.5 - (Double($0) + 0.5) / Double(height)) * Double.pi }
        (sinLon, cosLon, sinLat, cosLat) = (longitudes.map(sin), longitudes.map(cos), latitudes.map(sin), latitudes.map(cos))
    }

    @inline(__always)
    func callAsFunction(x: Int, y: Int) -> Vector3 { Vector3(cosLat[y] * sinLon[x], sinLat[y], cosLat[y] * cosLon[x]) }
}
