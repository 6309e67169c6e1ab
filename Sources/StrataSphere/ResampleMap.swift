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

    /// Per output pixel, packed in 8 bytes so the map is one stream of memory: the low 32
    /// bits hold the first tap's index (≥ 0, direct), −1 − e (explicit entry e) or
    /// `Int32.min` (no source); the high 32 bits the fractional position between taps as
    /// two 16-bit fixed-point numbers (x, then y).
    let entries: [UInt64]
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
        var entries = [UInt64](repeating: Entry.noSource, count: count)
        // Explicit entries are gathered per band, then numbered in band order.
        let bandEntries = Mutex<[Int: (index: [Int32], weight: [Float])]>([:])
        entries.withUnsafeMutableBufferPointer { e in
                    let out = UncheckedSendable(e.baseAddress!)
                    Parallel.forEachBand(height, minimumBand: 8) { rows in
                        let e = out.value
                        var index = [Int32](), weight = [Float]()
                        for y in rows {
                            for x in 0..<width {
                                let i = y * width + x
                                guard let p = position(x, y), p.x.isFinite, p.y.isFinite, grid.covers(x: p.x, y: p.y) else { continue }
                                let bx = p.x.rounded(.down), by = p.y.rounded(.down)
                                if k == 1 {
                                    let ix = Int((p.x + 0.5).rounded(.down)), iy = Int((p.y + 0.5).rounded(.down))
                                    e[i] = Entry.pack(Int32(grid.directIndex(face: p.face, x: ix, y: iy, k: 1) ?? grid.resolve(face: p.face, x: ix, y: iy)), 0, 0)
                                    continue
                                }
                                let qx = Entry.quantize(p.x - bx), qy = Entry.quantize(p.y - by)
                                let x0 = Int(bx) + offset, y0 = Int(by) + offset
                                if let direct = grid.directIndex(face: p.face, x: x0, y: y0, k: k) {
                                    e[i] = Entry.pack(Int32(direct), qx, qy)
                                    continue
                                }
                                let (wx, wy) = ResampleMap.weights(Entry.fraction(qx), Entry.fraction(qy), span: k)
                                e[i] = Entry.pack(Int32(-1 - index.count / (k * k)), qx, qy)
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
        var explicitIndex = [Int32](), explicitWeight = [Float]()
        let bands = bandEntries.withLock { $0 }.sorted { $0.key < $1.key }
        for (band, entry) in bands {
            let first = Int32(explicitIndex.count / (k * k))
            if first > 0 {
                let end = bands.first { $0.key > band }?.key ?? height
                for i in (band * width)..<(end * width) {
                    let o = Entry.origin(entries[i])
                    if o < 0 && o != Int32.min { entries[i] = Entry.pack(o - first, UInt16(truncatingIfNeeded: entries[i] >> 32), UInt16(truncatingIfNeeded: entries[i] >> 48)) }
                }
            }
            explicitIndex += entry.index
            explicitWeight += entry.weight
        }
        (self.entries, self.explicitIndex, self.explicitWeight) = (entries, explicitIndex, explicitWeight)
    }

    /// Per-axis weights for `span` taps (bilinear or Keys bicubic).
    @inline(__always)
    static func weights(_ tx: Float, _ ty: Float, span: Int) -> (SIMD4<Float>, SIMD4<Float>) {
        if span == 2 { return (SIMD4(1 - tx, tx, 0, 0), SIMD4(1 - ty, ty, 0, 0)) }
        let cx = Cubic.weights(tx), cy = Cubic.weights(ty)
        return (SIMD4(cx.0, cx.1, cx.2, cx.3), SIMD4(cy.0, cy.1, cy.2, cy.3))
    }

    /// Bytes the map holds (what a cache of maps costs).
    public var byteCount: Int { entries.count * 8 + explicitIndex.count * 8 }

    /// Whether output pixel i has a source.
    public func hasSource(_ i: Int) -> Bool { Entry.origin(entries[i]) != Int32.min }

    /// Resamples `channels` planes of `source` (each `grid.planeSize` samples, plane after
    /// plane) into `width × height` planes; pixels without a source get `fill`.
    public func apply(source: UnsafeBufferPointer<Float>, channels: Int, fill: Float = 0) -> [Float] {
        let plane = grid.planeSize
        precondition(source.count >= plane * channels, "source holds \(source.count) samples, the map reads \(plane * channels)")
        let outPlane = width * height
        // Every output sample is written below, so the buffer is not zeroed first.
        return [Float](unsafeUninitializedCapacity: outPlane * channels) { dst, initialized in
            entries.withUnsafeBufferPointer { e in
                        explicitIndex.withUnsafeBufferPointer { ei in
                            explicitWeight.withUnsafeBufferPointer { ew in
                                let d = UncheckedSendable(dst.baseAddress!)
                                let layout = Layout(span: span, stride: grid.stride, plane: plane, outPlane: outPlane, channels: channels)
                                Parallel.forEachBand(height, minimumBand: 8) { rows in
                                    ResampleMap.resample((rows.lowerBound * width)..<(rows.upperBound * width), layout, entries: e,
                                                         explicitIndex: ei, explicitWeight: ew, source: source.baseAddress!, out: d.value, fill: fill)
                                }
                            }
                        }
            }
            initialized = outPlane * channels
        }
    }

    struct Layout {
        var span: Int, stride: Int, plane: Int, outPlane: Int, channels: Int
    }

    /// A range of output pixels, every channel: the map entry is read once per pixel and
    /// its weights serve all planes.
    @inline(__always)
    static func resample(_ range: Range<Int>, _ layout: Layout,
                         entries: UnsafeBufferPointer<UInt64>,
                         explicitIndex: UnsafeBufferPointer<Int32>, explicitWeight: UnsafeBufferPointer<Float>,
                         source s: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, fill: Float) {
        let (plane, outPlane, channels, stride) = (layout.plane, layout.outPlane, layout.channels, layout.stride)
        let taps = layout.span &* layout.span
        switch layout.span {
        case 1:
            for i in range {
                let o = Int(Entry.origin(entries[i]))
                for c in 0..<channels { out[c &* outPlane &+ i] = o >= 0 ? s[c &* plane &+ o] : fill }
            }
        case 2:
            for i in range {
                let entry = entries[i]
                let o = Int(Entry.origin(entry))
                if o >= 0 {
                    let tx = Entry.fraction(UInt16(truncatingIfNeeded: entry >> 32)), ty = Entry.fraction(UInt16(truncatingIfNeeded: entry >> 48))
                    var p = s + o
                    var q = out + i
                    for _ in 0..<channels {
                        let top = p[0] + tx * (p[1] - p[0])
                        let bottom = p[stride] + tx * (p[stride &+ 1] - p[stride])
                        q.pointee = top + ty * (bottom - top)
                        p += plane
                        q += outPlane
                    }
                } else {
                    for c in 0..<channels {
                        out[c &* outPlane &+ i] = o == Int(Int32.min) ? fill
                            : explicitSample(-1 - o, taps: taps, explicitIndex, explicitWeight, s + (c &* plane))
                    }
                }
            }
        default:
            for i in range {
                let entry = entries[i]
                let o = Int(Entry.origin(entry))
                if o >= 0 {
                    let (wx, wy) = weights(Entry.fraction(UInt16(truncatingIfNeeded: entry >> 32)), Entry.fraction(UInt16(truncatingIfNeeded: entry >> 48)), span: 4)
                    for c in 0..<channels {
                        let p = s + (c &* plane &+ o)
                        var sum: Float = 0
                        for j in 0..<4 {
                            let row = p + (j &* stride)
                            sum += wy[j] * (SIMD4(row[0], row[1], row[2], row[3]) * wx).sum()
                        }
                        out[c &* outPlane &+ i] = sum
                    }
                } else {
                    for c in 0..<channels {
                        out[c &* outPlane &+ i] = o == Int(Int32.min) ? fill
                            : explicitSample(-1 - o, taps: taps, explicitIndex, explicitWeight, s + (c &* plane))
                    }
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

/// The packing of a map entry.
enum Entry {
    static let noSource = pack(Int32.min, 0, 0)

    @inline(__always)
    static func pack(_ origin: Int32, _ fx: UInt16, _ fy: UInt16) -> UInt64 {
        UInt64(UInt32(bitPattern: origin)) | UInt64(fx) << 32 | UInt64(fy) << 48
    }

    @inline(__always)
    static func origin(_ entry: UInt64) -> Int32 { Int32(bitPattern: UInt32(truncatingIfNeeded: entry)) }

    /// A fraction in [0, 1) to 16 bits (steps of 1/65536: far below any image's noise).
    @inline(__always)
    static func quantize(_ t: Double) -> UInt16 { UInt16(min(65535, max(0, (t * 65536).rounded()))) }

    @inline(__always)
    static func fraction(_ q: UInt16) -> Float { Float(q) * (1 / 65536) }
}
