/// e^x for eight floats at once: Cephes' expf (range reduction by ln 2 in two parts, a
/// degree-5 polynomial, the power of two put straight into the exponent bits), within
/// 2 ulp of libm, for the fused GELU's erf8 (softmax has the same polynomial in C,
/// `strata_softmax_rows`, on the vectors of the instruction set chosen at run time).
///
/// Written for plain SSE2 (Swift's baseline x86-64): rounding by the 1.5 · 2^23 trick and
/// the integer exponent read from that float's mantissa bits, since a float-to-integer
/// vector conversion or a mask select would each be done lane by lane.
///
/// Only for x in `exp8Domain` (the caller keeps to it): a clamp or a lane fix-up here would
/// cost as much as the polynomial, since the standard library's SIMD min, max and select
/// are not inlined across modules.
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

/// erf for eight floats: Abramowitz and Stegun 7.1.26 (1.5e-7 in exact arithmetic, 5e-7 in
/// float: far inside the 1e-4 that exports are checked to) on
/// |x|, with exp8 for e^(−x²) and the sign put back from x's sign bit. For the fused GELU,
/// whose Erf over every activation of a ViT's MLP would otherwise go to libm one at a time.
@inline(__always)
func erf8(_ x: SIMD8<Float>) -> SIMD8<Float> {
    let signBits = unsafeBitCast(x, to: SIMD8<UInt32>.self) & 0x8000_0000
    var a = unsafeBitCast(unsafeBitCast(x, to: SIMD8<UInt32>.self) & 0x7FFF_FFFF, to: SIMD8<Float>.self)
    // Past 9.3, e^(−x²) leaves exp8's domain and erf is 1 to float precision anyway.
    a = a.replacing(with: 9.3, where: a .> 9.3)
    let t = 1 / (1 + 0.327_591_1 * a)
    var poly = SIMD8<Float>(repeating: 1.061_405_429)
    poly = poly * t - 1.453_152_027
    poly = poly * t + 1.421_413_741
    poly = poly * t - 0.284_496_736
    poly = poly * t + 0.254_829_592
    let y = 1 - poly * t * exp8(-(a * a))
    return unsafeBitCast(unsafeBitCast(y, to: SIMD8<UInt32>.self) | signBits, to: SIMD8<Float>.self)
}
