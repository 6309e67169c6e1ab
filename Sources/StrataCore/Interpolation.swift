/// How samples between pixel centres are computed.
public enum Interpolation: String, Sendable, Codable, CaseIterable {
    /// The closest pixel: exact for ids and masks.
    case nearest
    /// Linear in x and y over the 2×2 neighbourhood.
    case bilinear
    /// Keys cubic convolution over the 4×4 neighbourhood, a = −0.75 as in OpenCV and PyTorch.
    case bicubic
}

/// What a sample outside the image reads.
public enum BorderMode: Sendable, Equatable {
    /// The nearest edge pixel (OpenCV's BORDER_REPLICATE).
    case clamp
    /// Columns wrap around, as longitude does on an equirectangular image; rows clamp.
    case wrap
    /// A fixed value (OpenCV's BORDER_CONSTANT).
    case constant(Float)
}

/// Keys cubic convolution, shared by every bicubic sampler in Strata.
public enum Cubic {
    /// Keys cubic convolution weights for the taps at offsets −1, 0, 1, 2 from floor(x).
    @inlinable
    public static func weights(_ t: Float, a: Float = -0.75) -> (Float, Float, Float, Float) {
        let t1 = t + 1, t2 = t, t3 = 1 - t, t4 = 2 - t
        let w0 = ((a * t1 - 5 * a) * t1 + 8 * a) * t1 - 4 * a
        let w1 = ((a + 2) * t2 - (a + 3)) * t2 * t2 + 1
        let w2 = ((a + 2) * t3 - (a + 3)) * t3 * t3 + 1
        let w3 = ((a * t4 - 5 * a) * t4 + 8 * a) * t4 - 4 * a
        return (w0, w1, w2, w3)
    }
}
