import Foundation
import StrataCore

/// Point clouds as PLY (binary little-endian, `x y z` as float and `red green blue` as
/// uchar per vertex), the layout MeshLab, CloudCompare, Open3D and Blender read.
public enum PLY {
    /// The bytes of a coloured point cloud: `points` in metres (or any unit), `colors` 0…1
    /// RGB, one per point.
    public static func encode(points: [SIMD3<Float>], colors: [SIMD3<Float>]) -> Data {
        precondition(points.count == colors.count, "\(points.count) points but \(colors.count) colours")
        var data = Data("""
        ply
        format binary_little_endian 1.0
        comment written by Strata
        element vertex \(points.count)
        property float x
        property float y
        property float z
        property uchar red
        property uchar green
        property uchar blue
        end_header

        """.utf8)
        var body = [UInt8](repeating: 0, count: points.count * 15)
        for (i, (p, c)) in zip(points, colors).enumerated() {
            let o = i * 15
            for (k, v) in [p.x, p.y, p.z].enumerated() {
                let bits = v.bitPattern.littleEndian
                for j in 0..<4 { body[o + 4 * k + j] = UInt8(truncatingIfNeeded: bits >> (8 * UInt32(j))) }
            }
            for (k, v) in [c.x, c.y, c.z].enumerated() { body[o + 12 + k] = UInt8((min(max(v.isNaN ? 0 : v, 0), 1) * 255).rounded()) }
        }
        data.append(contentsOf: body)
        return data
    }

    /// Writes a coloured point cloud atomically.
    public static func write(points: [SIMD3<Float>], colors: [SIMD3<Float>], to url: URL) throws {
        try AtomicFile.write(encode(points: points, colors: colors), to: url)
    }
}
