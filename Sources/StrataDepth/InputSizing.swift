/// How a frame is sized for a network, as the reference implementations do it (the `Resize`
/// transform of MiDaS, DPT and Depth Anything).
public enum InputSizing: Sendable, Equatable, Codable {
    /// Exactly this size, aspect not kept: what a model exported with a static input needs.
    case fixed(width: Int, height: Int)
    /// Aspect kept, both sides rounded to a multiple of `multiple`. `lowerBound` scales so
    /// that neither side is below `target` (Depth Anything: the short side becomes 518);
    /// `upperBound` so that neither is above it (MiDaS v2.1 small); `minimal` scales as
    /// little as possible to reach one of them (DPT).
    case keepAspect(target: Int, multiple: Int, method: Method)

    public enum Method: String, Sendable, Codable, CaseIterable {
        case lowerBound = "lower-bound", upperBound = "upper-bound", minimal
    }

    /// The network input size for a `width × height` frame.
    public func size(width: Int, height: Int) -> (width: Int, height: Int) {
        switch self {
        case .fixed(let w, let h): return (w, h)
        case .keepAspect(let target, let multiple, let method):
            var scaleW = Double(target) / Double(width), scaleH = Double(target) / Double(height)
            switch method {
            case .lowerBound: if scaleW > scaleH { scaleH = scaleW } else { scaleW = scaleH }
            case .upperBound: if scaleW < scaleH { scaleH = scaleW } else { scaleW = scaleH }
            case .minimal: if abs(1 - scaleW) < abs(1 - scaleH) { scaleH = scaleW } else { scaleW = scaleH }
            }
            func constrain(_ x: Double) -> Int {
                let m = Double(multiple)
                var y = Int((x / m).rounded(.toNearestOrEven) * m)
                switch method {
                case .upperBound where y > target: y = Int((x / m).rounded(.down) * m)
                case .lowerBound where y < target: y = Int((x / m).rounded(.up) * m)
                default: break
                }
                // A frame far smaller than the network's patch still gets one patch.
                return max(multiple, y)
            }
            return (constrain(scaleW * Double(width)), constrain(scaleH * Double(height)))
        }
    }
}
