/// The filter a resize uses.
public enum ResizeFilter: String, Sendable, Codable, CaseIterable {
    /// The source pixel whose centre is nearest (PyTorch's `nearest-exact`).
    case nearest
    /// Half-pixel-centred linear interpolation (OpenCV `INTER_LINEAR`, PyTorch `align_corners=False`).
    case bilinear
    /// Half-pixel-centred cubic convolution, a = −0.75 (OpenCV `INTER_CUBIC`).
    case bicubic
    /// Box average over the covered source area when shrinking; OpenCV's `INTER_AREA` rule
    /// when enlarging (blocks with a one-pixel linear blend between them).
    case area
}

extension Image {
    /// This image resampled to `width × height`, every channel alike; borders replicate.
    public func resized(width outWidth: Int, height outHeight: Int, filter: ResizeFilter = .bilinear) -> Image {
        precondition(outWidth > 0 && outHeight > 0, "resize to \(outWidth)x\(outHeight)")
        if outWidth == width && outHeight == height { return self }
        let horizontal = ResizeTaps(source: width, destination: outWidth, filter: filter)
        let vertical = ResizeTaps(source: height, destination: outHeight, filter: filter)

        // Horizontal pass: channels × height × outWidth.
        var temp = [Float](repeating: 0, count: channels * height * outWidth)
        let (w, h) = (width, height)
        pixels.withUnsafeBufferPointer { src in
            temp.withUnsafeMutableBufferPointer { dst in
                let dstBase = dst.baseAddress!
                Parallel.forEachBand(channels * h, minimumBand: 8) { rows in
                    for row in rows {
                        horizontal.apply(source: src.baseAddress! + row &* w, stride: 1,
                                         destination: dstBase + row &* outWidth, destinationStride: 1)
                    }
                }
            }
        }
        // Vertical pass: each output row mixes whole rows of the intermediate.
        var out = Image(width: outWidth, height: outHeight, channels: channels)
        temp.withUnsafeBufferPointer { src in
            out.pixels.withUnsafeMutableBufferPointer { dst in
                let dstBase = dst.baseAddress!, srcBase = src.baseAddress!
                Parallel.forEachBand(channels * outHeight, minimumBand: 8) { rows in
                    for row in rows {
                        let c = row / outHeight, y = row % outHeight
                        let out = dstBase + row &* outWidth
                        let plane = srcBase + c &* h &* outWidth
                        for x in 0..<outWidth { out[x] = 0 }
                        for k in 0..<vertical.tapCount {
                            let weight = vertical.weights[y &* vertical.tapCount &+ k]
                            if weight == 0 { continue }
                            let input = plane + vertical.indices[y &* vertical.tapCount &+ k] &* outWidth
                            for x in 0..<outWidth { out[x] += weight * input[x] }
                        }
                    }
                }
            }
        }
        return out
    }
}

/// Source indices and weights for resampling one axis, `tapCount` per output sample.
struct ResizeTaps {
    var indices: [Int]
    var weights: [Float]
    let tapCount: Int

    init(source: Int, destination: Int, filter: ResizeFilter) {
        let scale = Double(source) / Double(destination)
        let enlargingArea = filter == .area && scale <= 1
        let effective: ResizeFilter = enlargingArea ? .bilinear : filter
        switch effective {
        case .nearest: tapCount = 1
        case .bilinear: tapCount = 2
        case .bicubic: tapCount = 4
        case .area: tapCount = Int(scale.rounded(.up)) + 1
        }
        indices = [Int](repeating: 0, count: destination * tapCount)
        weights = [Float](repeating: 0, count: destination * tapCount)
        func clampIndex(_ i: Int) -> Int { min(max(i, 0), source - 1) }
        for i in 0..<destination {
            let base = i * tapCount
            let centre = (Double(i) + 0.5) * scale - 0.5
            switch effective {
            case .nearest:
                indices[base] = clampIndex(Int(((Double(i) + 0.5) * scale).rounded(.down)))
                weights[base] = 1
            case .bilinear where enlargingArea:
                // OpenCV's INTER_AREA when enlarging: each source pixel spans 1/scale output
                // pixels; only the output pixel straddling a boundary blends the two.
                var s0 = Int((Double(i) * scale).rounded(.down))
                var t = (Double(i) + 1) - Double(s0 + 1) / scale
                t = t <= 0 ? 0 : t - t.rounded(.down)
                if s0 >= source - 1 { s0 = source - 1; t = 0 }
                indices[base] = clampIndex(s0); weights[base] = Float(1 - t)
                indices[base + 1] = clampIndex(s0 + 1); weights[base + 1] = Float(t)
            case .bilinear:
                let s = max(centre, 0)
                let s0 = s.rounded(.down)
                let t = Float(s - s0)
                indices[base] = clampIndex(Int(s0)); weights[base] = 1 - t
                indices[base + 1] = clampIndex(Int(s0) + 1); weights[base + 1] = t
            case .bicubic:
                let s0 = centre.rounded(.down)
                let w = Cubic.weights(Float(centre - s0))
                let i0 = Int(s0)
                indices[base] = clampIndex(i0 - 1); weights[base] = w.0
                indices[base + 1] = clampIndex(i0); weights[base + 1] = w.1
                indices[base + 2] = clampIndex(i0 + 1); weights[base + 2] = w.2
                indices[base + 3] = clampIndex(i0 + 2); weights[base + 3] = w.3
            case .area:
                let start = Double(i) * scale, end = start + scale
                var k = 0
                var j = Int(start.rounded(.down))
                while Double(j) < end && k < tapCount {
                    let overlap = min(end, Double(j + 1)) - max(start, Double(j))
                    if overlap > 1e-9 {
                        indices[base + k] = clampIndex(j)
                        weights[base + k] = Float(overlap / scale)
                        k += 1
                    }
                    j += 1
                }
            }
        }
    }

    /// Resamples one line; `stride`s let the same taps walk rows or columns.
    @inline(__always)
    func apply(source: UnsafePointer<Float>, stride: Int, destination: UnsafeMutablePointer<Float>, destinationStride: Int) {
        let count = indices.count / tapCount
        indices.withUnsafeBufferPointer { idx in
            weights.withUnsafeBufferPointer { wts in
                for i in 0..<count {
                    var sum: Float = 0
                    let base = i &* tapCount
                    for k in 0..<tapCount {
                        let w = wts[base &+ k]
                        if w != 0 { sum += w * source[idx[base &+ k] &* stride] }
                    }
                    destination[i &* destinationStride] = sum
                }
            }
        }
    }
}
