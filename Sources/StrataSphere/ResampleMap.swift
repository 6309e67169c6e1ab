import Foundation
import CStrataKernels
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

    /// For a nearest-pixel map: each output pixel's source index in the grid (every pixel of
    /// a cube-padding map has one).
    var nearestSources: [Int32] {
        precondition(interpolation == .nearest, "only a nearest-pixel map has one source per pixel")
        return entries.map { Int32(truncatingIfNeeded: $0) }
    }

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
        var entries = [UInt64](largeRepeating: Entry.noSource, count: count)
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
        return [Float](largeCount: outPlane * channels) { dst in
            entries.withUnsafeBufferPointer { e in
                explicitIndex.withUnsafeBufferPointer { ei in
                    explicitWeight.withUnsafeBufferPointer { ew in
                        let d = UncheckedSendable(dst.baseAddress!)
                        let layout = Layout(span: span, stride: grid.stride, plane: plane, outPlane: outPlane, channels: channels)
                        // Bands of at least 8 rows, 16 per thread: the up and down faces cost 1.6× a
                        // side face, and a thread the system preempts hands its share to the other.
                        Parallel.forEachBand(height, minimumBand: 8, bandsPerThread: 16) { rows in
                            ResampleMap.resample((rows.lowerBound * width)..<(rows.upperBound * width), layout, entries: e,
                                                 explicitIndex: ei, explicitWeight: ew, source: source.baseAddress!, out: d.value, fill: fill)
                        }
                    }
                }
            }
        }
    }

    /// Resamples one source through several maps (the tangent patches or views of one
    /// panorama) in a single parallel pass over all their rows, so the threads meet once at
    /// the end instead of once per map, each waiting on the other's last band.
    public static func apply(_ maps: [ResampleMap], source: UnsafeBufferPointer<Float>, channels: Int, fill: Float = 0) -> [[Float]] {
        guard let first = maps.first else { return [] }
        let plane = first.grid.planeSize
        precondition(maps.allSatisfy { $0.grid.planeSize == plane && $0.grid.stride == first.grid.stride }, "maps over different grids")
        precondition(source.count >= plane * channels, "source holds \(source.count) samples, the maps read \(plane * channels)")
        // Each output is created by nesting the next one's initialiser inside it, so every
        // buffer pointer is used only while its array is being initialised.
        var outputs: [[Float]] = []
        var pointers: [UncheckedSendable<UnsafeMutablePointer<Float>>] = []
        func build(_ k: Int) -> [Float] {
            [Float](largeCount: maps[k].width * maps[k].height * channels) { dst in
                // An empty view has no buffer and no bands that would write to it.
                pointers.append(UncheckedSendable(dst.baseAddress ?? UnsafeMutablePointer<Float>(bitPattern: MemoryLayout<Float>.alignment)!))
                if k + 1 < maps.count {
                    outputs.append(build(k + 1))
                } else {
                    run()
                }
            }
        }
        func run() {
            // Bands of 8 rows, numbered across all maps.
            let bandRows = 8
            let starts = maps.reduce(into: [0]) { $0.append($0.last! + ($1.height + bandRows - 1) / bandRows) }
            let targets = pointers
            Parallel.forEachBand(starts.last!, minimumBand: 1, bandsPerThread: 16) { bands in
                for band in bands {
                    var k = 0
                    while starts[k + 1] <= band { k += 1 }
                    let map = maps[k]
                    let y0 = (band - starts[k]) * bandRows, y1 = min(map.height, y0 + bandRows)
                    let layout = Layout(span: map.span, stride: map.grid.stride, plane: plane, outPlane: map.width * map.height, channels: channels)
                    map.entries.withUnsafeBufferPointer { e in
                        map.explicitIndex.withUnsafeBufferPointer { ei in
                            map.explicitWeight.withUnsafeBufferPointer { ew in
                                resample((y0 * map.width)..<(y1 * map.width), layout, entries: e, explicitIndex: ei, explicitWeight: ew,
                                         source: source.baseAddress!, out: targets[k].value, fill: fill)
                            }
                        }
                    }
                }
            }
        }
        let last = build(0)
        // `build` appended the outputs from the innermost (the last map) outwards.
        return [last] + outputs.reversed()
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
        let (plane, outPlane, channels) = (layout.plane, layout.outPlane, layout.channels)
        switch layout.span {
        case 1:
            for i in range {
                let o = Int(Entry.origin(entries[i]))
                for c in 0..<channels { out[c &* outPlane &+ i] = o >= 0 ? s[c &* plane &+ o] : fill }
            }
        case 2:
            // Three planes (colour) and one (depth, masks) unrolled: the loop is bound by
            // instructions, not memory, once the taps are prefetched.
            switch channels {
            case 1: bilinear(range, channels: 1, layout, entries: entries, explicitIndex: explicitIndex, explicitWeight: explicitWeight, source: s, out: out, fill: fill)
            case 3: bilinear(range, channels: 3, layout, entries: entries, explicitIndex: explicitIndex, explicitWeight: explicitWeight, source: s, out: out, fill: fill)
            default: bilinear(range, channels: channels, layout, entries: entries, explicitIndex: explicitIndex, explicitWeight: explicitWeight, source: s, out: out, fill: fill)
            }
        default:
            switch channels {
            case 1: bicubic(range, channels: 1, layout, entries: entries, explicitIndex: explicitIndex, explicitWeight: explicitWeight, source: s, out: out, fill: fill)
            case 3: bicubic(range, channels: 3, layout, entries: entries, explicitIndex: explicitIndex, explicitWeight: explicitWeight, source: s, out: out, fill: fill)
            default: bicubic(range, channels: channels, layout, entries: entries, explicitIndex: explicitIndex, explicitWeight: explicitWeight, source: s, out: out, fill: fill)
            }
        }
    }

    /// Bilinear resampling of a range of output pixels; `channels` is a constant where
    /// the caller can make it one, so the plane loop unrolls.
    @inline(__always)
    static func bilinear(_ range: Range<Int>, channels: Int, _ layout: Layout,
                         entries: UnsafeBufferPointer<UInt64>,
                         explicitIndex: UnsafeBufferPointer<Int32>, explicitWeight: UnsafeBufferPointer<Float>,
                         source s: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, fill: Float) {
        let (plane, outPlane, stride) = (layout.plane, layout.outPlane, layout.stride)
        for i in range {
            prefetch(ahead: i, range, layout, rows: 2, entries: entries, source: s)
            let entry = entries[i]
            let o = Int(Entry.origin(entry))
            if o >= 0 {
                let tx = Entry.fraction(UInt16(truncatingIfNeeded: entry >> 32)), ty = Entry.fraction(UInt16(truncatingIfNeeded: entry >> 48))
                let across = SIMD2<Float>(1 - tx, tx)
                let top = across * (1 - ty), bottom = across * ty
                var p = s + o
                var q = out + i
                for _ in 0..<channels {
                    let v = SIMD2(p[0], p[1]) * top + SIMD2(p[stride], p[stride &+ 1]) * bottom
                    q.pointee = v[0] + v[1]
                    p += plane
                    q += outPlane
                }
            } else {
                for c in 0..<channels {
                    out[c &* outPlane &+ i] = o == Int(Int32.min) ? fill
                        : explicitSample(-1 - o, taps: 4, explicitIndex, explicitWeight, s + (c &* plane))
                }
            }
        }
    }

    /// Bicubic (Keys) resampling of a range of output pixels, 4 × 4 taps.
    @inline(__always)
    static func bicubic(_ range: Range<Int>, channels: Int, _ layout: Layout,
                        entries: UnsafeBufferPointer<UInt64>,
                        explicitIndex: UnsafeBufferPointer<Int32>, explicitWeight: UnsafeBufferPointer<Float>,
                        source s: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, fill: Float) {
        let (plane, outPlane, stride) = (layout.plane, layout.outPlane, layout.stride)
        for i in range {
            prefetch(ahead: i, range, layout, rows: 4, entries: entries, source: s)
            let entry = entries[i]
            let o = Int(Entry.origin(entry))
            if o >= 0 {
                let (wx, wy) = weights(Entry.fraction(UInt16(truncatingIfNeeded: entry >> 32)), Entry.fraction(UInt16(truncatingIfNeeded: entry >> 48)), span: 4)
                var p = s + o
                var q = out + i
                for _ in 0..<channels {
                    var sum = SIMD4<Float>()
                    for j in 0..<4 {
                        let row = p + (j &* stride)
                        sum += wy[j] * SIMD4(row[0], row[1], row[2], row[3])
                    }
                    q.pointee = (sum * wx).sum()
                    p += plane
                    q += outPlane
                }
            } else {
                for c in 0..<channels {
                    out[c &* outPlane &+ i] = o == Int(Int32.min) ? fill
                        : explicitSample(-1 - o, taps: 16, explicitIndex, explicitWeight, s + (c &* plane))
                }
            }
        }
    }

    /// Pixels between a source prefetch and its use. The taps of neighbouring output
    /// pixels lie along a curve through the source, which the hardware prefetcher cannot
    /// follow across planes and rows: the loads stalled on memory (perf: ~60% of the
    /// loop's cycles on two source loads). Prefetching the taps this many pixels ahead
    /// cut the loop's time by about a fifth; 32–96 measured the same.
    static let prefetchDistance = 48

    /// Asks for the rows of direct taps of output pixel `i + prefetchDistance`, every plane.
    @inline(__always)
    static func prefetch(ahead i: Int, _ range: Range<Int>, _ layout: Layout, rows: Int, entries: UnsafeBufferPointer<UInt64>,
                         source s: UnsafePointer<Float>) {
        let next = i &+ prefetchDistance
        guard next < range.upperBound else { return }
        let o = Int(Entry.origin(entries[next]))
        guard o >= 0 else { return }
        var p = s + o
        for _ in 0..<layout.channels {
            var row = p
            for _ in 0..<rows {
                strata_prefetch(row)
                row += layout.stride
            }
            p += layout.plane
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
