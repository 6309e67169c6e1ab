import Foundation
import StrataCore

/// Point clouds as PLY (binary little-endian, `x y z` as float and `red green blue` as
/// uchar per vertex), the layout MeshLab, CloudCompare, Open3D and Blender read.
public enum PLY {
    /// The bytes of a coloured point cloud: `points` in metres (or any unit), `colors` 0…1
    /// RGB, one per point.
    public static func encode(points: [SIMD3<Float>], colors: [SIMD3<Float>]) -> Data {
        precondition(points.count == colors.count, "\(points.count) points but \(colors.count) colours")
        var data = header(vertices: points.count, alpha: false, faces: nil)
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

    /// The header: coloured vertices (with alpha when asked), then triangles when counted.
    static func header(vertices: Int, alpha: Bool, faces: Int?) -> Data {
        var text = "ply\nformat binary_little_endian 1.0\ncomment written by Strata\nelement vertex \(vertices)\n"
        for axis in ["x", "y", "z"] { text += "property float \(axis)\n" }
        for channel in ["red", "green", "blue"] + (alpha ? ["alpha"] : []) { text += "property uchar \(channel)\n" }
        if let faces { text += "element face \(faces)\nproperty list uchar int vertex_indices\n" }
        return Data((text + "end_header\n").utf8)
    }

    /// Writes a coloured point cloud atomically.
    public static func write(points: [SIMD3<Float>], colors: [SIMD3<Float>], to url: URL) throws {
        try AtomicFile.write(encode(points: points, colors: colors), to: url)
    }

    /// The bytes of a triangle mesh with vertex colours: `x y z` float, `red green blue
    /// alpha` uchar per vertex, and triangles as `vertex_indices` lists (uchar count, int
    /// indices), the layout MeshLab, Blender and Open3D read.
    public static func encode(vertices: [SIMD3<Float>], colors: [SIMD4<Float>], triangles: [SIMD3<UInt32>]) -> Data {
        precondition(vertices.count == colors.count, "\(vertices.count) vertices but \(colors.count) colours")
        var data = header(vertices: vertices.count, alpha: true, faces: triangles.count)
        var body = [UInt8](repeating: 0, count: vertices.count * 16 + triangles.count * 13)
        func put32(_ v: UInt32, _ o: Int) { for j in 0..<4 { body[o + j] = UInt8(truncatingIfNeeded: v >> (8 * UInt32(j))) } }
        for (i, (p, c)) in zip(vertices, colors).enumerated() {
            let o = i * 16
            put32(p.x.bitPattern, o); put32(p.y.bitPattern, o + 4); put32(p.z.bitPattern, o + 8)
            for (k, v) in [c.x, c.y, c.z, c.w].enumerated() { body[o + 12 + k] = UInt8((min(max(v.isNaN ? 0 : v, 0), 1) * 255).rounded()) }
        }
        let start = vertices.count * 16
        for (t, triangle) in triangles.enumerated() {
            let o = start + t * 13
            body[o] = 3
            put32(triangle.x, o + 1); put32(triangle.y, o + 5); put32(triangle.z, o + 9)
        }
        data.append(contentsOf: body)
        return data
    }

    /// Writes a triangle mesh atomically.
    public static func write(vertices: [SIMD3<Float>], colors: [SIMD4<Float>], triangles: [SIMD3<UInt32>], to url: URL) throws {
        try AtomicFile.write(encode(vertices: vertices, colors: colors, triangles: triangles), to: url)
    }
}
