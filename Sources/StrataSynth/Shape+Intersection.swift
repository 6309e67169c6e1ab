import Foundation
import StrataCore

/// The nearest intersection of a ray with a surface.
struct Hit {
    var distance: Double
    var normal: Vector3
}

extension Shape {
    /// The nearest hit along `origin + t·direction` with t > `near`, or nil.
    func intersect(origin: Vector3, direction: Vector3, near: Double = 1e-9) -> Hit? {
        switch self {
        case .plane(let point, let normal):
            let n = normalize(normal)
            let denominator = dot(n, direction)
            guard abs(denominator) > 1e-12 else { return nil }
            let t = dot(point - origin, n) / denominator
            return t > near ? Hit(distance: t, normal: denominator < 0 ? n : -n) : nil
        case .sphere(let center, let radius):
            let oc = origin - center
            let b = dot(oc, direction)
            let c = dot(oc, oc) - radius * radius
            let discriminant = b * b - c
            guard discriminant >= 0 else { return nil }
            let root = discriminant.squareRoot()
            for t in [-b - root, -b + root] where t > near {
                return Hit(distance: t, normal: normalize(origin + direction * t - center))
            }
            return nil
        case .box(let lower, let upper, let yaw):
            // Intersect in the box's own frame, turned back by its yaw about the centre.
            let center = (lower + upper) / 2
            let turn = Rotation(yaw: yaw)
            let o = turn.applyInverse(origin - center), d = turn.applyInverse(direction)
            let half = (upper - lower) / 2
            var tNear = -Double.infinity, tFar = Double.infinity
            var nearAxis = 0, nearSign = 1.0
            for axis in 0..<3 {
                if abs(d[axis]) < 1e-15 {
                    if abs(o[axis]) > half[axis] { return nil }
                    continue
                }
                var t1 = (-half[axis] - o[axis]) / d[axis], t2 = (half[axis] - o[axis]) / d[axis]
                var sign = -1.0
                if t1 > t2 { swap(&t1, &t2); sign = 1 }
                if t1 > tNear { tNear = t1; nearAxis = axis; nearSign = sign }
                tFar = min(tFar, t2)
                if tNear > tFar { return nil }
            }
            guard tNear > near else { return nil }  // cameras are never inside boxes
            var local = Vector3.zero
            local[nearAxis] = nearSign
            return Hit(distance: tNear, normal: turn.apply(local))
        case .cylinder(let base, let radius, let height):
            var best: Hit?
            // Side: (x − bx)² + (z − bz)² = r², with y inside the height.
            let ox = origin.x - base.x, oz = origin.z - base.z
            let a = direction.x * direction.x + direction.z * direction.z
            if a > 1e-15 {
                let b = ox * direction.x + oz * direction.z
                let c = ox * ox + oz * oz - radius * radius
                let discriminant = b * b - a * c
                if discriminant >= 0 {
                    let root = discriminant.squareRoot()
                    for t in [(-b - root) / a, (-b + root) / a] where t > near {
                        let y = origin.y + t * direction.y - base.y
                        if y >= 0 && y <= height {
                            let p = origin + direction * t
                            best = Hit(distance: t, normal: normalize(Vector3(p.x - base.x, 0, p.z - base.z)))
                            break
                        }
                    }
                }
            }
            // Caps.
            if abs(direction.y) > 1e-15 {
                for (capY, normalY) in [(base.y, -1.0), (base.y + height, 1.0)] {
                    let t = (capY - origin.y) / direction.y
                    guard t > near, t < (best?.distance ?? .infinity) else { continue }
                    let p = origin + direction * t
                    let dx = p.x - base.x, dz = p.z - base.z
                    if dx * dx + dz * dz <= radius * radius { best = Hit(distance: t, normal: Vector3(0, normalY, 0)) }
                }
            }
            return best
        }
    }
}

extension Texture {
    /// The colour at world position `p`.
    func color(at p: Vector3) -> Vector3 {
        switch self {
        case .solid(let c):
            return c
        case .checker(let size, let a, let b):
            let cell = Int((p.x / size).rounded(.down)) + Int((p.y / size).rounded(.down)) + Int((p.z / size).rounded(.down))
            return cell & 1 == 0 ? a : b
        case .stripes(let width, let axis, let a, let b):
            return Int((p[axis] / width).rounded(.down)) & 1 == 0 ? a : b
        case .gradient(let axis, let start, let end, let a, let b):
            let t = min(max((p[axis] - start) / (end - start), 0), 1)
            return a + (b - a) * t
        case .noise(let scale, let a, let b):
            let t = ValueNoise.fractal(p / scale)
            return a + (b - a) * t
        case .bricks(let width, let height, let mortar, let normalAxis, let brick, let mortarColor):
            let (u, v) = normalAxis == 0 ? (p.z, p.y) : (normalAxis == 1 ? (p.x, p.z) : (p.x, p.y))
            let row = (v / height).rounded(.down)
            let shifted = u / width + (Int(row) & 1 == 0 ? 0 : 0.5)
            let fu = (shifted - shifted.rounded(.down)) * width, fv = (v / height - row) * height
            return fu < mortar || fv < mortar ? mortarColor : brick
        }
    }
}

/// Deterministic value noise (hash of the lattice, smooth interpolation), 0…1.
enum ValueNoise {
    static func hash(_ x: Int, _ y: Int, _ z: Int) -> Double {
        var h = UInt64(bitPattern: Int64(x &* 73_856_093 ^ y &* 19_349_663 ^ z &* 83_492_791))
        h = (h ^ (h >> 33)) &* 0xFF51_AFD7_ED55_8CCD
        h = (h ^ (h >> 33)) &* 0xC4CE_B9FE_1A85_EC53
        return Double((h ^ (h >> 33)) >> 11) / Double(1 << 53)
    }

    static func value(_ p: Vector3) -> Double {
        let base = Vector3(p.x.rounded(.down), p.y.rounded(.down), p.z.rounded(.down))
        let f = p - base
        let s = f * f * (Vector3(3, 3, 3) - 2 * f)
        let (ix, iy, iz) = (Int(base.x), Int(base.y), Int(base.z))
        func lerp(_ a: Double, _ b: Double, _ t: Double) -> Double { a + (b - a) * t }
        var corners = [Double]()
        for dz in 0...1 { for dy in 0...1 { for dx in 0...1 { corners.append(hash(ix + dx, iy + dy, iz + dz)) } } }
        let x00 = lerp(corners[0], corners[1], s.x), x10 = lerp(corners[2], corners[3], s.x)
        let x01 = lerp(corners[4], corners[5], s.x), x11 = lerp(corners[6], corners[7], s.x)
        return lerp(lerp(x00, x10, s.y), lerp(x01, x11, s.y), s.z)
    }

    /// Three octaves, normalised to 0…1.
    static func fractal(_ p: Vector3) -> Double {
        (value(p) * 4 + value(p * 2.03) * 2 + value(p * 4.01)) / 7
    }
}
