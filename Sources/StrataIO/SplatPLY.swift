import Foundation
import StrataCore

/// 3D Gaussian splats as PLY in the attribute layout of the 3DGS reference code, which
/// splat viewers and editors read (SuperSplat, the INRIA viewer, gsplat): binary
/// little-endian floats `x y z`, `f_dc_0..2` (degree-0 spherical harmonics), `opacity` as a
/// logit, `scale_0..2` as logs, `rot_0..3` (a unit quaternion, w first).
public enum SplatPLY {
    /// One splat.
    public struct Splat: Sendable, Equatable {
        public var position: SIMD3<Float>
        /// RGB 0…1.
        public var color: SIMD3<Float>
        /// 0…1.
        public var opacity: Float
        /// Standard deviations along the splat's own axes.
        public var scale: SIMD3<Float>
        /// Rotation from the splat's axes to the world, (w, x, y, z).
        public var rotation: SIMD4<Float>

        public init(position: SIMD3<Float>, color: SIMD3<Float>, opacity: Float, scale: SIMD3<Float>, rotation: SIMD4<Float>) {
            (self.position, self.color, self.opacity, self.scale, self.rotation) = (position, color, opacity, scale, rotation)
        }
    }

    /// The degree-0 spherical-harmonic constant: colour = 0.5 + C0 · f_dc.
    public static let c0: Float = 0.28209479177387814

    public static let properties = ["x", "y", "z", "f_dc_0", "f_dc_1", "f_dc_2", "opacity", "scale_0", "scale_1", "scale_2",
                                    "rot_0", "rot_1", "rot_2", "rot_3"]

    public static func encode(_ splats: [Splat]) -> Data {
        var data = Data("ply\nformat binary_little_endian 1.0\ncomment written by Strata\nelement vertex \(splats.count)\n".utf8)
        for name in properties { data.append(contentsOf: Array("property float \(name)\n".utf8)) }
        data.append(contentsOf: Array("end_header\n".utf8))
        var body = [Float]()
        body.reserveCapacity(splats.count * properties.count)
        for s in splats {
            let a = min(max(s.opacity, 1e-4), 1 - 1e-4)
            body += [s.position.x, s.position.y, s.position.z,
                     (s.color.x - 0.5) / c0, (s.color.y - 0.5) / c0, (s.color.z - 0.5) / c0,
                     log(a / (1 - a)), log(max(s.scale.x, 1e-12)), log(max(s.scale.y, 1e-12)), log(max(s.scale.z, 1e-12)),
                     s.rotation[0], s.rotation[1], s.rotation[2], s.rotation[3]]
        }
        body.withUnsafeBytes { raw in
            // Floats are little-endian on every platform Strata builds for; say so if not.
            precondition(1.littleEndian == 1, "big-endian hosts would need swapping")
            data.append(contentsOf: raw)
        }
        return data
    }

    public static func write(_ splats: [Splat], to url: URL) throws { try AtomicFile.write(encode(splats), to: url) }
}
