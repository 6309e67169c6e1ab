import Foundation
import StrataCore

/// MaxPool, AveragePool and their global forms over one or two spatial axes.
enum PoolOps {
    static func register(_ t: inout [String: Operator]) {
        t["MaxPool"] = Operator(check: { node, context in
            if node.outputs.count > 1, !node.outputs[1].isEmpty { return "MaxPool's Indices output is not supported" }
            return ConvOps.spatialCheck("MaxPool")(node, context)
        }, run: { c in
            // Integer images (uint8) pool through floats exactly.
            let x = try c.input(0)
            guard let ints = x.int64s else { return [try pool(c, max: true)] }
            var inputs = c.inputs
            inputs[0] = Tensor(shape: x.shape, floats: ints.map { Float($0) })
            let floatContext = OpContext(inputs: inputs, attributes: c.attributes, opset: c.opset, outputCount: c.outputCount)
            return [try pool(floatContext, max: true).cast(to: .int64)]
        })
        t["AveragePool"] = Operator(check: ConvOps.spatialCheck("AveragePool"), run: { c in [try pool(c, max: false)] })
        t["GlobalAveragePool"] = Operator { c in [try global(c.floats(0), max: false)] }
        t["GlobalMaxPool"] = Operator { c in [try global(c.floats(0), max: true)] }
    }

    static func pool(_ c: OpContext, max isMax: Bool) throws -> Tensor {
        let x = try c.floats(0)
        let op = isMax ? "MaxPool" : "AveragePool"
        guard x.shape.count == 3 || x.shape.count == 4 else { throw NNError.invalidTensor("\(op) of \(x.shape): N×C×W or N×C×H×W expected") }
        guard let kernel = c.attributes.ints("kernel_shape") else { throw NNError.invalidTensor("\(op) without kernel_shape") }
        if !isMax && c.attributes.ints("dilations").map({ $0.contains { $0 != 1 } }) == true && c.opset < 19 {
            throw NNError.invalidTensor("AveragePool dilations need opset 19")
        }
        let win = try Window(attributes: c.attributes, spatial: Array(x.shape[2...]), kernel: kernel,
                             ceilMode: c.attributes.int("ceil_mode", 0) == 1, op: op)
        let includePad = c.attributes.int("count_include_pad", 0) == 1
        let planes = x.shape[0] * x.shape[1]
        let (ih, iw, oh, ow) = (win.input.h, win.input.w, win.output.h, win.output.w)
        let shape = Array(x.shape[..<2]) + win.outputShape(rank: x.shape.count - 2)
        let out = [Float](largeCount: planes * oh * ow) { y in
            let ys = UncheckedSendable(y.baseAddress!)
            x.values.withUnsafeBufferPointer { px in
                Parallel.forEachBand(planes, minimumBand: 1) { range in
                    for p in range {
                        let src = px.baseAddress! + p * ih * iw, dst = ys.value + p * oh * ow
                        for oy in 0..<oh {
                            for ox in 0..<ow {
                                var best = -Float.infinity, sum: Float = 0, count = 0
                                for i in 0..<win.kernel.h {
                                    let iy = oy * win.stride.h - win.padTop + i * win.dilation.h
                                    guard iy >= 0 && iy < ih else { continue }
                                    for j in 0..<win.kernel.w {
                                        let ix = ox * win.stride.w - win.padLeft + j * win.dilation.w
                                        guard ix >= 0 && ix < iw else { continue }
                                        let v = src[iy * iw + ix]
                                        if v > best || v.isNaN { best = v }
                                        sum += v
                                        count += 1
                                    }
                                }
                                if isMax {
                                    dst[oy * ow + ox] = best
                                } else {
                                    if includePad {
                                        // The window clipped to the explicitly padded input (not the ceil-mode overhang).
                                        let y0 = oy * win.stride.h - win.padTop, x0 = ox * win.stride.w - win.padLeft
                                        let rows = min(y0 + (win.kernel.h - 1) * win.dilation.h + 1, ih + win.padBottom) - max(y0, -win.padTop)
                                        let cols = min(x0 + (win.kernel.w - 1) * win.dilation.w + 1, iw + win.padRight) - max(x0, -win.padLeft)
                                        let hCount = (rows + win.dilation.h - 1) / win.dilation.h, wCount = (cols + win.dilation.w - 1) / win.dilation.w
                                        count = max(1, hCount * wCount)
                                    }
                                    dst[oy * ow + ox] = count > 0 ? sum / Float(count) : 0
                                }
                            }
                        }
                    }
                }
            }
        }
        return Tensor(shape: shape, floats: out)
    }

    static func global(_ x: (shape: [Int], values: [Float]), max isMax: Bool) throws -> Tensor {
        guard x.shape.count >= 3 else { throw NNError.invalidTensor("a global pool of \(x.shape): N×C×… expected") }
        let planes = x.shape[0] * x.shape[1]
        let size = x.shape[2...].reduce(1, *)
        let out = x.values.withUnsafeBufferPointer { p in
            (0..<planes).map { plane -> Float in
                let row = UnsafeBufferPointer(rebasing: p[(plane * size)..<((plane + 1) * size)])
                return isMax ? (row.max() ?? -.infinity) : row.reduce(0, +) / Float(size)
            }
        }
        return Tensor(shape: Array(x.shape[..<2]) + [Int](repeating: 1, count: x.shape.count - 2), floats: out)
    }
}
