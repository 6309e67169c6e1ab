import StrataCore

/// An arrow drawn on the still: the fluid at `start` flows towards `end` at `speed`.
public struct MotionHint: Sendable, Equatable {
    /// Pixel coordinates (x right, y down; pixel centres at whole numbers).
    public var start: SIMD2<Double>
    public var end: SIMD2<Double>
    /// Pixels per frame.
    public var speed: Double
    /// The reach of this arrow's influence (the Gaussian's σ, pixels); nil: the field's.
    public var radius: Double?

    public init(start: SIMD2<Double>, end: SIMD2<Double>, speed: Double, radius: Double? = nil) {
        (self.start, self.end, self.speed, self.radius) = (start, end, speed, radius)
    }

    /// The velocity it asks for, pixels per frame; nil for an arrow of zero length.
    public var velocity: SIMD2<Double>? {
        let d = end - start
        let length = (d * d).sum().squareRoot()
        return length > 0 ? d / length * speed : nil
    }
}

/// A point the fluid must not move at (a rock in a stream), with the radius (pixels) over
/// which the motion comes back to full speed around it.
public struct MotionAnchor: Sendable, Equatable {
    public var position: SIMD2<Double>
    public var radius: Double

    public init(position: SIMD2<Double>, radius: Double) { (self.position, self.radius) = (position, radius) }
}

/// Input the fluid stages cannot use, with the sysexits code the CLI exits with.
public typealias FluidError = CodedError
