/// The largest and smallest of `n` floats.
///
/// Eight running maxima and minima written as plain comparisons, which LLVM packs into
/// `maxps`/`minps`: Swift's `max` and `min` (NaN-aware) and its SIMD `pointwiseMax` (not
/// inlined across modules) both compiled to lane-by-lane masks, and this pass was half of
/// softmax's time. NaNs are not propagated (softmax of a NaN row is NaN anyway).
@inline(__always)
func extremes(_ p: UnsafePointer<Float>, _ n: Int) -> (max: Float, min: Float) {
    var m0 = -Float.infinity, m1 = m0, m2 = m0, m3 = m0, m4 = m0, m5 = m0, m6 = m0, m7 = m0
    var l0 = Float.infinity, l1 = l0, l2 = l0, l3 = l0, l4 = l0, l5 = l0, l6 = l0, l7 = l0
    var j = 0
    while j + 8 <= n {
        let (a0, a1, a2, a3) = (p[j], p[j + 1], p[j + 2], p[j + 3])
        let (a4, a5, a6, a7) = (p[j + 4], p[j + 5], p[j + 6], p[j + 7])
        m0 = a0 > m0 ? a0 : m0; m1 = a1 > m1 ? a1 : m1; m2 = a2 > m2 ? a2 : m2; m3 = a3 > m3 ? a3 : m3
        m4 = a4 > m4 ? a4 : m4; m5 = a5 > m5 ? a5 : m5; m6 = a6 > m6 ? a6 : m6; m7 = a7 > m7 ? a7 : m7
        l0 = a0 < l0 ? a0 : l0; l1 = a1 < l1 ? a1 : l1; l2 = a2 < l2 ? a2 : l2; l3 = a3 < l3 ? a3 : l3
        l4 = a4 < l4 ? a4 : l4; l5 = a5 < l5 ? a5 : l5; l6 = a6 < l6 ? a6 : l6; l7 = a7 < l7 ? a7 : l7
        j += 8
    }
    @inline(__always) func larger(_ a: Float, _ b: Float) -> Float { b > a ? b : a }
    @inline(__always) func smaller(_ a: Float, _ b: Float) -> Float { b < a ? b : a }
    var m = larger(larger(larger(m0, m1), larger(m2, m3)), larger(larger(m4, m5), larger(m6, m7)))
    var l = smaller(smaller(smaller(l0, l1), smaller(l2, l3)), smaller(smaller(l4, l5), smaller(l6, l7)))
    while j < n {
        m = p[j] > m ? p[j] : m
        l = p[j] < l ? p[j] : l
        j += 1
    }
    return (m, l)
}
