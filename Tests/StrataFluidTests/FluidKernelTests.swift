import CStrataKernels
import StrataCore
import XCTest
@testable import StrataFluid

/// The loop's C kernels against references written here, on every instruction-set path the
/// machine runs; the holes' fade in closed form; the frames and layers composed from the
/// 16-bit store; and the key.
final class FluidKernelTests: XCTestCase {
    /// The paths this processor can take (the others cannot be tested here: say so).
    static var paths: [KernelISA] {
        let paths = KernelISA.allCases.filter { $0.rawValue <= KernelISA.supported.rawValue }
        if paths.count < KernelISA.allCases.count { print("FluidKernelTests: \(KernelISA.supported) is this processor's best; paths above it not run") }
        return paths
    }

    /// One Euler step as the kernels define it, written again in Swift: the same operations
    /// in the same order, so every path must match it to the bit.
    static func step(_ q: SIMD2<Float>, uv: [Float], w: Int, h: Int, wrap: Bool, sign: Float) -> SIMD2<Float> {
        let (fx, fy) = (q.x.rounded(.down), q.y.rounded(.down))
        let (ax, ay) = (q.x - fx, q.y - fy)
        var (x0, x1) = (Int(fx), Int(fx) + 1)
        if wrap {
            if x0 < 0 { x0 += w } else if x0 >= w { x0 -= w }
            if x1 < 0 { x1 += w } else if x1 >= w { x1 -= w }
        } else {
            (x0, x1) = (min(max(x0, 0), w - 1), min(max(x1, 0), w - 1))
        }
        let (y0, y1) = (min(max(Int(fy), 0), h - 1), min(max(Int(fy) + 1, 0), h - 1))
        func at(_ x: Int, _ y: Int, _ c: Int) -> Float { uv[2 * (y * w + x) + c] }
        let (bx, by) = (1 - ax, 1 - ay)
        var next = q
        for c in 0..<2 {
            let t1 = at(x0, y0, c) * bx, t2 = at(x1, y0, c) * ax
            let top = t1 + t2
            let b1 = at(x0, y1, c) * bx, b2 = at(x1, y1, c) * ax
            let bottom = b1 + b2
            let p1 = top * by, p2 = bottom * ay
            next[c] = q[c] + sign * (p1 + p2)
        }
        if wrap, next.x < 0 { next.x += Float(w) } else if wrap, next.x >= Float(w) { next.x -= Float(w) }
        return next
    }

    /// Ragged counts (below, at and past each vector width and the chunk of 2048), positions
    /// on and off the image, wrapping and not, both signs, several steps kept: every path
    /// gives the reference's bits.
    func testEveryPathStepsParticlesExactlyAsTheReference() {
        let (w, h) = (37, 23)
        var rng = SystemRandomNumberGenerator()
        // A field a step: step j reads the j-th.
        let uvs = (0..<3).map { _ in (0..<(2 * w * h)).map { _ in Float.random(in: -2...2, using: &rng) } }
        for count in [1, 7, 8, 15, 16, 17, 33, 2047, 2049, 4100] {
            let xs = (0..<count).map { _ in Float.random(in: -6...Float(w + 6), using: &rng) }
            let ys = (0..<count).map { _ in Float.random(in: -6...Float(h + 6), using: &rng) }
            for wrap in [false, true] {
                for sign: Float in [1, -1] {
                    // Three steps, each kept: row j holds the positions after j steps.
                    var expected = [(xs, ys)]
                    for j in 0..<3 {
                        let last = expected.last!
                        let next = (0..<count).map { Self.step(SIMD2(last.0[$0], last.1[$0]), uv: uvs[j], w: w, h: h, wrap: wrap, sign: sign) }
                        expected.append((next.map(\.x), next.map(\.y)))
                    }
                    for isa in Self.paths { uvs[0].withUnsafeBufferPointer { u0 in uvs[1].withUnsafeBufferPointer { u1 in uvs[2].withUnsafeBufferPointer { u2 in
                        let uv: [UnsafePointer<Float>?] = [u0.baseAddress, u1.baseAddress, u2.baseAddress]
                        var rx = xs + [Float](repeating: 0, count: 3 * count), ry = ys + [Float](repeating: 0, count: 3 * count)
                        strata_fluid_trace(&rx, &ry, count, count, 3, 1, uv, Int32(w), Int32(h), wrap ? 1 : 0, sign, isa.rawValue)
                        for j in 1...3 {
                            XCTAssertTrue(Array(rx[(j * count)..<((j + 1) * count)]) == expected[j].0 && Array(ry[(j * count)..<((j + 1) * count)]) == expected[j].1,
                                          "\(isa), \(count) particles, wrap \(wrap), sign \(sign), step \(j)")
                        }
                        // In place, the same positions as the last kept row.
                        var px = xs, py = ys
                        strata_fluid_trace(&px, &py, count, count, 3, 0, uv, Int32(w), Int32(h), wrap ? 1 : 0, sign, isa.rawValue)
                        XCTAssertTrue(px == expected[3].0 && py == expected[3].1, "\(isa), \(count) particles, in place")
                    } } } }
                }
            }
        }
    }

    /// A whole loop on each path: the same 16-bit frames.
    func testEveryPathRendersTheSameLoop() throws {
        let (w, h, n) = (61, 37, 10)
        let still = Image(width: w, height: h, channels: 3) { c, y, x in 0.5 + 0.4 * sin(Float(x) * 0.37 + Float(c)) * cos(Float(y) * 0.29) }
        let fluid = FluidTests.rectangle(w, h, x: 3..<58, y: 4..<33)
        let hints = [MotionHint(start: [30, 10], end: [34, 11], speed: 1.3), MotionHint(start: [50, 25], end: [48, 29], speed: 0.9)]
        let field = try MotionField.densify(hints, fluid: fluid, width: w, height: h).divergenceFree()
        let saved = KernelISA.selected
        defer { KernelISA.selected = saved }
        var loops: [FluidFrames] = []
        for isa in Self.paths {
            KernelISA.selected = isa
            loops.append(try FluidLoop(frames: n).render(still, field: field, alpha: FluidMask.feathered(fluid, width: w, feather: 2, wrap: false)))
        }
        for (isa, loop) in zip(Self.paths, loops).dropFirst() { XCTAssertTrue(loop.moved == loops[0].moved, "\(isa) renders another loop than generic") }
    }

    /// Fluid entering at the left and leaving at the right, one pixel a frame, with the
    /// fluid reaching the image's border and then only columns 5 to 34 (the field moving on
    /// past them); and the same turned a quarter, flowing down through rows 5 to 34, where
    /// the splats' sums hold only those rows: frame t at x blends the forward copy (from
    /// x − t) and the backward one (from x + N − t), each weighted by its copy's weight and by
    /// (k + 1)/(fade + 1), k the particle's steps from the fluid's edge behind it (forward
    /// copy) or ahead of it (backward copy), at most fade. The render matches this to 16
    /// bits, and without the fade it would not.
    func testTheCopiesFadeInFromTheirHoles() throws {
        let (length, across, n, fade) = (40, 6, 8, 3)
        for (columns, down) in [(0..<length, false), (5..<35, false), (5..<35, true)] {
            // Along the flow x, across it y.
            let (w, h) = down ? (across, length) : (length, across)
            let plane = w * h
            let pixel = { (x: Int, y: Int) in down ? x * w + y : y * w + x }
            let still = Image(width: w, height: h, channels: 3) { c, y, x in Float(((down ? y : x) * 7 + c * 5 + (down ? x : y)) % 17) / 16 }
            let fluid = (0..<plane).map { columns.contains(down ? $0 / w : $0 % w) }
            // One pixel a frame along the flow everywhere, the border faces too.
            var field = MotionField(width: w, height: h, wrap: false)
            if down {
                (field.v, field.openDown, field.openRight) = ([Float](repeating: 1, count: plane), [Bool](repeating: true, count: plane), fluid)
            } else {
                (field.u, field.openRight, field.openDown) = ([Float](repeating: 1, count: plane), [Bool](repeating: true, count: plane), fluid)
            }
            let frames = try FluidLoop(frames: n, fade: fade).render(still, field: field, alpha: fluid.map { $0 ? 1 : 0 })
            var changed = 0
            for t in 0..<n {
                let frame = frames.frame(t)
                let a = Float(n - t) / Float(n)
                for y in 0..<across {
                    for x in columns {
                        func expected(faded: Bool) -> SIMD3<Float> {
                            var sum = SIMD3<Float>.zero, weights: Float = 0
                            let colour = { (p: Int) in SIMD3((0..<3).map { still.pixels[$0 * plane + pixel(p, y)] }) }
                            let ramp = { (k: Int) in faded ? Float(min(fade, k) + 1) / Float(fade + 1) : 1 }
                            if x - t >= columns.lowerBound {
                                let weight = a * ramp(x - t - columns.lowerBound)
                                (sum, weights) = (sum + weight * colour(x - t), weights + weight)
                            }
                            if t > 0, x + n - t < columns.upperBound {
                                let weight = (1 - a) * ramp(columns.upperBound - 1 - (x + n - t))
                                (sum, weights) = (sum + weight * colour(x + n - t), weights + weight)
                            }
                            return weights > 0 ? sum / weights : colour(x)
                        }
                        let (want, unfaded) = (expected(faded: true), expected(faded: false))
                        if (want - unfaded).replacing(with: unfaded - want, where: want .< unfaded).max() > 0.01 { changed += 1 }
                        for c in 0..<3 {
                            XCTAssertEqual(frame.pixels[c * plane + pixel(x, y)], want[c], accuracy: 2e-5,
                                           "\(down ? "rows" : "columns") \(columns), frame \(t) (\(x), \(y))")
                        }
                    }
                }
            }
            XCTAssertGreaterThan(changed, 100, "the fade changes the frames near the fluid's ends")
            XCTAssertEqual(frames.frame(0), still)
        }
    }

    /// The store, in 16 bits or 8, composes frames and layers: frame 0 is the still, pixels
    /// outside the fluid are the still in every frame, and with a feathered edge the fluid
    /// layer over the still is the frame; 8-bit RGB is the frame in 8 bits. A grey still's
    /// layer is grey. A key's zero weights keep the still there, exactly. Stored in 8 bits,
    /// every frame is within half an 8-bit step of the 16-bit store's.
    func testFramesAndLayersComposeFromTheStore() throws {
        let (w, h, n) = (32, 20, 6)
        let fluid = FluidTests.rectangle(w, h, x: 4..<28, y: 6..<18)
        let alpha = FluidMask.feathered(fluid, width: w, feather: 3, wrap: false)
        let field = try MotionField.densify([MotionHint(start: [16, 12], end: [20, 13], speed: 1.4)], fluid: fluid, width: w, height: h)
        for (channels, bits) in [(3, 16), (1, 16), (3, 8), (1, 8)] {
            let still = Image(width: w, height: h, channels: channels) { c, y, x in 0.2 + 0.6 * Float((x * 3 + y * 5 + c) % 11) / 10 }
            let loop = try FluidLoop(frames: n).render(still, field: field, alpha: alpha, bits: bits)
            XCTAssertEqual(loop.moved.count, n * 24 * 12 * 3 * bits / 8, "\(bits) bits a stored colour")
            XCTAssertEqual(loop.frame(0), still)
            let plane = w * h
            // Rows with a stride, written over the frame before (a writer's own buffer): the
            // padding is left alone.
            let stride = 3 * w + 5
            var rows = [UInt8](repeating: 7, count: stride * h)
            for t in 0..<n {
                let (frame, layer) = (loop.frame(t), loop.layer(t))
                XCTAssertEqual(layer.channels, 4)
                let rgb = (channels == 3 ? frame : frame.rgb()).interleaved8()
                XCTAssertEqual(loop.rgb24(t), rgb, "the 8-bit frame is the frame in 8 bits")
                rows.withUnsafeMutableBufferPointer { loop.rgb24(t, into: $0.baseAddress!, stride: stride, overFrame: t > 0) }
                for y in 0..<h {
                    XCTAssertEqual(Array(rows[(y * stride)..<(y * stride + 3 * w)]), Array(rgb[(y * 3 * w)..<((y + 1) * 3 * w)]), "frame \(t), row \(y)")
                    XCTAssertEqual(Array(rows[(y * stride + 3 * w)..<((y + 1) * stride)]), [UInt8](repeating: 7, count: 5))
                }
                for i in 0..<plane {
                    let a = layer.pixels[3 * plane + i]
                    XCTAssertEqual(a, alpha[i])
                    for c in 0..<3 {
                        let source = min(c, channels - 1)
                        if channels == 1 { XCTAssertEqual(layer.pixels[c * plane + i], layer.pixels[i]) }
                        XCTAssertEqual(a * layer.pixels[c * plane + i] + (1 - a) * still.pixels[source * plane + i], frame.pixels[source * plane + i],
                                       accuracy: 1e-6, "frame \(t), pixel \(i)")
                    }
                    if alpha[i] == 0 { XCTAssertEqual(frame.pixels[i], still.pixels[i]) }
                }
            }
            // A key that shows the left half only: the right half is the still in every frame.
            let keyed = loop.showing((0..<plane).map { $0 % w < w / 2 ? 1 : 0 })
            var moved = 0
            for t in 1..<n {
                let frame = keyed.frame(t)
                for i in 0..<plane {
                    if i % w >= w / 2 { XCTAssertEqual(frame.pixels[i], still.pixels[i]) } else if frame.pixels[i] != still.pixels[i] { moved += 1 }
                }
            }
            XCTAssertGreaterThan(moved, 100)
            if bits == 8 {
                let fine = try FluidLoop(frames: n).render(still, field: field, alpha: alpha)
                for t in 0..<n { for (a, b) in zip(loop.frame(t).pixels, fine.frame(t).pixels) { XCTAssertEqual(a, b, accuracy: 0.5 / 255 + 1e-5) } }
            }
        }
    }

    /// Luminance and colour keys in closed form: Rec. 709 luma through a Hermite ramp, the
    /// colour's distance through the same ramp, and the inverted keys.
    func testKeysFollowLumaAndColourDistance() {
        let values: [Float] = [0, 0.3, 0.45, 0.5, 0.55, 0.7, 1]
        let grey = Image(width: values.count, height: 1, channels: 1) { _, _, x in values[x] }
        let luma = FluidKey(.luminance, threshold: 0.5, softness: 0.2).weights(grey)
        for (x, v) in values.enumerated() {
            let t = min(max((v - 0.5) / 0.2 + 0.5, 0), 1)
            XCTAssertEqual(luma[x], t * t * (3 - 2 * t), accuracy: 1e-6)
        }
        XCTAssertEqual([luma[0], luma[3], luma[6]], [0, 0.5, 1])
        XCTAssertEqual(FluidKey(.luminance, threshold: 0.5, softness: 0.2, invert: true).weights(grey)[6], 0)
        XCTAssertEqual(FluidKey(.luminance, threshold: 0.5, softness: 0).weights(grey), [0, 0, 0, 1, 1, 1, 1])

        // Pure red, green and blue (luma 0.2126, 0.7152, 0.0722) and a blue near (0.1, 0.3, 0.8).
        let colours: [SIMD3<Float>] = [[1, 0, 0], [0, 1, 0], [0, 0, 1], [0.1, 0.32, 0.75]]
        let rgb = Image(width: colours.count, height: 1, channels: 3) { c, _, x in colours[x][c] }
        XCTAssertEqual(FluidKey(.luminance, threshold: 0.5, softness: 0).weights(rgb), [0, 1, 0, 0])
        let blue = FluidKey(.color([0.1, 0.3, 0.8]), threshold: 0.25, softness: 0.1).weights(rgb)
        XCTAssertEqual(Array(blue[0..<3]), [0, 0, 0])
        XCTAssertEqual(blue[3], 1, "0.054 from the key colour: well inside")
    }

    /// An evolving field, against a reference written here: frame t's field is
    /// (1 − t/N)·A_t + (t/N)·B_{N−t}, with A carried forward by itself (semi-Lagrangian, from
    /// the departure point x − v(x)), B carried back (from x + v(x)), each step keeping
    /// `evolve` of the carried field and 1 − evolve of the hints' field, and 0 outside the
    /// fluid. Frame 0's field is the static one; the loop still closes.
    func testAnEvolvingFieldIsCarriedByItselfAndLoops() throws {
        let (w, h, n, evolve): (Int, Int, Int, Float) = (40, 30, 8, 0.8)
        let fluid = FluidTests.rectangle(w, h, x: 3..<37, y: 3..<27)
        let hints = [MotionHint(start: [20, 8], end: [24, 8], speed: 1.5), MotionHint(start: [32, 15], end: [32, 19], speed: 1.2),
                     MotionHint(start: [20, 23], end: [16, 23], speed: 1.5), MotionHint(start: [8, 15], end: [8, 11], speed: 1.2)]
        let field = try MotionField.densify(hints, fluid: fluid, width: w, height: h)
        let inside = fluid.map { $0 ? UInt8(1) : 0 }
        let stepper = Stepper(field, frames: n, evolve: evolve, inside: inside)
        let flow = field.atPixels()
        let plane = w * h
        let v0 = (0..<(2 * plane)).map { flow.pixels[($0 & 1) * plane + $0 >> 1] }
        func carried(_ uv: [Float], sign: Float) -> [Float] {
            var out = [Float](repeating: 0, count: 2 * plane)
            for y in 0..<h {
                for x in 0..<w where fluid[y * w + x] {
                    let i = y * w + x
                    let (px, py) = (Float(x) - sign * uv[2 * i], Float(y) - sign * uv[2 * i + 1])
                    let (fx, fy) = (px.rounded(.down), py.rounded(.down))
                    let (ax, ay) = (px - fx, py - fy)
                    let (x0, x1) = (min(max(Int(fx), 0), w - 1), min(max(Int(fx) + 1, 0), w - 1))
                    let (y0, y1) = (min(max(Int(fy), 0), h - 1), min(max(Int(fy) + 1, 0), h - 1))
                    for k in 0..<2 {
                        let top = uv[2 * (y0 * w + x0) + k] * (1 - ax) + uv[2 * (y0 * w + x1) + k] * ax
                        let bottom = uv[2 * (y1 * w + x0) + k] * (1 - ax) + uv[2 * (y1 * w + x1) + k] * ax
                        out[2 * i + k] = evolve * (top * (1 - ay) + bottom * ay) + (1 - evolve) * v0[2 * i + k]
                    }
                }
            }
            return out
        }
        var a = [v0], b = [v0]
        for _ in 1..<n { a.append(carried(a.last!, sign: 1)); b.append(carried(b.last!, sign: -1)) }
        for t in 0..<n {
            let got = stepper.field(t)
            for i in 0..<(2 * plane) {
                let want = (1 - Float(t) / Float(n)) * a[t][i] + Float(t) / Float(n) * b[(n - t) % n][i]
                XCTAssertEqual(got[i], want, accuracy: 1e-5, "frame \(t), value \(i)")
            }
        }
        XCTAssertEqual(Array(UnsafeBufferPointer(start: stepper.field(0), count: 2 * plane)), v0, "frame 0's field is the static one")
        XCTAssertTrue(stepper.field(n) == stepper.field(0), "the fields go round the loop")
        var changed: Float = 0
        for i in 0..<(2 * plane) { changed = max(changed, abs(stepper.field(n / 2)[i] - v0[i])) }
        XCTAssertGreaterThan(changed, 0.05, "mid-loop the field has moved")

        // The loop over it still closes, and nothing outside the fluid changes.
        let still = Image(width: w, height: h, channels: 3) { c, y, x in 0.5 + 0.4 * sin(Float(x) * 0.5 + Float(c)) * cos(Float(y) * 0.4) }
        let frames = try FluidLoop(frames: n, evolve: evolve).render(still, field: field, alpha: fluid.map { $0 ? 1 : 0 }).all
        func difference(_ a: Image, _ b: Image) -> Float { zip(a.pixels, b.pixels).reduce(0) { $0 + abs($1.0 - $1.1) } / Float(a.pixels.count) }
        let steps = (0..<(n - 1)).map { difference(frames[$0], frames[$0 + 1]) }
        XCTAssertLessThanOrEqual(difference(frames[n - 1], frames[0]), 1.5 * steps.max()!)
        XCTAssertEqual(frames[0], still)
        for frame in frames { for i in 0..<plane where !fluid[i] { XCTAssertEqual(frame.pixels[i], still.pixels[i]) } }
        XCTAssertNotEqual(frames, try FluidLoop(frames: n).render(still, field: field, alpha: fluid.map { $0 ? 1 : 0 }).all)
        XCTAssertThrowsError(try FluidLoop(frames: n, evolve: 1.5)) { XCTAssertEqual("\($0)", "evolve is 1.5: give 0 (a static field) to 1") }
    }
}
