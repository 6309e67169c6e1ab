import StrataCore

/// Makes per-frame relative depth of a video agree with itself: each frame's scale and shift
/// are fitted (weighted least squares on its confident pixels) to the aligned frame before
/// it, then static pixels are smoothed over time. The first frame is the reference: its
/// values are normalised to 0…1 over its valid range, and every later frame is expressed on
/// that scale, so a sequence written with one fixed range does not flicker.
public struct TemporalAligner: Sendable {
    /// Pixels whose confidence is below this do not enter the fit.
    public var minimumConfidence: Float
    /// Weight of the previous output in the running mean of static pixels (0: none).
    public var smoothing: Float
    /// A pixel counts as static when its aligned value moved by less than this fraction.
    public var staticChange: Float

    /// The previous aligned frame.
    private var previous: DepthMap?
    /// The scale and shift applied to the last frame.
    public private(set) var lastFit: (scale: Double, shift: Double) = (1, 0)

    public init(minimumConfidence: Float = 0.3, smoothing: Float = 0.5, staticChange: Float = 0.05) {
        precondition(smoothing >= 0 && smoothing < 1, "smoothing \(smoothing) out of 0…1")
        (self.minimumConfidence, self.smoothing, self.staticChange) = (minimumConfidence, smoothing, staticChange)
    }

    /// The next frame's depth on the sequence's scale.
    public mutating func align(_ depth: DepthMap, confidence: Image? = nil) throws -> DepthMap {
        if let confidence, confidence.width != depth.width || confidence.height != depth.height {
            throw DepthError("confidence \(confidence.width)x\(confidence.height) for depth \(depth.width)x\(depth.height)")
        }
        guard let reference = previous else {
            // The reference frame: 0…1 over its valid range (metric depth keeps its metres).
            var first = depth
            if depth.kind != .metric, let range = depth.validRange(), range.upperBound > range.lowerBound {
                let (lo, span) = (Double(range.lowerBound), Double(range.upperBound - range.lowerBound))
                lastFit = (1 / span, -lo / span)
                first.values.pixels = depth.values.pixels.map { Float((Double($0) - lo) / span) }
            } else {
                lastFit = (1, 0)
            }
            previous = first
            return first
        }
        guard reference.width == depth.width, reference.height == depth.height else {
            throw DepthError("frame of \(depth.width)x\(depth.height) after frames of \(reference.width)x\(reference.height)")
        }
        let fit = TemporalAligner.fit(depth.values.pixels, to: reference.values.pixels, confidence: confidence?.pixels,
                                      minimum: minimumConfidence, shift: depth.kind != .metric)
        lastFit = fit
        var out = depth
        let (s, t) = (Float(fit.scale), Float(fit.shift))
        for k in out.values.pixels.indices {
            let aligned = s * depth.values.pixels[k] + t
            let before = reference.values.pixels[k]
            // Static pixels: a running mean; moving ones follow the new frame at once.
            if smoothing > 0, aligned.isFinite, before.isFinite, abs(aligned - before) <= staticChange * max(abs(before), 1e-6) {
                out.values.pixels[k] = smoothing * before + (1 - smoothing) * aligned
            } else {
                out.values.pixels[k] = aligned
            }
        }
        previous = out
        return out
    }

    /// Weighted least squares for s·x + t ≈ y (or s·x ≈ y without shift).
    static func fit(_ x: [Float], to y: [Float], confidence: [Float]?, minimum: Float, shift: Bool) -> (scale: Double, shift: Double) {
        var sw = 0.0, sx = 0.0, sy = 0.0, sxx = 0.0, sxy = 0.0
        for k in x.indices {
            let (xi, yi) = (Double(x[k]), Double(y[k]))
            guard xi.isFinite, yi.isFinite else { continue }
            let w = Double(confidence?[k] ?? 1)
            guard w >= Double(minimum) else { continue }
            sw += w; sx += w * xi; sy += w * yi; sxx += w * xi * xi; sxy += w * xi * yi
        }
        guard sw > 0 else { return (1, 0) }
        if !shift { return sxx > 0 ? (sxy / sxx, 0) : (1, 0) }
        let determinant = sw * sxx - sx * sx
        guard abs(determinant) > 1e-12 * max(1, sw * sxx) else { return (1, sy / sw - sx / sw) }
        return ((sw * sxy - sx * sy) / determinant, (sxx * sy - sx * sxy) / determinant)
    }
}

/// Flicker of a depth sequence: the mean frame-to-frame change of aligned depth over pixels
/// whose image did not change (static regions), relative to the mean depth there.
public struct FlickerMeter: Sendable {
    /// Largest luma change for a pixel to count as static.
    public var staticLuma: Float
    private var previous: (depth: [Float], luma: [Float])?
    private var total = 0.0, pairs = 0

    public init(staticLuma: Float = 0.02) { self.staticLuma = staticLuma }

    /// Adds the next frame's aligned depth and its image.
    public mutating func add(_ depth: DepthMap, image: Image) {
        let luma = image.grayscale().pixels
        let values = depth.values.pixels
        defer { previous = (values, luma) }
        guard let previous, previous.depth.count == values.count, previous.luma.count == luma.count else { return }
        var change = 0.0, level = 0.0
        var count = 0
        for k in values.indices where abs(luma[k] - previous.luma[k]) < staticLuma {
            let (a, b) = (Double(values[k]), Double(previous.depth[k]))
            guard a.isFinite, b.isFinite else { continue }
            change += abs(a - b); level += abs(b); count += 1
        }
        guard count > 0, level > 0 else { return }
        total += change / level
        pairs += 1
    }

    /// Mean relative change per frame pair (0 for a sequence that holds still), or nil
    /// before two frames.
    public var flicker: Double? { pairs > 0 ? total / Double(pairs) : nil }
    /// Frame pairs measured.
    public var framePairs: Int { pairs }
}
