import CStrataKernels
import Foundation
import StrataCore

/// Normalizations and softmax: BatchNormalization (inference), InstanceNormalization,
/// LayerNormalization, Softmax, LogSoftmax.
enum NormOps {
    static func register(_ t: inout [String: Operator]) {
        t["BatchNormalization"] = Operator(check: { node, _ in
            let a = Attributes(values: node.attributes)
            if a.int("training_mode", 0) == 1 || node.outputs.dropFirst().contains(where: { !$0.isEmpty }) {
                return "BatchNormalization in training mode is not supported"
            }
            return nil
        }, run: { c in
            let x = try c.floats(0)
            let (scale, bias, mean, variance) = (try c.floats(1).values, try c.floats(2).values, try c.floats(3).values, try c.floats(4).values)
            let (multiplier, offset) = try batchNormAffine(scale: scale, bias: bias, mean: mean, variance: variance,
                                                           epsilon: c.attributes.float("epsilon", 1e-5))
            return [try channelAffine(x, multiplier: multiplier, offset: offset)]
        })
        t["InstanceNormalization"] = Operator { c in
            let x = try c.floats(0)
            let (scale, bias) = (try c.floats(1).values, try c.floats(2).values)
            guard x.shape.count >= 3, scale.count == x.shape[1], bias.count == x.shape[1] else {
                throw NNError.invalidTensor("InstanceNormalization of \(x.shape) with \(scale.count) scales")
            }
            let epsilon = c.attributes.float("epsilon", 1e-5)
            let size = x.shape[2...].reduce(1, *), channels = x.shape[1]
            return [Tensor(shape: x.shape, floats: normalizeRows(x.values, length: size, epsilon: epsilon) { row in
                (scale[row % channels], bias[row % channels])
            }.values)]
        }
        t["LayerNormalization"] = Operator { c in
            let x = try c.floats(0)
            let axis = try normalizedAxis(c.attributes.int("axis", -1), rank: x.shape.count)
            let length = x.shape[axis...].reduce(1, *)
            let scale = try c.floats(1).values
            let bias = try c.optional(2).map { _ in try c.floats(2).values }
            guard scale.count == length || scale.count == 1, bias.map({ $0.count == length || $0.count == 1 }) ?? true else {
                throw NNError.invalidTensor("LayerNormalization scale/bias of \(scale.count) values for a normalized size \(length)")
            }
            let (y, stats) = layerNorm(x.values, length: length, scale: scale, bias: bias, epsilon: c.attributes.float("epsilon", 1e-5))
            let statShape = Array(x.shape[..<axis]) + [Int](repeating: 1, count: x.shape.count - axis)
            var outputs = [Tensor(shape: x.shape, floats: y)]
            if c.outputCount > 1 { outputs.append(Tensor(shape: statShape, floats: stats.map(\.mean))) }
            if c.outputCount > 2 { outputs.append(Tensor(shape: statShape, floats: stats.map(\.inverseDeviation))) }
            return outputs
        }
        t["Softmax"] = Operator { c in [try softmax(c, log: false)] }
        t["LogSoftmax"] = Operator { c in [try softmax(c, log: true)] }
    }

    /// BatchNormalization at inference as y = x · multiplier + offset per channel.
    static func batchNormAffine(scale: [Float], bias: [Float], mean: [Float], variance: [Float], epsilon: Float) throws -> ([Float], [Float]) {
        let n = scale.count
        guard bias.count == n, mean.count == n, variance.count == n else {
            throw NNError.invalidTensor("BatchNormalization scale, bias, mean and variance differ in length")
        }
        let multiplier = (0..<n).map { scale[$0] / (variance[$0] + epsilon).squareRoot() }
        let offset = (0..<n).map { bias[$0] - mean[$0] * multiplier[$0] }
        return (multiplier, offset)
    }

    /// x · multiplier[c] + offset[c] along axis 1.
    static func channelAffine(_ x: (shape: [Int], values: [Float]), multiplier: [Float], offset: [Float]) throws -> Tensor {
        guard x.shape.count >= 2, x.shape[1] == multiplier.count else {
            throw NNError.invalidTensor("per-channel parameters of \(multiplier.count) values for a tensor \(x.shape)")
        }
        let channels = x.shape[1], plane = x.shape[2...].reduce(1, *)
        let out = [Float](largeCount: x.values.count) { y in
            x.values.withUnsafeBufferPointer { px in
                let ys = UncheckedSendable(y.baseAddress!)
                Parallel.forEachBand(x.values.count / max(1, plane), minimumBand: max(1, 8192 / max(1, plane))) { rows in
                    for r in rows {
                        let (m, o) = (multiplier[r % channels], offset[r % channels])
                        let s = px.baseAddress! + r * plane, d = ys.value + r * plane
                        for j in 0..<plane { d[j] = s[j] * m + o }
                    }
                }
            }
        }
        return Tensor(shape: x.shape, floats: out)
    }

    struct RowStatistics { var mean: Float; var inverseDeviation: Float }

    /// Each row of `length` normalized to zero mean and unit variance (two passes: the
    /// variance from deviations, not from the mean of squares), then scaled and shifted by
    /// `affine(row)`.
    static func normalizeRows(_ x: [Float], length: Int, epsilon: Float,
                              affine: (Int) -> (Float, Float)) -> (values: [Float], stats: [RowStatistics]) {
        let rows = length == 0 ? 0 : x.count / length
        var stats = [RowStatistics](repeating: RowStatistics(mean: 0, inverseDeviation: 0), count: rows)
        let values = [Float](largeCount: x.count) { y in
            x.withUnsafeBufferPointer { px in
                stats.withUnsafeMutableBufferPointer { ps in
                    let (ys, ss) = (UncheckedSendable(y.baseAddress!), UncheckedSendable(ps.baseAddress!))
                    Parallel.forEachBand(rows, minimumBand: max(1, 4096 / max(1, length))) { range in
                        for r in range {
                            let s = px.baseAddress! + r * length, d = ys.value + r * length
                            let mean = rowSum(s, length) { $0 } / Float(length)
                            let squares = rowSum(s, length) { ($0 - mean) * ($0 - mean) }
                            let inverse = 1 / (squares / Float(length) + epsilon).squareRoot()
                            let (scale, shift) = affine(r)
                            for j in 0..<length { d[j] = (s[j] - mean) * inverse * scale + shift }
                            ss.value[r] = RowStatistics(mean: mean, inverseDeviation: inverse)
                        }
                    }
                }
            }
        }
        return (values, stats)
    }

    /// Σ f(p[j]) over a row, in eight running sums (one chain of dependent adds a lane, not
    /// one for the whole row: a 384-wide row's two passes were a third of LayerNorm's time).
    @inline(__always)
    static func rowSum(_ p: UnsafePointer<Float>, _ n: Int, _ f: (SIMD8<Float>) -> SIMD8<Float>) -> Float {
        var lanes = SIMD8<Float>()
        var j = 0
        while j + 8 <= n {
            lanes += f(UnsafeRawPointer(p + j).loadUnaligned(as: SIMD8<Float>.self))
            j += 8
        }
        var sum = lanes.sum()
        while j < n { sum += f(SIMD8(repeating: p[j]))[0]; j += 1 }
        return sum
    }

    /// LayerNormalization over the trailing `length` elements of each row, with per-element
    /// scale and bias.
    static func layerNorm(_ x: [Float], length: Int, scale: [Float], bias: [Float]?, epsilon: Float) -> ([Float], [RowStatistics]) {
        // Bound as a var so the buffer is not shared and the pass below writes it in place.
        var (y, stats) = normalizeRows(x, length: length, epsilon: epsilon) { _ in (1, 0) }
        let rows = length == 0 ? 0 : x.count / length
        // Scale and bias at full length, so the pass is one multiply-add per element (a
        // closure per element for the bias ran a Depth Anything LayerNorm at 4× onnxruntime's time).
        let gamma = scale.count == 1 ? [Float](repeating: scale[0], count: length) : scale
        let beta = bias.map { $0.count == 1 ? [Float](repeating: $0[0], count: length) : $0 } ?? [Float](repeating: 0, count: length)
        y.withUnsafeMutableBufferPointer { py in
            gamma.withUnsafeBufferPointer { pg in
                beta.withUnsafeBufferPointer { pb in
                    let (ys, gs, bs) = (UncheckedSendable(py.baseAddress!), UncheckedSendable(pg.baseAddress!), UncheckedSendable(pb.baseAddress!))
                    Parallel.forEachBand(rows, minimumBand: max(1, 4096 / max(1, length))) { range in
                        let (g, b) = (gs.value, bs.value)
                        for r in range {
                            let d = ys.value + r * length
                            for j in 0..<length { d[j] = d[j] * g[j] + b[j] }
                        }
                    }
                }
            }
        }
        return (y, stats)
    }

    /// Softmax along an axis (opset ≥ 13) or over the flattened trailing axes (before 13).
    static func softmax(_ c: OpContext, log: Bool) throws -> Tensor {
        let x = try c.floats(0)
        let rank = x.shape.count
        let axis = try normalizedAxis(c.attributes.int("axis", c.opset >= 13 ? -1 : 1), rank: rank)
        if c.opset < 13 || axis == rank - 1 {
            let length = x.shape[axis...].reduce(1, *)
            return Tensor(shape: x.shape, floats: softmaxRows(x.values, length: length, log: log))
        }
        // An inner axis: move it last, soften, move it back.
        var perm = Array(0..<rank)
        perm.remove(at: axis)
        perm.append(axis)
        let moved = Tensor(shape: x.shape, floats: x.values).transposed(perm)
        let soft = Tensor(shape: moved.shape, floats: softmaxRows(moved.floats!, length: x.shape[axis], log: log))
        var inverse = [Int](repeating: 0, count: rank)
        for (i, p) in perm.enumerated() { inverse[p] = i }
        return soft.transposed(inverse)
    }

    /// Softmax of `rows` rows of `length`, in place (the fused attention's score block).
    static func softmaxInPlace(_ p: UnsafeMutablePointer<Float>, rows: Int, length: Int, isa: KernelISA = .selected) {
        strata_softmax_rows(isa.rawValue, p, rows, length)
    }

    /// One row of softmax (or log-softmax) from `s` into `d`, which may be the same memory.
    @inline(__always)
    static func softmaxRow(_ s: UnsafePointer<Float>, _ d: UnsafeMutablePointer<Float>, length: Int, log: Bool) {
        if !log {
            // The C kernel's vectors, in place.
            if UnsafePointer(d) != s { d.update(from: s, count: length) }
            strata_softmax_rows(KernelISA.selected.rawValue, d, 1, length)
            return
        }
        let (m, _) = extremes(s, length)
        var sum: Float = 0
        for j in 0..<length { sum += Foundation.exp(s[j] - m) }
        // (x − max) − log Σ: subtracting the large maximum first keeps precision.
        let shift = Foundation.log(sum)
        for j in 0..<length { d[j] = (s[j] - m) - shift }
    }

    /// exp(x − max) / Σ exp(x − max) per row: the maximum keeps every exp ≤ 1.
    static func softmaxRows(_ x: [Float], length: Int, log: Bool) -> [Float] {
        let rows = length == 0 ? 0 : x.count / length
        return [Float](largeCount: x.count) { y in
            x.withUnsafeBufferPointer { px in
                let ys = UncheckedSendable(y.baseAddress!)
                Parallel.forEachBand(rows, minimumBand: max(1, 4096 / max(1, length))) { range in
                    for r in range {
                        softmaxRow(px.baseAddress! + r * length, ys.value + r * length, length: length, log: log)
                    }
                }
            }
        }
    }
}
