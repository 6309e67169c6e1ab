import Foundation
import StrataCore

extension PerspectiveView {
    /// How much longer the ray through pixel (x, y) is than its z component: ray distance
    /// = z-depth × this factor.
    @inlinable
    public func rayFactor(x: Int, y: Int) -> Double {
        let r = localRay(x: Double(x), y: Double(y))
        return (r * r).sum().squareRoot()
    }

    /// Distance along each pixel's ray from the z-depth of this view (NaN stays NaN).
    public func rayDistance(fromZDepth depth: Image) -> Image {
        precondition(depth.width == width && depth.height == height && depth.channels == 1, "a \(depth.width)x\(depth.height) depth map for a \(width)x\(height) view")
        return Image(width: width, height: height, channels: 1) { _, y, x in Float(Double(depth[0, y, x]) * rayFactor(x: x, y: y)) }
    }

    /// Z-depth of this view from distance along each pixel's ray (NaN stays NaN).
    public func zDepth(fromRayDistance depth: Image) -> Image {
        precondition(depth.width == width && depth.height == height && depth.channels == 1, "a \(depth.width)x\(depth.height) depth map for a \(width)x\(height) view")
        return Image(width: width, height: height, channels: 1) { _, y, x in Float(Double(depth[0, y, x]) / rayFactor(x: x, y: y)) }
    }

    /// The view as a pinhole projection for a depth map's metadata.
    public var projection: Projection { .pinhole(intrinsics) }
}

extension DepthMap {
    /// This map with distance along the ray, converting z-depth through `view` (a map that
    /// already holds ray distance is returned as it is).
    public func rayDistance(view: PerspectiveView) -> DepthMap {
        guard quantity == .zDepth else { return self }
        return DepthMap(values: view.rayDistance(fromZDepth: values), kind: kind, quantity: .rayDistance, projection: projection)
    }

    /// This map with z-depth of `view`, converting ray distance (a z-depth map is returned as it is).
    public func zDepth(view: PerspectiveView) -> DepthMap {
        guard quantity == .rayDistance else { return self }
        return DepthMap(values: view.zDepth(fromRayDistance: values), kind: kind, quantity: .zDepth, projection: view.projection)
    }
}

extension Equirect {
    /// The 3D point of every pixel of an equirect ray-distance map (camera at the origin,
    /// x right, y up, z at longitude 0), row after row; NaN depth gives a NaN point.
    public static func points(rayDistance depth: Image) -> [SIMD3<Float>] {
        precondition(depth.channels == 1, "a depth map has one channel, got \(depth.channels)")
        let (w, h) = (depth.width, depth.height)
        var points = [SIMD3<Float>](repeating: .zero, count: w * h)
        for y in 0..<h {
            for x in 0..<w {
                let d = direction(x: Double(x), y: Double(y), width: w, height: h)
                points[y * w + x] = SIMD3<Float>(d * Double(depth[0, y, x]))
            }
        }
        return points
    }
}
