import Foundation
import StrataCore

/// The error measures monocular-depth papers report (Eigen et al. 2014 and after).
public struct DepthMetrics: Sendable, Equatable, Codable {
    /// Mean |p − g| / g.
    public var absRel: Double
    /// Mean (p − g)² / g.
    public var sqRel: Double
    /// √ mean (p − g)².
    public var rmse: Double
    /// √ mean (log p − log g)².
    public var rmseLog: Double
    /// Mean |p − g|.
    public var mae: Double
    /// Share of pixels with max(p/g, g/p) < 1.25.
    public var delta1: Double
    /// Same below 1.25².
    public var delta2: Double
    /// Same below 1.25³.
    public var delta3: Double
    /// Pixels evaluated.
    public var validPixels: Int
    /// The scale and shift the alignment applied (1 and 0 for none).
    public var scale: Double
    public var shift: Double
}

/// How a prediction is brought to the ground truth's scale before it is scored.
public enum DepthAlignment: String, Sendable, Codable, CaseIterable {
    /// Scored as it is: metric predictions.
    case none
    /// Depth multiplied by median(g) / median(p).
    case median
    /// Least-squares scale and shift in disparity (1/depth) space, the MiDaS, Depth Anything
    /// and 360MonoDepth protocol; the aligned disparity is clipped at 1 / maxDepth.
    case scaleShift = "scale-shift"
}

/// Options of an evaluation.
public struct DepthEvaluationOptions: Sendable, Equatable {
    public var alignment: DepthAlignment
    /// Ground truth outside minDepth…maxDepth is ignored, and aligned predictions are clipped to it.
    public var minDepth: Double
    public var maxDepth: Double
    /// Weight rows by cos(latitude), for equirectangular maps.
    public var latitudeWeighted: Bool

    public init(alignment: DepthAlignment = .none, minDepth: Double = 1e-3, maxDepth: Double = .infinity,
                latitudeWeighted: Bool = false) {
        self.alignment = alignment
        self.minDepth = minDepth
        self.maxDepth = maxDepth
        self.latitudeWeighted = latitudeWeighted
    }
}

/// Scores predicted depth against ground truth.
public enum DepthEvaluation {
    /// The metrics of `prediction` against `groundTruth` (same size) over pixels where both
    /// are valid and `mask` (if any) is above 0.5. An inverse-relative prediction is taken as
    /// disparity; any other as depth.
    public static func evaluate(_ prediction: DepthMap, against groundTruth: DepthMap, mask: Image? = nil,
                                options: DepthEvaluationOptions = DepthEvaluationOptions()) -> DepthMetrics {
        precondition(prediction.width == groundTruth.width && prediction.height == groundTruth.height,
                     "prediction \(prediction.width)x\(prediction.height) against ground truth \(groundTruth.width)x\(groundTruth.height)")
        let (w, h) = (groundTruth.width, groundTruth.height)
        let predictsDisparity = prediction.kind == .inverseRelative
        // Gather the valid pixels with their weights.
        var p: [Double] = [], g: [Double] = [], weight: [Double] = []
        for y in 0..<h {
            let rowWeight = options.latitudeWeighted ? cos((0.5 - (Double(y) + 0.5) / Double(h)) * .pi) : 1
            for x in 0..<w {
                let gt = Double(groundTruth[y, x]), raw = Double(prediction[y, x])
                guard gt.isFinite, gt >= options.minDepth, gt <= options.maxDepth, raw.isFinite else { continue }
                if let mask, mask[0, y, x] <= 0.5 { continue }
                if !predictsDisparity && options.alignment != .scaleShift && raw <= 0 { continue }
                p.append(raw)
                g.append(gt)
                weight.append(rowWeight)
            }
        }
        var scale = 1.0, shift = 0.0
        var depth = p
        switch options.alignment {
        case .none:
            if predictsDisparity { depth = p.map { $0 > 0 ? 1 / $0 : .nan } }
        case .median:
            if predictsDisparity { depth = p.map { $0 > 0 ? 1 / $0 : .nan } }
            let finite = zip(depth, g).filter { $0.0.isFinite && $0.0 > 0 }
            scale = median(finite.map(\.1)) / median(finite.map(\.0))
            depth = depth.map { $0 * scale }
        case .scaleShift:
            // Fit s·x + t ≈ 1/g in disparity space, weighted.
            let x = predictsDisparity ? p : p.map { $0 > 0 ? 1 / $0 : .nan }
            var sww = 0.0, swx = 0.0, swxx = 0.0, swy = 0.0, swxy = 0.0
            for i in x.indices where x[i].isFinite {
                let (wi, xi, yi) = (weight[i], x[i], 1 / g[i])
                sww += wi; swx += wi * xi; swxx += wi * xi * xi; swy += wi * yi; swxy += wi * xi * yi
            }
            let determinant = sww * swxx - swx * swx
            if determinant != 0 {
                scale = (sww * swxy - swx * swy) / determinant
                shift = (swxx * swy - swx * swxy) / determinant
            }
            let floor = 1 / options.maxDepth
            depth = x.map { xi in
                let disparity = max(scale * xi + shift, floor)
                return disparity > 0 ? 1 / disparity : .nan
            }
        }
        if options.alignment != .none && options.maxDepth.isFinite {
            depth = depth.map { min(max($0, options.minDepth), options.maxDepth) }
        }
        return score(prediction: depth, groundTruth: g, weight: weight, scale: scale, shift: shift)
    }

    static func score(prediction: [Double], groundTruth: [Double], weight: [Double], scale: Double, shift: Double) -> DepthMetrics {
        var total = 0.0, absRel = 0.0, sqRel = 0.0, squared = 0.0, squaredLog = 0.0, absolute = 0.0
        var deltas = (0.0, 0.0, 0.0)
        var count = 0
        for i in prediction.indices {
            let (pi, gi, wi) = (prediction[i], groundTruth[i], weight[i])
            guard pi.isFinite, pi > 0 else { continue }
            count += 1
            total += wi
            let difference = pi - gi
            absRel += wi * abs(difference) / gi
            sqRel += wi * difference * difference / gi
            squared += wi * difference * difference
            squaredLog += wi * pow(log(pi) - log(gi), 2)
            absolute += wi * abs(difference)
            let ratio = max(pi / gi, gi / pi)
            if ratio < 1.25 { deltas.0 += wi }
            if ratio < 1.25 * 1.25 { deltas.1 += wi }
            if ratio < 1.25 * 1.25 * 1.25 { deltas.2 += wi }
        }
        let n = total > 0 ? total : .nan
        return DepthMetrics(absRel: absRel / n, sqRel: sqRel / n, rmse: (squared / n).squareRoot(),
                            rmseLog: (squaredLog / n).squareRoot(), mae: absolute / n,
                            delta1: deltas.0 / n, delta2: deltas.1 / n, delta3: deltas.2 / n,
                            validPixels: count, scale: scale, shift: shift)
    }

    static func median(_ values: [Double]) -> Double {
        guard !values.isEmpty else { return .nan }
        let sorted = values.sorted()
        let m = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2
    }
}
