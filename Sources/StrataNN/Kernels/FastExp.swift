/// e^x for eight floats at once: Cephes' expf (range reduction by ln 2 in two parts, a
/// degree-5 polynomial, the power of two put straight into the exponent bits), within
/// 2 ulp of libm. Softmax spends its time here: a Depth Anything V2 Small run takes 135
/// million exponentials, which libm computes one at a time about ten times slower.
///
/// Written for plain SSE2 (Swift's baseline x86-64): rounding by the 1.5 · 2^23 trick and
/// the integer exponent read from that float's mantissa bits, since a float-to-integer
/// vector conversion or a mask select would each be done lane by lane.
///
/// Only for x in `exp8Domain` (the caller checks, once per row): a clamp or a lane fix-up
/// here would cost as much as the polynomial, since the standard library's SIMD min, max
/// and select are not inlined across modules.
@inline(__always)
func exp8(_ c: SIMD8<Float>) -> SIMD8<Float> {
    let magic = SIMD8<Float>(repeating: 12_582_912)
    let n = (c * 1.442_695_04 + magic) - magic
    let r = c - n * 0.693_359_375 + n * 2.121_944_4e-4
    var p = SIMD8<Float>(repeating: 1.987_569_15e-4)
    p = p * r + 1.398_199_95e-3
    p = p * r + 8.333_451_9e-3
    p = p * r + 4.166_579_59e-2
    p = p * r + 1.666_666_55e-1
    p = p * r + 5.000_000_12e-1
    let e = p * r * r + r + 1
    let bits = unsafeBitCast(n + magic, to: SIMD8<Int32>.self) &- unsafeBitCast(magic, to: SIMD8<Int32>.self)
    return e * unsafeBitCast((bits &+ 127) &<< 23, to: SIMD8<Float>.self)
}

/// Where exp8 is exact to 2 ulp: e^x is a normal float (2^−126 … 2^127).
let exp8Domain: ClosedRange<Float> = -87.33654...88.0
