import CStrataKernels
import Foundation
import StrataCore

/// Conv and ConvTranspose over one or two spatial axes.
enum ConvOps {
    static func register(_ t: inout [String: Operator]) {
        t["Conv"] = Operator(check: spatialCheck("Conv"), run: { c in
            let (x, w) = (try c.floats(0), try c.floats(1))
            let bias = try c.optional(2).map { _ in try c.floats(2).values }
            // A Relu or Clip fused by GraphPreparation: [] or [min, max].
            var activation = Activation.none
            if let fused = c.attributes.floats("strata.activation") {
                activation = fused.count == 2 ? .clip(fused[0], fused[1]) : .relu
            }
            // A following Add of a tensor of the output's shape, fused by GraphPreparation.
            let residual = c.attributes.int("strata.residual", 0) == 1 ? try c.floats(3).values : nil
            return [try conv(x: x, weight: w, bias: bias, attributes: c.attributes, activation: activation, residual: residual,
                             memo: c.memo(derivedFrom: 1))]
        })
        t["ConvTranspose"] = Operator(check: spatialCheck("ConvTranspose"), run: { c in
            let (x, w) = (try c.floats(0), try c.floats(1))
            let bias = try c.optional(2).map { _ in try c.floats(2).values }
            return [try convTranspose(x: x, weight: w, bias: bias, attributes: c.attributes)]
        })
    }

    /// Refuses 3-D windows at load, from kernel_shape or the declared rank of the input
    /// or weights.
    static func spatialCheck(_ op: String) -> @Sendable (Node, LoadContext) -> String? {
        { node, context in
            let kernel = Attributes(values: node.attributes).ints("kernel_shape")?.count
            let spatial = kernel ?? [context.rank(node, input: 0), context.rank(node, input: 1)].compactMap { $0 }.map { $0 - 2 }.max()
            guard let spatial, spatial > 2 else { return nil }
            return "\(op) over \(spatial) spatial axes is not supported (1 or 2)"
        }
    }

    /// The activation GraphPreparation fused into a convolution (Relu, or Clip such as ReLU6).
    enum Activation: Equatable, Sendable {
        case none, relu, clip(Float, Float)
    }

    /// Y = W ∗ X + B: pointwise as one GEMM per group, depthwise as a direct loop, anything
    /// else as im2col in bands of output rows + GEMM.
    static func conv(x: (shape: [Int], values: [Float]), weight w: (shape: [Int], values: [Float]), bias: [Float]?,
                     attributes a: Attributes, activation: Activation = .none, residual: [Float]? = nil,
                     memo: StepMemo? = nil) throws -> Tensor {
        guard x.shape.count >= 3, x.shape.count <= 4, w.shape.count == x.shape.count else {
            throw NNError.invalidTensor("Conv of input \(x.shape) with weights \(w.shape): 1-D or 2-D (N×C×W or N×C×H×W) expected")
        }
        let (n, channels) = (x.shape[0], x.shape[1])
        let (outChannels, groupChannels) = (w.shape[0], w.shape[1])
        let group = a.int("group", 1)
        guard group > 0, channels == group * groupChannels, outChannels % group == 0 else {
            throw NNError.invalidTensor("Conv: \(channels) input channels, weights \(w.shape), group \(group) do not fit")
        }
        if let bias, bias.count != outChannels { throw NNError.invalidTensor("Conv bias has \(bias.count) values for \(outChannels) channels") }
        let kernel = Array(w.shape[2...])
        if let declared = a.ints("kernel_shape"), declared != kernel {
            throw NNError.invalidTensor("Conv kernel_shape \(declared) differs from the weights' \(kernel)")
        }
        let win = try Window(attributes: a, spatial: Array(x.shape[2...]), kernel: kernel, op: "Conv")
        let outGroup = outChannels / group
        let (ih, iw, oh, ow) = (win.input.h, win.input.w, win.output.h, win.output.w)
        let shape = [n, outChannels] + win.outputShape(rank: x.shape.count - 2)
        // Each kernel adds the bias and applies the activation to the block it has just
        // written, while it is in cache, instead of in a pass of its own over the output.
        if let residual, residual.count != shape.reduce(1, *) {
            throw NNError.invalidTensor("Conv's fused residual has \(residual.count) values for an output of \(shape)")
        }
        let out = [Float](largeCount: shape.reduce(1, *)) { y in
            guard y.count > 0 else { return }
            (residual ?? []).withUnsafeBufferPointer { r in
            let epilogue = Epilogue(bias: bias, activation: activation, residual: residual == nil ? nil : r.baseAddress, output: y.baseAddress!)
            x.values.withUnsafeBufferPointer { px in
                w.values.withUnsafeBufferPointer { pw in
                    for b in 0..<n {
                        let xb = px.baseAddress! + b * channels * ih * iw
                        let yb = y.baseAddress! + b * outChannels * oh * ow
                        if groupChannels == 1 && outGroup == 1 {
                            depthwise(xb, pw.baseAddress!, yb, channels: channels, win, epilogue: epilogue)
                        } else if win.isPointwise {
                            pointwise(xb, pw.baseAddress!, yb, group: group, groupChannels: groupChannels, outGroup: outGroup,
                                      plane: oh * ow, epilogue: epilogue)
                        } else if group == 1, let tile = winogradTile(win, channels: channels) {
                            winograd(xb, pw.baseAddress!, yb, channels: channels, outChannels: outChannels, win, tile: tile, epilogue: epilogue, memo: memo)
                        } else if group == 1 && usesDirect(win) {
                            direct(xb, pw.baseAddress!, yb, channels: channels, outChannels: outChannels, win, epilogue: epilogue, memo: memo)
                        } else {
                            im2colConv(xb, pw.baseAddress!, yb, group: group, groupChannels: groupChannels, outGroup: outGroup, win,
                                       epilogue: epilogue)
                        }
                    }
                }
            }
            }
        }
        return Tensor(shape: shape, floats: out)
    }

    /// The bias, activation and residual a convolution ends with: y = act(conv + bias) + r.
    struct Epilogue {
        var bias: [Float]?
        var activation: Activation
        /// The residual added last, laid out as the output that starts at `output`.
        var residual: UnsafePointer<Float>? = nil
        var output: UnsafeMutablePointer<Float>? = nil

        var isEmpty: Bool { bias == nil && activation == .none && residual == nil }

        /// The residual for output block `p` (nil without one).
        func residual(for p: UnsafeMutablePointer<Float>) -> UnsafePointer<Float>? {
            guard let residual, let output else { return nil }
            return residual + (p - output)
        }

        /// The activation as the range outputs are clamped to.
        var clamp: (lo: Float, hi: Float) {
            switch activation {
            case .none: return (-.infinity, .infinity)
            case .relu: return (0, .infinity)
            case .clip(let lo, let hi): return (lo, hi)
            }
        }

        /// The same for a product whose row i is channel `channel` + i, written at `p` with
        /// rows `ldc` apart (nil where there is nothing to do); `bias` is the bias's storage.
        func finish(_ p: UnsafeMutablePointer<Float>, ldc: Int, channel: Int, bias: UnsafePointer<Float>?) -> Gemm.Finish? {
            guard !isEmpty else { return nil }
            let (lo, hi) = clamp
            return Gemm.Finish(bias: bias.map { $0 + channel }, lo: lo, hi: hi, residual: residual(for: p), ldr: ldc)
        }

        /// Applies them to `count` outputs of channel `channel` from `p`.
        @inline(__always)
        func apply(_ p: UnsafeMutablePointer<Float>, count: Int, channel: Int) {
            let add = bias?[channel] ?? 0
            switch activation {
            case .none: if add != 0 { for j in 0..<count { p[j] += add } }
            case .relu: for j in 0..<count { let v = p[j] + add; p[j] = v < 0 ? 0 : v }
            case .clip(let lo, let hi):
                for j in 0..<count {
                    let v = p[j] + add
                    p[j] = v < lo ? lo : (v > hi ? hi : v)
                }
            }
            if let r = residual(for: p) { for j in 0..<count { p[j] += r[j] } }
        }
    }

    /// A 1×1 convolution: per group, one product of the weights with the input's pixels,
    /// split across threads along the longer side (blocks of pixels, or of output channels
    /// where the plane is small, as at 8×8 with 2304 channels). The bias, clamp and residual
    /// are applied by the GEMM's micro-kernel to each tile in registers before it is stored
    /// (a pass of its own over a 4 MB output cost MiDaS's 64-channel layer at 128² a third
    /// of its time).
    static func pointwise(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                          group: Int, groupChannels: Int, outGroup: Int, plane: Int, epilogue: Epilogue) {
        if group == 1 && outGroup == 1 {
            weightedSum(x, w, y, channels: groupChannels, plane: plane, epilogue: epilogue)
            return
        }
        let threads = Parallel.threadCount
        // Below a few million multiply-adds a split costs more than it saves; otherwise two
        // blocks per thread, so a slow thread does not hold up the other.
        let parts = threads > 1 && outGroup * plane * groupChannels >= 1 << 21 ? 2 * threads : 1
        let byPixels = plane >= outGroup
        // Pixel blocks in multiples of 32 (the GEMM kernel's width on AVX-512, twice AVX2's:
        // a block ending in part of a panel copies that panel), channel blocks of 8.
        let unit = byPixels ? 32 : 8, extent = byPixels ? plane : outGroup
        let step = max(unit, ((extent + parts - 1) / parts + unit - 1) / unit * unit)
        let blocks = (extent + step - 1) / step
        let (xs, ws, ys) = (UncheckedSendable(x), UncheckedSendable(w), UncheckedSendable(y))
        withBias(epilogue.bias) { bias in
            let bs = UncheckedSendable(bias)
            Parallel.forEachBand(group * blocks, minimumBand: parts == 1 ? group * blocks : 1) { tasks in
                for task in tasks {
                    let (g, b) = (task / blocks, task % blocks)
                    let first = b * step, count = min(step, extent - first)
                    let (p0, pixels) = byPixels ? (first, count) : (0, plane)
                    let (m0, rows) = byPixels ? (0, outGroup) : (first, count)
                    let yg = ys.value + (g * outGroup + m0) * plane + p0
                    // The bias, clamp and residual applied tile by tile inside the product.
                    Gemm.block(m: rows, n: pixels, k: groupChannels, a: ws.value + (g * outGroup + m0) * groupChannels, lda: groupChannels,
                               b: xs.value + g * groupChannels * plane + p0, ldb: plane, c: yg, ldc: plane,
                               finish: epilogue.finish(yg, ldc: plane, channel: g * outGroup + m0, bias: bs.value))
                }
            }
        }
    }

    /// A 1×1 convolution to one output channel (the depth head's last layer): the input's
    /// planes weighted and summed, block by block of pixels, each plane streamed once. As a
    /// product of one row, its input was packed into panels first, a copy of the whole input
    /// (Depth Anything's 32 planes of 592²: 45 MB).
    static func weightedSum(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                            channels: Int, plane: Int, epilogue: Epilogue) {
        let block = 2048
        let (xs, ys) = (UncheckedSendable(x), UncheckedSendable(y))
        Parallel.forEachBand((plane + block - 1) / block, minimumBand: max(1, (1 << 16) / max(1, block * channels))) { blocks in
            for b in blocks {
                let first = b * block, count = min(block, plane - first)
                let out = ys.value + first
                let w0 = w[0], src0 = xs.value + first
                for j in 0..<count { out[j] = w0 * src0[j] }
                for c in 1..<max(1, channels) {
                    let wc = w[c], src = xs.value + c * plane + first
                    for j in 0..<count { out[j] += wc * src[j] }
                }
                epilogue.apply(out, count: count, channel: 0)
            }
        }
    }

    /// Adds the per-channel bias and applies the activation, on all cores.
    static func finish(_ y: UnsafeMutableBufferPointer<Float>, channels: Int, plane: Int, bias: [Float]?, activation: Activation) {
        guard bias != nil || activation != .none, plane > 0 else { return }
        let rows = y.count / plane
        let base = UncheckedSendable(y.baseAddress!)
        Parallel.forEachBand(rows, minimumBand: max(1, 8192 / plane)) { range in
            for r in range {
                let p = base.value + r * plane
                let add = bias?[r % channels] ?? 0
                switch activation {
                case .none: for j in 0..<plane { p[j] += add }
                case .relu: for j in 0..<plane { let v = p[j] + add; p[j] = v < 0 ? 0 : v }
                case .clip(let lo, let hi):
                    for j in 0..<plane {
                        let v = p[j] + add
                        p[j] = v < lo ? lo : (v > hi ? hi : v)
                    }
                }
            }
        }
    }

    /// Whether the C convolution kernels (depthwise, direct, Winograd; written for AVX2 and
    /// FMA) run: on the path ``KernelISA`` selected, so `STRATA_ISA=generic` takes the
    /// portable loops and the products alone.
    static var hasVectorDepthwise: Bool { KernelISA.selected.rawValue >= KernelISA.avx2.rawValue }

    /// One filter per channel. Where the processor has AVX2 and FMA, windows up to 16×16 go
    /// to the C kernel (`strata_depthwise_planes`: whole blocks of outputs in registers from
    /// a padded scratch plane split by column phase at strides past 1; MiDaS's 3×3 layer on
    /// 192 planes of 64² 3.4 → 0.65 ms on one core, its stride-2 layer on 96 of 128² 1.8 →
    /// 0.7 ms). With AVX-512, at column strides 1 and 2, the kernel reads the planes in place
    /// with masked loads (no padded copy, no staging): 0.65 → 0.41 and 0.69 → 0.41 ms, and
    /// 2304 planes of 8² 0.39 → 0.26 ms. The loop below is the portable one: each tap adds a
    /// shifted input row into the output row, vectorised along the columns.
    static func depthwise(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, channels: Int,
                          _ win: Window, vector: Bool? = nil, epilogue: Epilogue = Epilogue(bias: nil, activation: .none)) {
        let (ih, iw, oh, ow) = (win.input.h, win.input.w, win.output.h, win.output.w)
        let (kh, kw) = win.kernel
        let (xs, ys) = (UncheckedSendable(x), UncheckedSendable(y))
        if hasVectorDepthwise && kh <= 16 && kw <= 16 && vector != false {
            let (lo, hi) = epilogue.clamp
            let rs = UncheckedSendable(epilogue.residual(for: y))
            withBias(epilogue.bias) { bias in
                let bs = UncheckedSendable(bias)
                Parallel.forEachBand(channels, minimumBand: max(1, 2048 / (oh * ow))) { range in
                    strata_depthwise_planes(xs.value + range.lowerBound * ih * iw, Int32(range.count), Int32(ih), Int32(iw), w + range.lowerBound * kh * kw,
                                            Int32(kh), Int32(kw), Int32(win.stride.h), Int32(win.stride.w), Int32(win.dilation.h), Int32(win.dilation.w),
                                            Int32(win.padTop), Int32(win.padLeft), ys.value + range.lowerBound * oh * ow, Int32(oh), Int32(ow),
                                            bs.value.map { $0 + range.lowerBound }, lo, hi, rs.value.map { $0 + range.lowerBound * oh * ow },
                                            KernelISA.selected.rawValue)
                }
            }
            return
        }
        Parallel.forEachBand(channels, minimumBand: 1) { range in
            for ch in range {
                let src = xs.value + ch * ih * iw, dst = ys.value + ch * oh * ow, filter = w + ch * kh * kw
                for oy in 0..<oh {
                    let row = dst + oy * ow
                    for ox in 0..<ow { row[ox] = 0 }
                    for i in 0..<kh {
                        let iy = oy * win.stride.h - win.padTop + i * win.dilation.h
                        guard iy >= 0 && iy < ih else { continue }
                        let line = src + iy * iw
                        for j in 0..<kw {
                            let weight = filter[i * kw + j]
                            let offset = j * win.dilation.w - win.padLeft
                            // Output columns whose input column is inside the row.
                            let first = offset >= 0 ? 0 : (-offset + win.stride.w - 1) / win.stride.w
                            let last = min(ow, (iw - 1 - offset) >= 0 ? (iw - 1 - offset) / win.stride.w + 1 : 0)
                            guard first < last else { continue }
                            if win.stride.w == 1 {
                                let s = line + offset
                                for ox in first..<last { row[ox] += weight * s[ox] }
                            } else {
                                for ox in first..<last { row[ox] += weight * line[ox * win.stride.w + offset] }
                            }
                        }
                    }
                }
                epilogue.apply(dst, count: oh * ow, channel: ch)
            }
        }
    }

    /// Whether the direct kernel runs a window: stride 1, no dilation, on AVX2 and FMA.
    static func usesDirect(_ win: Window) -> Bool {
        hasVectorDepthwise && win.stride == (1, 1) && win.dilation == (1, 1) && !win.isPointwise
    }

    /// A stride-1 convolution without a column matrix (`strata_conv_direct_rows`): the input
    /// padded once, the weights packed by four output channels, then bands of output rows
    /// on every thread, each block finished (bias, activation) in registers.
    static func direct(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                       channels: Int, outChannels: Int, _ win: Window, epilogue: Epilogue, memo: StepMemo? = nil) {
        let (oh, ow, kh, kw) = (win.output.h, win.output.w, win.kernel.h, win.kernel.w)
        let ph = oh + kh - 1, pw = (ow + 7) / 8 * 8 + kw - 1
        let padded = paddedInput(x, channels: channels, win, rows: ph, columns: pw)
        // Packed once per session where the weights are the model's (every run otherwise).
        let pack = {
            [Float](unsafeUninitializedCapacity: outChannels * channels * kh * kw) { p, n in
                strata_conv_pack_weights(w, Int32(outChannels), Int32(channels), Int32(kh), Int32(kw), p.baseAddress!)
                n = outChannels * channels * kh * kw
            }
        }
        let packed = memo?.value("direct", pack) ?? pack()
        let (lo, hi) = epilogue.clamp
        let (ys, rs) = (UncheckedSendable(y), UncheckedSendable(epilogue.residual(for: y)))
        padded.withUnsafeBufferPointer { p in
            packed.withUnsafeBufferPointer { k in
                let (ps, ks) = (UncheckedSendable(p.baseAddress!), UncheckedSendable(k.baseAddress!))
                withBias(epilogue.bias) { bias in
                    let bs = UncheckedSendable(bias)
                    Parallel.forEachBand(oh, minimumBand: 1) { rows in
                        strata_conv_direct_rows(ps.value, Int32(channels), Int32(ph), Int32(pw), ks.value, Int32(outChannels), Int32(kh), Int32(kw),
                                                bs.value, lo, hi, rs.value, ys.value, Int32(oh), Int32(ow), Int32(rows.lowerBound), Int32(rows.upperBound))
                    }
                }
            }
        }
    }

    /// The Winograd tile a window runs with (its output block's side: 2 for F(2×2, 3×3), 4
    /// for F(4×4, 3×3)), or nil for none: 3×3 at stride 1 without dilation, on AVX2 and FMA,
    /// with enough output columns (32) and channels (8) for its matrix products to pay for
    /// its transforms (at 16 columns the direct kernel took 1.3 ms where F(2×2) took 2.2–2.4
    /// for MiDaS's four 16² layers; at 32, 4.5 against 5.7). F(4×4) from 64 columns: there
    /// it took 25–40% less time than F(2×2) (Depth Anything's 592², 296², 148² layers, MiDaS's
    /// 256² to 64²); at 32–37 columns a row's tiles, rounded up to eight, are a third to half
    /// padding, and the two read the same within noise.
    static func winogradTile(_ win: Window, channels: Int) -> Int? {
        guard usesDirect(win) && win.kernel == (3, 3) && win.output.w >= 32 && channels >= 8 else { return nil }
        return win.output.w >= 64 ? 4 : 2
    }

    /// A 3×3 stride-1 convolution by Winograd F(t×t, 3×3), t = `tile` (2 or 4;
    /// `strata_winograd_*`): per band of tile rows, the band's rows
    /// of the input padded into the thread's slab, its tiles transformed, (t + 2)² products
    /// (one per position in a transformed tile) of the transformed weights with them, and
    /// the results transformed back into t×t output blocks, finished with bias and
    /// activation. Padding by bands, not the whole input at once: a padded copy of a large
    /// input (Depth Anything's 32 planes of 592²: 45 MB) was written to fresh pages and
    /// read back from memory, 15% of that layer's time.
    static func winograd(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                         channels: Int, outChannels: Int, _ win: Window, tile: Int, epilogue: Epilogue, memo: StepMemo? = nil) {
        let (oh, ow) = (win.output.h, win.output.w)
        let positions = (tile + 2) * (tile + 2)
        let (th, tw) = ((oh + tile - 1) / tile, (ow + tile - 1) / tile)
        let tiles = (tw + 7) / 8 * 8
        let pw = tile * tiles + 2
        let (ih, iw) = (win.input.h, win.input.w)
        // Transformed once per session where the weights are the model's (every run otherwise).
        let transform = {
            [Float](unsafeUninitializedCapacity: positions * outChannels * channels) { u, n in
                strata_winograd_weights(Int32(tile), w, Int32(outChannels), Int32(channels), u.baseAddress!)
                n = positions * outChannels * channels
            }
        }
        let u = memo?.value("winograd\(tile)", transform) ?? transform()
        // Tile rows per band: about 128 tiles a product (64 ran 10–20% slower, 256 and 512 no
        // faster: the transformed tiles then leave the cache), but two bands per thread at least.
        let rowsPerBand = max(1, min(128 / tiles, th / (2 * Parallel.threadCount)))
        // The products run on whole panels of 32 columns: a ragged last panel was copied
        // for every product (4% of a 64-channel layer at 148² with F(4×4)). The columns past
        // a band's tiles are zeros (or an earlier band's tiles), and their outputs unread.
        let column = (rowsPerBand * tiles + 31) / 32 * 32
        let bands = (th + rowsPerBand - 1) / rowsPerBand
        // The positions' blocks one cache line apart beyond whole pages: at a multiple of
        // 4 KiB they fell in one set of the L1 cache, and the transforms, which write or read
        // all of them at once, ran at half speed (MiDaS's 32-channel 256² layer: input
        // transform 6.0 → 3.5 ms, output 3.5 → 2.4 ms on one core, F(2×2)).
        let (vstride, mstride) = (channels * column + 16, outChannels * column + 16)
        let (lo, hi) = epilogue.clamp
        let (xs, ys, rs) = (UncheckedSendable(x), UncheckedSendable(y), UncheckedSendable(epilogue.residual(for: y)))
        // A band of `count` tile rows reads tile · count + 2 rows of the padded input.
        let slabRows = tile * rowsPerBand + 2
        u.withUnsafeBufferPointer { uk in
            let us = UncheckedSendable(uk.baseAddress!)
            withBias(epilogue.bias) { bias in
                let bs = UncheckedSendable(bias)
                Parallel.forEachBand(bands, minimumBand: 1) { range in
                    // Not zeroed but the transformed tiles' padding columns: the transform
                    // writes every other column the products read, the products every
                    // column the output transform reads, the padding every value of the
                    // slab the transform reads.
                    var slab = [Float](unsafeUninitializedCapacity: channels * slabRows * pw) { $1 = channels * slabRows * pw }
                    var v = [Float](repeating: 0, count: positions * vstride)
                    var m = [Float](unsafeUninitializedCapacity: positions * mstride) { $1 = positions * mstride }
                    slab.withUnsafeMutableBufferPointer { sb in
                        v.withUnsafeMutableBufferPointer { vb in
                            m.withUnsafeMutableBufferPointer { mb in
                                for band in range {
                                    let first = band * rowsPerBand, count = min(rowsPerBand, th - first)
                                    let rows = tile * count + 2
                                    strata_conv_pad_rows(xs.value, Int32(channels), Int32(ih), Int32(iw), Int32(win.padTop), Int32(win.padLeft),
                                                         Int32(tile * first), Int32(rows), sb.baseAddress!, Int32(pw))
                                    for r in 0..<count {
                                        strata_winograd_input(Int32(tile), sb.baseAddress!, Int32(channels), Int32(rows), Int32(pw), Int32(r),
                                                              Int32(tiles), vb.baseAddress! + r * tiles, vstride, column)
                                    }
                                    let n = min(column, (count * tiles + 31) / 32 * 32)
                                    for xi in 0..<positions {
                                        Gemm.block(m: outChannels, n: n, k: channels, a: us.value + xi * outChannels * channels, lda: channels,
                                                   b: vb.baseAddress! + xi * vstride, ldb: column,
                                                   c: mb.baseAddress! + xi * mstride, ldc: column)
                                    }
                                    for r in 0..<count {
                                        strata_winograd_output(Int32(tile), mb.baseAddress! + r * tiles, Int32(outChannels), mstride, column,
                                                               Int32(first + r), Int32(tiles), bs.value, lo, hi, rs.value, ys.value, Int32(oh), Int32(ow))
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The input planes in `rows` × `columns` planes with the window's leading pads and
    /// zeros around them, copied on every thread.
    static func paddedInput(_ x: UnsafePointer<Float>, channels: Int, _ win: Window, rows ph: Int, columns pw: Int) -> [Float] {
        [Float](largeCount: channels * ph * pw) { p in
            let (xs, ps) = (UncheckedSendable(x), UncheckedSendable(p.baseAddress!))
            let (ih, iw) = (win.input.h, win.input.w)
            Parallel.forEachBand(channels, minimumBand: max(1, (1 << 16) / (ph * pw))) { planes in
                strata_conv_pad(xs.value + planes.lowerBound * ih * iw, Int32(planes.count), Int32(ih), Int32(iw), Int32(win.padTop),
                                Int32(win.padLeft), ps.value + planes.lowerBound * ph * pw, Int32(ph), Int32(pw))
            }
        }
    }

    /// Calls `body` with a pointer to the bias values, or nil.
    static func withBias<T>(_ bias: [Float]?, _ body: (UnsafePointer<Float>?) -> T) -> T {
        guard let bias else { return body(nil) }
        return bias.withUnsafeBufferPointer { body($0.baseAddress) }
    }

    /// im2col over bands of output rows and one GEMM per band and group. Each thread takes
    /// whole bands, with its own column buffer (a few MB, so it stays in L2/L3 between the
    /// copy and the product) and a single-threaded sgemm: no hand-off between a parallel
    /// copy and a parallel product per band.
    static func im2colConv(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                           group: Int, groupChannels: Int, outGroup: Int, _ win: Window, epilogue: Epilogue) {
        let (oh, ow) = (win.output.h, win.output.w)
        let taps = groupChannels * win.kernel.h * win.kernel.w
        let threads = Parallel.threadCount
        // Bands of about 1M column values, but at least two per thread when the output allows.
        let band = max(1, min((1 << 20) / max(1, taps * ow), (oh + 2 * threads - 1) / (2 * threads)))
        let bands = (oh + band - 1) / band
        let (xs, ws, ys) = (UncheckedSendable(x), UncheckedSendable(w), UncheckedSendable(y))
        withBias(epilogue.bias) { bias in
            let bs = UncheckedSendable(bias)
            Parallel.forEachBand(bands * group, minimumBand: 1) { tasks in
                var col = [Float](repeating: 0, count: taps * band * ow)
                col.withUnsafeMutableBufferPointer { colBuffer in
                    for task in tasks {
                        let (g, b) = (task / bands, task % bands)
                        let r0 = b * band, rows = min(band, oh - r0)
                        im2col(xs.value + g * groupChannels * win.input.h * win.input.w, into: colBuffer.baseAddress!,
                               channels: groupChannels, rows: r0..<(r0 + rows), win)
                        let yg = ys.value + g * outGroup * oh * ow + r0 * ow
                        Gemm.block(m: outGroup, n: rows * ow, k: taps, a: ws.value + g * outGroup * taps, lda: taps,
                                   b: colBuffer.baseAddress!, ldb: rows * ow, c: yg, ldc: oh * ow,
                                   finish: epilogue.finish(yg, ldc: oh * ow, channel: g * outGroup, bias: bs.value))
                    }
                }
            }
        }
    }

    /// The column matrix of output rows `rows`: one row per (channel, kernel row, kernel
    /// column), one column per output pixel of the band.
    @inline(__always)
    static func im2col(_ x: UnsafePointer<Float>, into col: UnsafeMutablePointer<Float>, channels: Int, rows: Range<Int>, _ win: Window) {
        let (ih, iw, ow) = (win.input.h, win.input.w, win.output.w)
        let (kh, kw) = win.kernel
        let columns = rows.count * ow
        for t in 0..<(channels * kh * kw) {
            let c = t / (kh * kw), i = (t / kw) % kh, j = t % kw
            let src = x + c * ih * iw
            let dst = col + t * columns
            for (r, oy) in rows.enumerated() {
                let iy = oy * win.stride.h - win.padTop + i * win.dilation.h
                let line = dst + r * ow
                guard iy >= 0 && iy < ih else {
                    for ox in 0..<ow { line[ox] = 0 }
                    continue
                }
                let s = src + iy * iw
                // Output columns whose input column is inside the row: a copy (contiguous at
                // stride 1) between two runs of zeros.
                let offset = j * win.dilation.w - win.padLeft, step = win.stride.w
                let first = min(ow, offset >= 0 ? 0 : (-offset + step - 1) / step)
                let last = max(first, min(ow, iw - 1 - offset >= 0 ? (iw - 1 - offset) / step + 1 : 0))
                for ox in 0..<first { line[ox] = 0 }
                if step == 1 {
                    (line + first).update(from: s + offset + first, count: last - first)
                } else {
                    for ox in first..<last { line[ox] = s[ox * step + offset] }
                }
                for ox in last..<ow { line[ox] = 0 }
            }
        }
    }

    /// The columns of a ConvTranspose whose stride equals its kernel, copied to the output:
    /// column (m, i, j) of input pixel (yy, xx) is output pixel (yy·kh + i − pt, xx·kw + j − pl)
    /// of channel m, and no two columns meet. Rows of the output are written in order.
    static func scatterTiles(_ col: UnsafeMutablePointer<Float>, into y: UnsafeMutablePointer<Float>, channels: Int,
                             input: (h: Int, w: Int), output: (h: Int, w: Int), kernel: (h: Int, w: Int), pad: (top: Int, left: Int)) {
        let (cs, ys) = (UncheckedSendable(col), UncheckedSendable(y))
        let plane = input.h * input.w
        Parallel.forEachBand(channels * output.h, minimumBand: 4) { rows in
            for r in rows {
                let (m, oy) = (r / output.h, r % output.h)
                let position = oy + pad.top
                let (yy, i) = (position / kernel.h, position % kernel.h)
                let line = ys.value + r * output.w
                guard yy < input.h else { continue }
                for ox in 0..<output.w {
                    let x = ox + pad.left
                    let (xx, j) = (x / kernel.w, x % kernel.w)
                    guard xx < input.w else { continue }
                    line[ox] = cs.value[((m * kernel.h + i) * kernel.w + j) * plane + yy * input.w + xx]
                }
            }
        }
    }

    /// The gradient of Conv with respect to its input: one GEMM per group to columns, then a
    /// scatter-add of the columns into the output (col2im).
    static func convTranspose(x: (shape: [Int], values: [Float]), weight w: (shape: [Int], values: [Float]), bias: [Float]?,
                              attributes a: Attributes) throws -> Tensor {
        guard x.shape.count >= 3, x.shape.count <= 4, w.shape.count == x.shape.count else {
            throw NNError.invalidTensor("ConvTranspose of input \(x.shape) with weights \(w.shape): 1-D or 2-D expected")
        }
        let rank = x.shape.count - 2
        let (n, channels) = (x.shape[0], x.shape[1])
        let group = a.int("group", 1)
        guard group > 0, w.shape[0] == channels, channels % group == 0 else {
            throw NNError.invalidTensor("ConvTranspose: \(channels) input channels, weights \(w.shape), group \(group) do not fit")
        }
        let (groupChannels, outGroup) = (channels / group, w.shape[1])
        let outChannels = outGroup * group
        if let bias, bias.count != outChannels { throw NNError.invalidTensor("ConvTranspose bias has \(bias.count) values for \(outChannels) channels") }
        let kernel = Array(w.shape[2...]), spatial = Array(x.shape[2...])
        let (outSize, pads, strides, dilations) = try transposeGeometry(spatial: spatial, kernel: kernel, attributes: a)
        // As 2-D: a 1-D problem is one of height 1.
        let (ih, iw) = rank == 1 ? (1, spatial[0]) : (spatial[0], spatial[1])
        let (oh, ow) = rank == 1 ? (1, outSize[0]) : (outSize[0], outSize[1])
        let (kh, kw) = rank == 1 ? (1, kernel[0]) : (kernel[0], kernel[1])
        let (sh, sw) = rank == 1 ? (1, strides[0]) : (strides[0], strides[1])
        let (dh, dw) = rank == 1 ? (1, dilations[0]) : (dilations[0], dilations[1])
        let (pt, pl) = rank == 1 ? (0, pads[0]) : (pads[0], pads[1])
        let rows = outGroup * kh * kw
        let shape = [n, outChannels] + outSize
        // Stride equal to the kernel (DPT's reassemble upsampling): each input pixel's block of
        // columns lands on its own tile of the output, so the scatter is a plain copy.
        let tiles = sh == kh && sw == kw && dh == 1 && dw == 1 && pt >= 0 && pl >= 0
        let out = [Float](largeCount: shape.reduce(1, *)) { y in
            // Outputs no tile reaches (output_padding, a larger output_shape) stay zero.
            let covered = tiles && pt >= 0 && pl >= 0 && ih * kh - pt >= oh && iw * kw - pl >= ow
            if !covered { for i in y.indices { y[i] = 0 } }
            var col = [Float](repeating: 0, count: rows * ih * iw)
            x.values.withUnsafeBufferPointer { px in
                w.values.withUnsafeBufferPointer { pw in
                    col.withUnsafeMutableBufferPointer { pc in
                        let cp = UncheckedSendable(pc.baseAddress!)
                        for b in 0..<n {
                            for g in 0..<group {
                                // col[(m, i, j), pixel] = Σ_c W[c, m, i, j] · X[c, pixel]
                                Gemm.multiply(m: rows, n: ih * iw, k: groupChannels, a: pw.baseAddress! + g * groupChannels * rows, lda: rows, transposeA: true,
                                              b: px.baseAddress! + (b * channels + g * groupChannels) * ih * iw, ldb: ih * iw,
                                              c: pc.baseAddress!, ldc: ih * iw)
                                let yg = UncheckedSendable(y.baseAddress! + (b * outChannels + g * outGroup) * oh * ow)
                                if tiles {
                                    scatterTiles(cp.value, into: yg.value, channels: outGroup, input: (ih, iw), output: (oh, ow), kernel: (kh, kw), pad: (pt, pl))
                                    continue
                                }
                                // Scatter: each output channel is written by one band only.
                                Parallel.forEachBand(outGroup, minimumBand: 1) { range in
                                    for m in range {
                                        let plane = yg.value + m * oh * ow
                                        for i in 0..<kh {
                                            for j in 0..<kw {
                                                let src = cp.value + ((m * kh + i) * kw + j) * ih * iw
                                                for yy in 0..<ih {
                                                    let oy = yy * sh - pt + i * dh
                                                    guard oy >= 0 && oy < oh else { continue }
                                                    let line = plane + oy * ow, s = src + yy * iw
                                                    for xx in 0..<iw {
                                                        let ox = xx * sw - pl + j * dw
                                                        if ox >= 0 && ox < ow { line[ox] += s[xx] }
                                                    }
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            finish(y, channels: outChannels, plane: oh * ow, bias: bias, activation: .none)
        }
        return Tensor(shape: shape, floats: out)
    }

    /// ConvTranspose's output extents and the pads, strides and dilations in force, for input
    /// extents `spatial` and a kernel of `kernel` (output_shape and auto_pad resolved).
    static func transposeGeometry(spatial: [Int], kernel: [Int], attributes a: Attributes) throws
        -> (outSize: [Int], pads: [Int], strides: [Int], dilations: [Int]) {
        let rank = spatial.count
        let strides = a.ints("strides") ?? [Int](repeating: 1, count: rank)
        let dilations = a.ints("dilations") ?? [Int](repeating: 1, count: rank)
        let outputPadding = a.ints("output_padding") ?? [Int](repeating: 0, count: rank)
        var pads = a.ints("pads") ?? [Int](repeating: 0, count: 2 * rank)
        guard strides.count == rank, dilations.count == rank, outputPadding.count == rank, pads.count == 2 * rank else {
            throw NNError.invalidTensor("ConvTranspose: strides, dilations, output_padding or pads do not have \(rank) axes")
        }
        let autoPad = a.string("auto_pad", "NOTSET")
        var outSize = [Int](repeating: 0, count: rank)
        var full = [Int](repeating: 0, count: rank)
        for i in 0..<rank {
            let reach: Int = (kernel[i] - 1) * dilations[i] + 1
            full[i] = strides[i] * (spatial[i] - 1) + outputPadding[i] + reach
        }
        /// Splits a total padding between the two ends as auto_pad says (floor division, as
        /// the reference: a negative total, an output_shape past the full output, pads the end).
        func split(_ total: Int) -> (Int, Int) {
            let half: Int = total >= 0 ? total / 2 : -((-total + 1) / 2)
            return autoPad == "SAME_UPPER" ? (half, total - half) : (total - half, half)
        }
        if let given = a.ints("output_shape") {
            let target = Array(given.suffix(rank))
            for i in 0..<rank {
                (pads[i], pads[i + rank]) = split(full[i] - target[i])
                outSize[i] = target[i]
            }
        } else if autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER" {
            for i in 0..<rank {
                outSize[i] = spatial[i] * strides[i]
                (pads[i], pads[i + rank]) = split(full[i] - outSize[i])
            }
        } else {
            for i in 0..<rank { outSize[i] = full[i] - pads[i] - pads[i + rank] }
        }
        guard outSize.allSatisfy({ $0 > 0 }) else { throw NNError.invalidTensor("ConvTranspose output would be empty (\(outSize))") }
        return (outSize, pads, strides, dilations)
    }
}
