import Foundation
import StrataCore

/// Resize (opsets 10–18) and Upsample: nearest, linear and cubic, one axis at a time, with
/// every coordinate transformation mode the depth networks' exports use.
enum ResizeOps {
    static let modes = ["nearest", "linear", "cubic"]
    static let transforms = ["half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric", "tf_half_pixel_for_nn", "tf_crop_and_resize"]
    static let nearestModes = ["round_prefer_floor", "round_prefer_ceil", "floor", "ceil"]

    static func register(_ t: inout [String: Operator]) {
        t["Resize"] = Operator(check: { node, _ in
            let a = Attributes(values: node.attributes)
            let mode = a.string("mode", "nearest"), transform = a.string("coordinate_transformation_mode", "half_pixel")
            if !modes.contains(mode) { return "Resize mode \"\(mode)\" is not supported" }
            if !transforms.contains(transform) { return "Resize coordinate_transformation_mode \"\(transform)\" is not supported" }
            if !nearestModes.contains(a.string("nearest_mode", "round_prefer_floor")) { return "Resize nearest_mode is not supported" }
            if a.int("antialias", 0) != 0 { return "Resize with antialias is not supported" }
            if a.string("keep_aspect_ratio_policy", "stretch") != "stretch" { return "Resize keep_aspect_ratio_policy other than stretch is not supported" }
            return nil
        }, run: resize)
        t["Upsample"] = Operator(check: { node, _ in
            let mode = Attributes(values: node.attributes).string("mode", "nearest")
            return ["nearest", "linear", "bilinear"].contains(mode) ? nil : "Upsample mode \"\(mode)\" is not supported"
        }, run: { c in
            let x = try c.input(0)
            let scales = c.opset >= 9 ? try c.floats(1).values : (c.attributes.floats("scales") ?? [])
            guard scales.count == x.rank else { throw NNError.invalidTensor("Upsample has \(scales.count) scales for rank \(x.rank)") }
            let mode = c.attributes.string("mode", "nearest") == "nearest" ? "nearest" : "linear"
            let sizes = zip(x.shape, scales).map { Int((Float($0) * $1).rounded(.down)) }
            return [try resample(x, sizes: sizes, scales: scales, mode: mode, transform: "asymmetric", nearest: "floor",
                                 cubicA: -0.75, excludeOutside: false, roi: nil, extrapolation: 0)]
        })
    }

    static func resize(_ c: OpContext) throws -> [Tensor] {
        let x = try c.input(0)
        let a = c.attributes
        let rank = x.rank
        let old = c.opset < 11
        let roiInput = old ? nil : c.optional(1)
        let (axes, sizes, scales) = try geometry(c, shape: x.shape)
        var roi: [Float]?
        if let r = roiInput, r.count > 0, let values = r.floats {
            // roi is starts then ends, for the axes given.
            var full = [Float](repeating: 0, count: rank) + [Float](repeating: 1, count: rank)
            guard values.count == 2 * axes.count else { throw NNError.invalidTensor("Resize roi of \(values.count) values for \(axes.count) axes") }
            for (k, axis) in axes.enumerated() {
                full[axis] = values[k]
                full[axis + rank] = values[k + axes.count]
            }
            roi = full
        }
        return [try resample(x, sizes: sizes, scales: scales, mode: a.string("mode", "nearest"),
                             transform: old ? "asymmetric" : a.string("coordinate_transformation_mode", "half_pixel"),
                             nearest: old ? "floor" : a.string("nearest_mode", "round_prefer_floor"),
                             cubicA: a.float("cubic_coeff_a", -0.75), excludeOutside: a.int("exclude_outside", 0) == 1,
                             roi: roi, extrapolation: a.float("extrapolation_value", 0))]
    }

    /// The axes Resize scales, the output extents and the scale per axis, from `sizes` or
    /// `scales` (inputs from opset 11, scales alone before).
    static func geometry(_ c: OpContext, shape: [Int]) throws -> (axes: [Int], sizes: [Int], scales: [Float]) {
        let a = c.attributes
        let rank = shape.count
        // Opset 10: (X, scales), asymmetric coordinates and floor for nearest.
        let old = c.opset < 11
        let scalesInput = old ? c.optional(1) : c.optional(2)
        let sizesInput = old ? nil : c.optional(3)
        let axes = try (a.ints("axes") ?? Array(0..<rank)).map { try normalizedAxis($0, rank: rank) }
        var scales = [Float](repeating: 1, count: rank)
        var sizes = shape
        if let s = sizesInput, s.count > 0 {
            let given = try c.ints(3)
            guard given.count == axes.count else { throw NNError.invalidTensor("Resize sizes \(given) for \(axes.count) axes") }
            for (k, axis) in axes.enumerated() {
                sizes[axis] = given[k]
                scales[axis] = Float(given[k]) / Float(shape[axis])
            }
        } else if let s = scalesInput, s.count > 0 {
            guard let given = s.floats, given.count == axes.count else { throw NNError.invalidTensor("Resize scales \(s.shape) for \(axes.count) axes") }
            for (k, axis) in axes.enumerated() {
                guard given[k] > 0 else { throw NNError.invalidTensor("Resize scale \(given[k]) must be positive") }
                scales[axis] = given[k]
                sizes[axis] = Int((Float(shape[axis]) * given[k]).rounded(.down))
            }
        } else {
            throw NNError.invalidTensor("Resize needs scales or sizes")
        }
        return (axes, sizes, scales)
    }

    /// Where output coordinate `x` lies in an input axis of `inSize`. The output's length
    /// is input × scale unrounded, as in the ONNX reference: with scales given, align_corners
    /// maps onto 0…in−1 over that length, not over the rounded-down pixel count.
    @inline(__always)
    static func source(_ x: Int, inSize: Int, scale: Float, transform: String, roi: (Float, Float)?) -> Float {
        let xf = Float(x)
        let length = Float(inSize) * scale
        switch transform {
        case "half_pixel": return (xf + 0.5) / scale - 0.5
        case "pytorch_half_pixel": return length > 1 ? (xf + 0.5) / scale - 0.5 : 0
        case "align_corners": return length == 1 ? 0 : xf * Float(inSize - 1) / (length - 1)
        case "tf_half_pixel_for_nn": return (xf + 0.5) / scale
        case "tf_crop_and_resize":
            let (start, end) = roi ?? (0, 1)
            return length > 1 ? start * Float(inSize - 1) + xf * (end - start) * Float(inSize - 1) / (length - 1)
                : 0.5 * (start + end) * Float(inSize - 1)
        default: return xf / scale  // asymmetric
        }
    }

    /// Per output coordinate of one axis: source indices and weights (index −1: the
    /// extrapolation value).
    struct Taps { var index: [Int]; var weight: [Float]; var count: Int }

    static func taps(inSize: Int, outSize: Int, scale: Float, mode: String, transform: String, nearest: String,
                     cubicA: Float, excludeOutside: Bool, roi: (Float, Float)?) -> Taps {
        let k = mode == "nearest" ? 1 : mode == "linear" ? 2 : 4
        var index = [Int](repeating: 0, count: outSize * k), weight = [Float](repeating: 0, count: outSize * k)
        for x in 0..<outSize {
            let s = source(x, inSize: inSize, scale: scale, transform: transform, roi: roi)
            if transform == "tf_crop_and_resize" && (s < 0 || s > Float(inSize - 1)) {
                for t in 0..<k { index[x * k + t] = -1; weight[x * k + t] = t == 0 ? 1 : 0 }
                continue
            }
            switch k {
            case 1:
                var i: Int
                switch nearest {
                case "floor": i = Int(s.rounded(.down))
                case "ceil": i = Int(s.rounded(.up))
                case "round_prefer_ceil": i = Int((s + 0.5).rounded(.down))
                default: i = s == s.rounded(.down) + 0.5 ? Int(s.rounded(.down)) : Int(s.rounded())
                }
                index[x] = min(max(i, 0), inSize - 1)
                weight[x] = 1
            case 2:
                let clamped = min(max(s, 0), Float(inSize - 1))
                let i = Int(clamped.rounded(.down))
                let r = clamped - Float(i)
                index[2 * x] = i; weight[2 * x] = 1 - r
                index[2 * x + 1] = min(i + 1, inSize - 1); weight[2 * x + 1] = r
            default:
                let i = Int(s.rounded(.down))
                let r = s - Float(i)
                // Keys' cubic with coefficient A at distances 1 + r, r, 1 − r, 2 − r.
                let d = [1 + r, r, 1 - r, 2 - r]
                var w = d.map { t -> Float in
                    let a = cubicA
                    return t <= 1 ? ((a + 2) * t - (a + 3)) * t * t + 1 : ((a * t - 5 * a) * t + 8 * a) * t - 4 * a
                }
                if excludeOutside {
                    for t in 0..<4 where i - 1 + t < 0 || i - 1 + t >= inSize { w[t] = 0 }
                    let total = w.reduce(0, +)
                    if total != 0 { w = w.map { $0 / total } }
                }
                for t in 0..<4 {
                    index[4 * x + t] = min(max(i - 1 + t, 0), inSize - 1)
                    weight[4 * x + t] = w[t]
                }
            }
        }
        return Taps(index: index, weight: weight, count: k)
    }

    /// Resamples every axis whose size changes (and every axis for tf_crop_and_resize).
    static func resample(_ x: Tensor, sizes: [Int], scales: [Float], mode: String, transform: String, nearest: String,
                         cubicA: Float, excludeOutside: Bool, roi: [Float]?, extrapolation: Float) throws -> Tensor {
        guard sizes.allSatisfy({ $0 >= 0 }) else { throw NNError.invalidTensor("Resize to \(sizes)") }
        guard var values = x.floats else {
            // Nearest on integer tensors (rare: masks) goes through floats exactly.
            guard mode == "nearest", let ints = x.int64s else { throw NNError.invalidTensor("Resize of a \(x.dataType) tensor") }
            let r = try resample(Tensor(shape: x.shape, floats: ints.map { Float($0) }), sizes: sizes, scales: scales, mode: mode,
                                 transform: transform, nearest: nearest, cubicA: cubicA, excludeOutside: excludeOutside, roi: roi, extrapolation: extrapolation)
            return r.cast(to: .int64)
        }
        var shape = x.shape
        let rank = x.rank
        let changing = (0..<rank).filter { sizes[$0] != shape[$0] || scales[$0] != 1 }
        if mode == "linear" && transform != "tf_crop_and_resize" && rank >= 2 && changing == [rank - 2, rank - 1] {
            let tall = taps(inSize: shape[rank - 2], outSize: sizes[rank - 2], scale: scales[rank - 2], mode: mode, transform: transform,
                            nearest: nearest, cubicA: cubicA, excludeOutside: excludeOutside, roi: nil)
            let wide = taps(inSize: shape[rank - 1], outSize: sizes[rank - 1], scale: scales[rank - 1], mode: mode, transform: transform,
                            nearest: nearest, cubicA: cubicA, excludeOutside: excludeOutside, roi: nil)
            return Tensor(shape: sizes, floats: bilinear(values, shape: shape, rows: tall, columns: wide))
        }
        // Shrinking axes first and growing ones last, so each pass runs on the smallest
        // tensor it can; among equal ratios the last axis first, since its pass gathers
        // element by element where the others move whole rows (MiDaS's 2× upsamplings:
        // the gathers then cover half the output).
        let ratio = { (axis: Int) in Double(sizes[axis]) / Double(max(1, shape[axis])) }
        let order = (0..<rank).sorted { (ratio($0), $0 == rank - 1 ? 0 : 1, $0) < (ratio($1), $1 == rank - 1 ? 0 : 1, $1) }
        for axis in order {
            let axisROI = roi.map { ($0[axis], $0[axis + rank]) }
            let identity = sizes[axis] == shape[axis] && scales[axis] == 1 && transform != "tf_crop_and_resize"
            if identity { continue }
            let t = taps(inSize: shape[axis], outSize: sizes[axis], scale: scales[axis], mode: mode, transform: transform,
                         nearest: nearest, cubicA: cubicA, excludeOutside: excludeOutside, roi: axisROI)
            values = resampleAxis(values, shape: shape, axis: axis, outSize: sizes[axis], taps: t, extrapolation: extrapolation)
            shape[axis] = sizes[axis]
        }
        return Tensor(shape: shape, floats: values)
    }

    /// Linear in both of the last two axes at once (the depth networks' upsamplings): each
    /// output row blends two source rows resampled along the columns, and a source row is
    /// resampled once for the output rows that share it. One pass, where two wrote and read
    /// back an intermediate of half the output's size (Depth Anything's 32 planes of 296²
    /// to 592²: 22 MB).
    static func bilinear(_ x: [Float], shape: [Int], rows: Taps, columns: Taps) -> [Float] {
        let rank = shape.count
        let (ih, iw) = (shape[rank - 2], shape[rank - 1])
        let (oh, ow) = (rows.index.count / 2, columns.index.count / 2)
        let planes = shape[..<(rank - 2)].reduce(1, *)
        return [Float](largeCount: planes * oh * ow) { y in
            guard y.count > 0, ih > 0, iw > 0 else { return }
            let ys = UncheckedSendable(y.baseAddress!)
            x.withUnsafeBufferPointer { px in
                columns.index.withUnsafeBufferPointer { ci in
                    columns.weight.withUnsafeBufferPointer { cw in
                        Parallel.forEachBand(planes * oh, minimumBand: max(1, 8192 / max(1, ow))) { range in
                            // Two resampled source rows, and which (plane, row) each holds.
                            var cache = [Float](repeating: 0, count: 2 * ow)
                            var held = [-1, -1]
                            cache.withUnsafeMutableBufferPointer { cb in
                                let slots = [cb.baseAddress!, cb.baseAddress! + ow]
                                func resampled(_ key: Int, keep other: Int) -> UnsafeMutablePointer<Float> {
                                    if held[0] == key { return slots[0] }
                                    if held[1] == key { return slots[1] }
                                    let slot = held[0] == other ? 1 : 0
                                    held[slot] = key
                                    let src = px.baseAddress! + key * iw, dst = slots[slot]
                                    for j in 0..<ow {
                                        dst[j] = cw[2 &* j] * src[ci[2 &* j]] + cw[2 &* j &+ 1] * src[ci[2 &* j &+ 1]]
                                    }
                                    return dst
                                }
                                for row in range {
                                    let (plane, oy) = (row / oh, row % oh)
                                    let top = plane * ih + rows.index[2 * oy], bottom = plane * ih + rows.index[2 * oy + 1]
                                    let a = resampled(top, keep: bottom)
                                    let b = resampled(bottom, keep: top)
                                    let (wa, wb) = (rows.weight[2 * oy], rows.weight[2 * oy + 1])
                                    let dst = ys.value + row * ow
                                    for j in 0..<ow { dst[j] = wa * a[j] + wb * b[j] }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// One axis resampled through its taps.
    static func resampleAxis(_ x: [Float], shape: [Int], axis: Int, outSize: Int, taps: Taps, extrapolation: Float) -> [Float] {
        let outer = shape[..<axis].reduce(1, *), inner = shape[(axis + 1)...].reduce(1, *)
        let inSize = shape[axis]
        let k = taps.count
        return [Float](largeCount: outer * outSize * inner) { y in
            guard y.count > 0 else { return }
            let ys = UncheckedSendable(y.baseAddress!)
            x.withUnsafeBufferPointer { px in
                taps.index.withUnsafeBufferPointer { ti in
                    taps.weight.withUnsafeBufferPointer { tw in
                        if inner == 1 {
                            // The last axis: each row gathers along itself; no per-element
                            // division into (row, column) or inner loop of one.
                            Parallel.forEachBand(outer, minimumBand: max(1, 4096 / max(1, outSize))) { rows in
                                for o in rows {
                                    let src = px.baseAddress! + o * inSize, dst = ys.value + o * outSize
                                    if k == 2 {
                                        // Linear: two taps, no loop over them.
                                        for j in 0..<outSize {
                                            let first = ti[2 &* j]
                                            dst[j] = first < 0 ? extrapolation : tw[2 &* j] * src[first] + tw[2 &* j &+ 1] * src[ti[2 &* j &+ 1]]
                                        }
                                        continue
                                    }
                                    for j in 0..<outSize {
                                        let first = ti[j * k]
                                        if first < 0 {
                                            dst[j] = extrapolation
                                            continue
                                        }
                                        var v = tw[j * k] * src[first]
                                        for t in 1..<max(1, k) { v += tw[j * k + t] * src[ti[j * k + t]] }
                                        dst[j] = v
                                    }
                                }
                            }
                            return
                        }
                        Parallel.forEachBand(outer * outSize, minimumBand: max(1, 4096 / max(1, inner))) { range in
                            for row in range {
                                let (o, j) = (row / outSize, row % outSize)
                                let dst = ys.value + row * inner
                                let base = px.baseAddress! + o * inSize * inner
                                if ti[j * k] < 0 {
                                    for e in 0..<inner { dst[e] = extrapolation }
                                    continue
                                }
                                let first = base + ti[j * k] * inner, w0 = tw[j * k]
                                for e in 0..<inner { dst[e] = w0 * first[e] }
                                for t in 1..<max(1, k) {
                                    let src = base + ti[j * k + t] * inner, w = tw[j * k + t]
                                    for e in 0..<inner { dst[e] += w * src[e] }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
