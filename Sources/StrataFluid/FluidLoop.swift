import StrataCore

/// A seamless loop from a still whose fluid moves along a static motion field (Holynski et
/// al. 2021, "Animating Pictures with Eulerian Motion Fields"). Each fluid pixel is carried
/// along the field by Euler steps, forward for frame t and backward for N − t; frame t
/// splats both and blends them with weights (N − t)/N and t/N, so frame 0 and frame N are
/// the still and the last frame leads into the first as any frame leads into the next.
/// Only pixels with alpha above 0 change; elsewhere every frame is the still, exactly.
public struct FluidLoop: Sendable {
    /// Frames in the loop (frame N would be frame 0 again).
    public let frames: Int

    /// - Throws: ``FluidError`` for a loop of fewer than two frames.
    public init(frames: Int) throws {
        guard frames >= 2 else { throw FluidError("a loop of \(frames) frame\(frames == 1 ? "" : "s") does not move: give 2 or more") }
        self.frames = frames
    }

    /// Frames 0 to N − 1 of the loop over `still` (its first three channels move; a
    /// fourth, if any, stays). `alpha`: per pixel, how much of the moving fluid shows there
    /// (the feathered fluid mask; 0 where nothing moves).
    public func render(_ still: Image, field: MotionField, alpha: [Float]) -> [Image] {
        let (w, h) = (still.width, still.height)
        let plane = w * h
        precondition(field.width == w && field.height == h && alpha.count == plane)
        let colours = min(3, still.channels)
        // The fluid's pixels, and per pixel its place among them.
        let region = (0..<plane).filter { alpha[$0] > 0 }
        var slot = [Int32](repeating: -1, count: plane)
        for (k, i) in region.enumerated() { slot[i] = Int32(k) }
        let colour = region.map { i in
            var c = SIMD4<Float>(0, 0, 0, 1)
            for ch in 0..<colours { c[ch] = still.pixels[ch * plane + i] }
            return c
        }
        let start = region.map { SIMD2<Float>(Float($0 % w), Float($0 / w)) }

        /// Every fluid pixel's colour splatted bilinearly at its position, into the fluid's
        /// pixels: per fluid pixel the colours' weighted sum and the weights' sum (lane 3).
        func splat(_ positions: [SIMD2<Float>]) -> [SIMD4<Float>] {
            var sums = [SIMD4<Float>](repeating: .zero, count: region.count)
            for k in region.indices {
                let p = positions[k]
                let (fx, fy) = (p.x.rounded(.down), p.y.rounded(.down))
                let (ax, ay) = (p.x - fx, p.y - fy)
                for (dx, dy, weight) in [(0, 0, (1 - ax) * (1 - ay)), (1, 0, ax * (1 - ay)), (0, 1, (1 - ax) * ay), (1, 1, ax * ay)] where weight > 0 {
                    var x = Int(fx) + dx
                    let y = Int(fy) + dy
                    if field.wrap { x = (x % w + w) % w }
                    guard x >= 0, x < w, y >= 0, y < h else { continue }
                    let target = slot[y * w + x]
                    if target >= 0 { sums[Int(target)] += weight * colour[k] }
                }
            }
            return sums
        }
        /// One Euler step along the field (backward: against it).
        func advance(_ positions: inout [SIMD2<Float>], sign: Float) {
            for k in positions.indices { positions[k] += sign * field.velocity(x: positions[k].x, y: positions[k].y) }
        }

        // Forward: frame t's splat after t steps along the field.
        var forward: [[SIMD4<Float>]] = []
        var positions = start
        for t in 0..<frames {
            forward.append(splat(positions))
            if t + 1 < frames { advance(&positions, sign: 1) }
        }
        // Backward: after s steps against the field, frame N − s's splat; blended with the
        // forward one into the frame.
        var out = [Image](repeating: still, count: frames)
        positions = start
        for s in 1...frames {
            advance(&positions, sign: -1)
            let t = frames - s
            let backward = splat(positions)
            let a = Float(frames - t) / Float(frames)
            for (k, i) in region.enumerated() {
                let sum = a * forward[t][k] + (1 - a) * backward[k]
                guard sum[3] > 1e-6 else { continue }
                // still + alpha · (moved − still): exactly the still where nothing moved.
                for ch in 0..<colours {
                    let s = still.pixels[ch * plane + i]
                    out[t].pixels[ch * plane + i] = s + alpha[i] * (sum[ch] / sum[3] - s)
                }
            }
        }
        return out
    }
}
