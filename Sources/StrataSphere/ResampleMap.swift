import Foundation
import StrataCore

/// Where every output pixel of a projection reads its source, computed once per geometry
/// and applied to any number of images and channels (colour, depth, masks, features).
///
/// Most pixels read a block of taps that lies on the source's own rows: they keep one
/// index and the fractional position, and their weights are computed on the fly. Pixels
/// whose taps cross a seam, a pole or a cube edge keep explicit taps that already point
/// where the sphere continues, so no border value ever enters a result.
public struct ResampleMap: Sendable {
    /// Output columns.
    public let width: Int
    /// Output rows.
    public let height: Int
    /// The grid read.
    public let grid: SampleGrid
    /// How samples between pixel centres are computed.
    public let interpolation: Interpolation

    /// Per output pixel: ≥ 0, the first tap's index (direct); −1 − e, explicit entry e;
    /// `Int32.min`, no source.
    let origin: [Int32]
    /// Fractional position between taps (bilinear and bicubic).
    let fx: [Float]
    let fy: [Float]
    /// Explicit entries, `taps` taps each.
    let explicitIndex: [Int32]
    let explicitWeight: [Float]

    /// Taps per row of the block: 1, 2 or 4.
    var span: Int { interpolation == .nearest ? 1 : interpolation == .bilinear ? 2 : 4 }
    /// Taps per explicit entry.
    var taps: Int { span * span }

    /// Builds the map by asking `position` where each output pixel (x, y) samples the grid
    /// (nil where it has no source: the output gets the fill value there).
    public init(width: Int, height: Int, grid: SampleGrid, interpolation: Interpolation,
                position: @Sendable (_ x: Int, _ y: Int) -> SamplePosition?) {
        (self.width, self.height, self.grid, self.interpolation) = (width, height, grid, interpolation)
        let count = width * height
        let k = interpolation == .nearest ? 1 : interpolation == .bilinear ? 2 : 4
        let offset = interpolation == .bicubic ? -1 : 0
        var origin = [Int32](repeating: Int32.min, count: count)
        var fx = [Float](repeating: 0, count: interpolation == .nearest ? 0 : count)
        var fy = fx
        // Explicit entries are gathered per band, then numbered in band order.
        let bandEntries = Mutex<[Int: (index: [Int32], weight: [Float])]>([:])
        origin.withUnsafeMutableBufferPointer { o in
            fx.withUnsafeMutableBufferPointer { fxb in
                fy.withUnsafeMutableBufferPointer { fyb in
                    let out = UncheckedSendable((o.baseAddress!, fxb.baseAddress, fyb.baseAddress))
                    Parallel.forEachBand(height, minimumBand: 8) { rows in
                        let (o, fx, fy) = out.value
                        var index = [Int32](), weight = [Float]()
                        for y in rows {
                            for x in 0..<width {
                                let i = y * width + x
                                guard let p = position(x, y), p.x.isFinite, p.y.isFinite, grid.covers(x: p.x, y: p.y) else { continue }
                                let bx = p.x.rounded(.down), by = p.y.rounded(.down)
                                if k == 1 {
                                    let ix = Int((p.x + 0.5).rounded(.down)), iy = Int((p.y + 0.5).rounded(.down))
                                    o[i] = Int32(grid.directIndex(face: p.face, x: ix, y: iy, k: 1) ?? grid.resolve(face: p.face, x: ix, y: iy))
                                    continue
                                }
                                let tx = Float(p.x - bx), ty = Float(p.y - by)
                                fx![i] = tx
                                fy![i] = ty
                                let x0 = Int(bx) + offset, y0 = Int(by) + offset
                                if let direct = grid.directIndex(face: p.face, x: x0, y: y0, k: k) {
                                    o[i] = Int32(direct)
                                    continue
                                }
                                let (wx, wy) = ResampleMap.weights(tx, ty, span: k)
                                o[i] = Int32(-1 - index.count / (k * k))
                                for j in 0..<k {
                                    for m in 0..<k {
                                        index.append(Int32(grid.resolve(face: p.face, x: x0 + m, y: y0 + j)))
                                        weight.append(wx[m] * wy[j])
                                    }
                                }
                            }
                        }
                        bandEntries.withLock { $0[rows.lowerBound] = (index, weight) }
                    }
                }
            }
        }
        var explicitIndex = [Int32](), explicitWeight = [Float]()
        let bands = bandEntries.withLock { $0 }.sorted { $0.key < $1.key }
        for (band, entry) in bands {
            let first = Int32(explicitIndex.count / (k * k))
            if first > 0 {
                let end = bands.first { $0.key > band }?.key ?? height
                for i in (band * width)..<(end * width) where origin[i] < 0 && origin[i] != Int32.min {
                    origin[i] -= first
                }
            }
            explicitIndex += entry.index
            explicitWeight += entry.weight
        }
        (self.origin, self.fx, self.fy, self.explicitIndex, self.explicitWeight) = (origin, fx, fy, explicitIndex, explicitWeight)
    }

    /// Per-axis weights for `span` taps (bilinear or Keys bicubic).
    @inline(__always)
    static func weights(_ tx: Float, _ ty: Float, span: Int) -> (SIMD4<Float>, SIMD4<Float>) {
        if span == 2 { return (SIMD4(1 - tx, tx, 0, 0), SIMD4(1 - ty, ty, 0, 0)) }
        let cx = Cubic.weights(tx), cy = Cubic.weights(ty)
        return (SIMD4(cx.0, cx.1, cx.2, cx.3), SIMD4(cy.0, cy.1, cy.2, cy.3))
    }

    /// Bytes the map holds (what a cache of maps costs).
    public var byteCount: Int { origin.count * 4 + fx.count * 8 + explicitIndex.count * 8 }

    /// Whether output pixel i has a source.
    public func hasSource(_ i: Int) -> Bool { origin[i] != Int32.min }

    /// Resamples `channels` planes of `source` (each `grid.planeSize` samples, plane after
    /// plane) into `width × height` planes; pixels without a source get `fill`.
    public func apply(source: UnsafeBufferPointer<Float>, channels: Int, fill: Float = 0) -> [Float] {
        let plane = grid.planeSize
        precondition(source.count >= plane * channels, "source holds \(source.count) samples, the map reads \(plane * channels)")
        let outPlane = width * height
        var out = [Float](repeating: 0, count: outPlane * channels)
        let stride = grid.stride
        let span = self.span
        origin.withUnsafeBufferPointer { o in
            fx.withUnsafeBufferPointer { fx in
                fy.withUnsafeBufferPointer { fy in
                    explicitIndex.withUnsafeBufferPointer { ei in
                        explicitWeight.withUnsafeBufferPointer { ew in
                            out.withUnsafeMutableBufferPointer { dst in
                                let d = UncheckedSendable(dst.baseAddress!)
                                let src = source.baseAddress!
                                Parallel.forEachBand(height, minimumBand: 8) { rows in
                                    let dst = d.value
                                    let lower = rows.lowerBound * width, upper = rows.upperBound * width
                                    for c in 0..<channels {
                                        let s = src + c * plane
                                        let out = dst + c * outPlane
                                        ResampleMap.resampleBand(lower..<upper, span: span, stride: stride, origin: o, fx: fx, fy: fy,
                                                                 explicitIndex: ei, explicitWeight: ew, source: s, out: out, fill: fill)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    /// One plane over a range of output pixels. One plane at a time keeps the source plane
    /// and the map rows hot in cache.
    @inline(__always)
    static func resampleBand(_ range: Range<Int>, span: Int, stride: Int,
                             origin: UnsafeBufferPointer<Int32>, fx: UnsafeBufferPointer<Float>, fy: UnsafeBufferPointer<Float>,
                             explicitIndex: UnsafeBufferPointer<Int32>, explicitWeight: UnsafeBufferPointer<Float>,
                             source s: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, fill: Float) {
        let taps = span &* span
        switch span {
        case 1:
            for i in range {
                let o = Int(origin[i])
                out[i] = o >= 0 ? s[o] : fill
            }
        case 2:
            for i in range {
                let o = Int(origin[i])
                if o >= 0 {
                    let tx = fx[i], ty = fy[i]
                    let top = s[o] + tx * (s[o &+ 1] - s[o])
                    let bottom = s[o &+ stride] + tx * (s[o &+ stride &+ 1] - s[o &+ stride])
                    out[i] = top + ty * (bottom - top)
                } else if o == Int(Int32.min) {
                    out[i] = fill
                } else {
                    out[i] = explicitSample(-1 - o, taps: taps, explicitIndex, explicitWeight, s)
                }
            }
        default:
            for i in range {
                let o = Int(origin[i])
                if o >= 0 {
                    let (wx, wy) = weights(fx[i], fy[i], span: 4)
                    var sum: Float = 0
                    for j in 0..<4 {
                        let row = o &+ j &* stride
                        let r = SIMD4(s[row], s[row &+ 1], s[row &+ 2], s[row &+ 3])
                        sum += wy[j] * (r * wx).sum()
                    }
                    out[i] = sum
                } else if o == Int(Int32.min) {
                    out[i] = fill
                } else {
                    out[i] = explicitSample(-1 - o, taps: taps, explicitIndex, explicitWeight, s)
                }
            }
        }
    }

    @inline(__always)
    static func explicitSample(_ entry: Int, taps: Int, _ index: UnsafeBufferPointer<Int32>, _ weight: UnsafeBufferPointer<Float>,
                               _ s: UnsafePointer<Float>) -> Float {
        var sum: Float = 0
        let base = entry &* taps
        for t in 0..<taps {
            let w = weight[base &+ t]
            // A zero weight skips its tap, so an invalid (NaN) depth beside an exact hit stays out.
            if w != 0 { sum += w * s[Int(index[base &+ t])] }
        }
        return sum
    }
}
