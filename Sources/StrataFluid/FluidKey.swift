import StrataCore

/// How much of the moving fluid shows at each pixel, keyed from the still's own colours, as
/// a chroma key is: under clear water the dark riverbed can stay still while the bright
/// ripples and foam move (a luminance key), or only the water's blue moves and the reeds in
/// it do not (a colour key). The fluid layer's alpha is the feathered mask times this.
public struct FluidKey: Sendable, Equatable {
    /// What the key reads.
    public enum Kind: Sendable, Equatable {
        /// Rec. 709 luma: the brighter, the more moves.
        case luminance
        /// Closeness to a colour (RGB in 0…1): the closer, the more moves.
        case color(SIMD3<Float>)
    }

    public var kind: Kind
    /// Luma (0…1), or distance in RGB (0…√3), where half of the fluid shows.
    public var threshold: Float
    /// Width of the ramp around the threshold; 0: a hard cut.
    public var softness: Float
    /// The other way round: the dark moves, or what is far from the colour.
    public var invert: Bool

    public init(_ kind: Kind, threshold: Float, softness: Float = 0.2, invert: Bool = false) {
        (self.kind, self.threshold, self.softness, self.invert) = (kind, threshold, max(0, softness), invert)
    }

    /// Per pixel of `still` (grey, RGB or RGBA), the fraction of the fluid that shows: 0…1.
    public func weights(_ still: Image) -> [Float] {
        let plane = still.width * still.height
        return (0..<plane).map { i in
            let rgb = Self.rgb(still, i)
            let shown = switch kind {
            case .luminance: Self.ramp(Self.luma(rgb), threshold, softness)
            case .color(let key): 1 - Self.ramp(((rgb - key) * (rgb - key)).sum().squareRoot(), threshold, softness)
            }
            return invert ? 1 - shown : shown
        }
    }

    /// Pixel `i`'s colour; a grey still's value in all three.
    public static func rgb(_ still: Image, _ i: Int) -> SIMD3<Float> {
        let plane = still.width * still.height
        return still.channels >= 3
            ? SIMD3(still.pixels[i], still.pixels[plane + i], still.pixels[2 * plane + i])
            : SIMD3(repeating: still.pixels[i])
    }

    /// Rec. 709 luma.
    public static func luma(_ rgb: SIMD3<Float>) -> Float { (rgb * SIMD3(0.2126, 0.7152, 0.0722)).sum() }

    /// 0 below `threshold` − `softness`/2, 1 above + `softness`/2, smooth (Hermite) between.
    static func ramp(_ v: Float, _ threshold: Float, _ softness: Float) -> Float {
        guard softness > 0 else { return v >= threshold ? 1 : 0 }
        let t = min(max((v - threshold) / softness + 0.5, 0), 1)
        return t * t * (3 - 2 * t)
    }
}
