import Foundation
import StrataCore

/// A static (Eulerian) motion field over an image, pixels per frame, on a staggered grid
/// as fluid solvers hold it: `u` on the faces between a pixel and the one to its right,
/// `v` on the faces between a pixel and the one below. A face is open when the fluid is
/// on both sides of it; closed faces carry no flow, so the fluid stays in its mask and
/// still at its anchors, and the divergence of a cell is exact: what leaves through its
/// four faces.
public struct MotionField: Sendable, Equatable {
    public let width: Int
    public let height: Int
    /// Whether the rows wrap (a panorama): the last column's right face meets the first column.
    public let wrap: Bool
    /// Per pixel, the flow through its right face (x + ½), pixels per frame, positive rightwards.
    public var u: [Float]
    /// Per pixel, the flow through its lower face (y + ½), pixels per frame, positive downwards.
    public var v: [Float]
    /// Per pixel, whether its right and lower faces are open.
    public var openRight: [Bool]
    public var openDown: [Bool]

    /// Arrows densified over the fluid by a normalised Gaussian RBF (SLR-SFS, Fan et al.
    /// 2023): at each face the arrows' velocities weighted by exp(−d²/2σ²), divided by the
    /// weights' sum, so one arrow alone sets the whole fluid moving its way and several blend
    /// by distance. σ is each arrow's radius, or `sigma`, or by default the image height over
    /// the number of arrows. Zero on faces with non-fluid on either side, and on the faces of
    /// an anchor's pixel, rising back over its radius.
    ///
    /// With `distance` (per pixel, from the camera), the motion is 2.5D: each arrow's speed
    /// holds at the distance of its start, and elsewhere scales with the inverse distance,
    /// so far water moves fewer pixels a frame than near water at the same true speed.
    ///
    /// - Parameters:
    ///   - fluid: per pixel, whether it is fluid.
    /// - Throws: ``FluidError`` for no fluid, no arrows, an arrow of zero length, or an
    ///   arrow starting where the distance is not positive.
    public static func densify(_ hints: [MotionHint], anchors: [MotionAnchor] = [], fluid: [Bool], width: Int, height: Int,
                               sigma: Double? = nil, wrap: Bool = false, distance: [Float]? = nil) throws -> MotionField {
        precondition(fluid.count == width * height)
        guard fluid.contains(true) else { throw FluidError("the fluid mask is empty: nothing would move") }
        guard !hints.isEmpty else { throw FluidError("no motion hint: give at least one arrow") }
        var velocities: [SIMD2<Double>] = []
        for (k, hint) in hints.enumerated() {
            guard let velocity = hint.velocity else {
                throw FluidError("hint \(k + 1) (\(hint.start.x), \(hint.start.y)) → (\(hint.end.x), \(hint.end.y)) has zero length: its direction is unknown")
            }
            if let distance {
                // The arrow's velocity times its start's distance: divided by the distance
                // at each face below, it gives back the arrow's own speed at its start.
                let (x, y) = (min(max(Int(hint.start.x.rounded()), 0), width - 1), min(max(Int(hint.start.y.rounded()), 0), height - 1))
                let d = Double(distance[y * width + x])
                guard d > 0, d.isFinite else {
                    throw FluidError("hint \(k + 1) starts at (\(hint.start.x), \(hint.start.y)), where the depth is \(d): a positive distance is needed")
                }
                velocities.append(velocity * d)
            } else {
                velocities.append(velocity)
            }
        }
        /// 1 / the distance at the face between pixels i and j (1 without depth; the nearer
        /// valid side where one is not).
        func inverseDistance(_ i: Int, _ j: Int) -> Double {
            guard let distance else { return 1 }
            let valid = [distance[i], distance[j]].filter { $0 > 0 && $0.isFinite }
            return valid.isEmpty ? 0 : Double(valid.count) / Double(valid.reduce(0, +))
        }
        let common = sigma ?? Double(height) / Double(hints.count)
        let inverseTwoSigmaSquared = hints.map { 1 / (2 * ($0.radius ?? common) * ($0.radius ?? common)) }
        var field = MotionField(width: width, height: height, wrap: wrap)
        // Rows in parallel: each face is written by its own pixel's row only.
        field.u.withUnsafeMutableBufferPointer { u in field.v.withUnsafeMutableBufferPointer { v in
            field.openRight.withUnsafeMutableBufferPointer { openRight in field.openDown.withUnsafeMutableBufferPointer { openDown in
                let faces = UncheckedSendable((u.baseAddress!, v.baseAddress!, openRight.baseAddress!, openDown.baseAddress!))
                Parallel.forEachBand(height) { rows in
                    let (u, v, openRight, openDown) = faces.value
                    for y in rows {
                        for x in 0..<width {
                            let i = y * width + x
                            guard fluid[i] else { continue }
                            let right = x + 1 < width ? i + 1 : (wrap ? y * width : -1)
                            if right >= 0, fluid[right] {
                                openRight[i] = true
                                u[i] = Float(Self.blend(at: SIMD2(Double(x) + 0.5, Double(y)), hints, velocities, inverseTwoSigmaSquared, anchors,
                                                        width: width, wrap: wrap).x * inverseDistance(i, right))
                            }
                            if y + 1 < height, fluid[i + width] {
                                openDown[i] = true
                                v[i] = Float(Self.blend(at: SIMD2(Double(x), Double(y) + 0.5), hints, velocities, inverseTwoSigmaSquared, anchors,
                                                        width: width, wrap: wrap).y * inverseDistance(i, i + width))
                            }
                        }
                    }
                }
            } }
        } }
        // An anchor's pixel is a wall: none of its faces carries flow.
        for anchor in anchors {
            let (x, y) = (Int(anchor.position.x.rounded()), Int(anchor.position.y.rounded()))
            guard x >= 0, x < width, y >= 0, y < height else { continue }
            field.close(x: x, y: y)
        }
        return field
    }

    /// An empty field: every face closed.
    public init(width: Int, height: Int, wrap: Bool) {
        (self.width, self.height, self.wrap) = (width, height, wrap)
        u = [Float](repeating: 0, count: width * height)
        v = u
        openRight = [Bool](repeating: false, count: width * height)
        openDown = openRight
    }

    /// Closes the four faces of pixel (x, y).
    mutating func close(x: Int, y: Int) {
        let i = y * width + x
        (openRight[i], u[i], openDown[i], v[i]) = (false, 0, false, 0)
        let left = x > 0 ? i - 1 : (wrap ? i + width - 1 : -1)
        if left >= 0 { (openRight[left], u[left]) = (false, 0) }
        if y > 0 { (openDown[i - width], v[i - width]) = (false, 0) }
    }

    /// The arrows' normalised RBF blend at `p`, times the anchors' fall-off. Weights are
    /// taken relative to the nearest arrow's, so far from every arrow the blend tends to the
    /// nearest one's velocity instead of 0/0.
    static func blend(at p: SIMD2<Double>, _ hints: [MotionHint], _ velocities: [SIMD2<Double>], _ inverseTwoSigmaSquared: [Double],
                      _ anchors: [MotionAnchor], width: Int, wrap: Bool) -> SIMD2<Double> {
        func squaredDistance(_ q: SIMD2<Double>) -> Double {
            var d = p - q
            if wrap { d.x = d.x - (d.x / Double(width)).rounded() * Double(width) }
            return (d * d).sum()
        }
        // Two passes instead of an array of exponents: this runs twice per fluid pixel.
        var nearest = Double.infinity
        for k in hints.indices { nearest = min(nearest, squaredDistance(hints[k].start) * inverseTwoSigmaSquared[k]) }
        var sum = SIMD2<Double>.zero, total = 0.0
        for k in hints.indices {
            let w = exp(nearest - squaredDistance(hints[k].start) * inverseTwoSigmaSquared[k])
            sum += w * velocities[k]
            total += w
        }
        var factor = 1.0
        for anchor in anchors { factor *= 1 - exp(-squaredDistance(anchor.position) / (2 * anchor.radius * anchor.radius)) }
        return sum / total * factor
    }

    /// Per pixel, what flows out through its four faces (the discrete divergence).
    public func divergence() -> [Float] {
        var out = [Float](repeating: 0, count: width * height)
        out.withUnsafeMutableBufferPointer { buffer in
            let out = UncheckedSendable(buffer.baseAddress!)
            Parallel.forEachBand(height, minimumBand: 8) { rows in
                for y in rows {
                    for x in 0..<width { out.value[y * width + x] = divergence(at: y * width + x, x: x, y: y) }
                }
            }
        }
        return out
    }

    /// What flows out of pixel i = (x, y) through its four faces.
    @inline(__always)
    func divergence(at i: Int, x: Int, y: Int) -> Float {
        var d = u[i] + v[i]
        let left = x > 0 ? i - 1 : (wrap ? i + width - 1 : -1)
        if left >= 0 { d -= u[left] }
        if y > 0 { d -= v[i - width] }
        return d
    }

    /// The velocity at point `p` (pixel coordinates), each component interpolated
    /// bilinearly between the faces that carry it.
    @inlinable public func velocity(x px: Float, y py: Float) -> SIMD2<Float> {
        SIMD2(Self.sample(u, width: width, height: height, wrap: wrap, x: px - 0.5, y: py),
              Self.sample(v, width: width, height: height, wrap: wrap, x: px, y: py - 0.5))
    }

    @inlinable static func sample(_ values: [Float], width w: Int, height h: Int, wrap: Bool, x: Float, y: Float) -> Float {
        let (fx, fy) = (x.rounded(.down), y.rounded(.down))
        let (ax, ay) = (x - fx, y - fy)
        var (x0, y0) = (Int(fx), Int(fy))
        var (x1, y1) = (x0 + 1, y0 + 1)
        if wrap {
            x0 = (x0 % w + w) % w
            x1 = (x1 % w + w) % w
        } else {
            x0 = min(max(x0, 0), w - 1)
            x1 = min(max(x1, 0), w - 1)
        }
        y0 = min(max(y0, 0), h - 1)
        y1 = min(max(y1, 0), h - 1)
        let top = values[y0 * w + x0] * (1 - ax) + values[y0 * w + x1] * ax
        let bottom = values[y1 * w + x0] * (1 - ax) + values[y1 * w + x1] * ax
        return top * (1 - ay) + bottom * ay
    }
}

extension MotionField {
    /// The velocity at every pixel centre: two channels, right and down, pixels per frame
    /// (what a `.npy` of the field holds).
    public func atPixels() -> Image {
        var flow = Image(width: width, height: height, channels: 2)
        let plane = width * height
        for y in 0..<height {
            for x in 0..<width {
                let v = velocity(x: Float(x), y: Float(y))
                (flow.pixels[y * width + x], flow.pixels[plane + y * width + x]) = (v.x, v.y)
            }
        }
        return flow
    }

    /// The field on the usual optical-flow colour wheel: hue the direction (right red,
    /// down yellow-green, left cyan, up violet), saturation the speed over the largest,
    /// white where nothing moves.
    public func preview() -> Image {
        let flow = atPixels()
        let plane = width * height
        var largest: Float = 0
        for i in 0..<plane { largest = max(largest, (flow.pixels[i] * flow.pixels[i] + flow.pixels[plane + i] * flow.pixels[plane + i]).squareRoot()) }
        var out = Image(width: width, height: height, channels: 3, fill: 1)
        guard largest > 0 else { return out }
        for i in 0..<plane {
            let (u, v) = (flow.pixels[i], flow.pixels[plane + i])
            let saturation = (u * u + v * v).squareRoot() / largest
            // Hue in sixths of a turn, from the direction.
            var hue = atan2(v, u) / (2 * .pi) * 6
            if hue < 0 { hue += 6 }
            for c in 0..<3 {
                // HSV with value 1: each channel 1 − s · clamp(…) of its distance round the wheel.
                let k = (Float([5, 3, 1][c]) + hue).truncatingRemainder(dividingBy: 6)
                out.pixels[c * plane + i] = 1 - saturation * max(0, min(1, min(k, 4 - k)))
            }
        }
        return out
    }
}
