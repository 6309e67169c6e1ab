import StrataCore

/// The guided filter (He, Sun and Tang, 2010): smooths a map while following the edges of a
/// guide image, in time independent of the radius (box sums over integral images). Strata
/// uses it to refine the built-in prior on the image and to upsample network depth with
/// the frame's edges.
public struct GuidedFilter: Sendable {
    /// Box radius in pixels.
    public var radius: Int
    /// Regularisation: edges of guide contrast well above √eps are kept.
    public var eps: Float

    public init(radius: Int, eps: Float) {
        precondition(radius >= 1 && eps > 0, "guided filter radius \(radius), eps \(eps)")
        (self.radius, self.eps) = (radius, eps)
    }

    /// `input` (one channel) filtered with `guide` (one channel, same size). NaN inputs are
    /// left out of every mean and stay NaN.
    public func apply(_ input: Image, guide: Image) -> Image {
        precondition(input.channels == 1 && guide.channels == 1 && input.width == guide.width && input.height == guide.height,
                     "guided filter of \(input.width)x\(input.height)x\(input.channels) by \(guide.width)x\(guide.height)x\(guide.channels)")
        let (w, h) = (input.width, input.height)
        let n = w * h
        var valid = [Float](repeating: 0, count: n), p = [Float](repeating: 0, count: n)
        var ip = [Float](repeating: 0, count: n), ii = [Float](repeating: 0, count: n), g = [Float](repeating: 0, count: n)
        for k in 0..<n {
            let v = input.pixels[k]
            let gk = guide.pixels[k]
            g[k] = gk
            if v.isFinite {
                valid[k] = 1; p[k] = v; ip[k] = gk * v
            }
            ii[k] = gk * gk
        }
        let count = BoxFilter.mean(valid, w, h, radius, normalise: false)
        let meanI = BoxFilter.mean(g, w, h, radius, normalise: true)
        let meanII = BoxFilter.mean(ii, w, h, radius, normalise: true)
        let sumP = BoxFilter.mean(p, w, h, radius, normalise: false)
        let sumIP = BoxFilter.mean(ip, w, h, radius, normalise: false)
        var a = [Float](repeating: 0, count: n), b = [Float](repeating: 0, count: n)
        for k in 0..<n {
            guard count[k] > 0 else { b[k] = .nan; continue }
            // Means over the valid pixels of the window; the guide's statistics over all.
            let mp = sumP[k] / count[k], mip = sumIP[k] / count[k]
            let variance = max(0, meanII[k] - meanI[k] * meanI[k])
            let covariance = mip - meanI[k] * mp
            a[k] = covariance / (variance + eps)
            b[k] = mp - a[k] * meanI[k]
        }
        let meanA = BoxFilter.mean(a, w, h, radius, normalise: true, skipNaN: true)
        let meanB = BoxFilter.mean(b, w, h, radius, normalise: true, skipNaN: true)
        var out = Image(width: w, height: h, channels: 1)
        for k in 0..<n {
            out.pixels[k] = input.pixels[k].isFinite ? meanA[k] * g[k] + meanB[k] : .nan
        }
        return out
    }
}
