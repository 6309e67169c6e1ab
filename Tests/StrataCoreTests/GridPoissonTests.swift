import XCTest
@testable import StrataCore

/// The screened Poisson solver behind gradient-domain blending, against a dense solve of
/// the same system, and its multigrid against plain iteration counts.
final class GridPoissonTests: XCTestCase {
    struct Random {
        var state: UInt64
        mutating func next() -> Float {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(state >> 40) / Float(1 << 24)
        }
    }

    /// A system on `width × height` like the blend builds: unit edges between active pixels
    /// (the wrap and the poles included), a small anchor, a hole of left-out pixels.
    func system(width: Int, height: Int, hole: Bool = true) -> GridPoisson.Level {
        let count = width * height
        let active = (0..<count).map { i in
            let (x, y) = (i % width, i / width)
            return !(hole && x > width / 3 && x < width / 2 && y > height / 3 && y < height / 2)
        }
        var right = [Float](repeating: 0, count: count), down = right
        for i in 0..<count where active[i] {
            let (x, y) = (i % width, i / width)
            if active[i - x + (x + 1) % width] { right[i] = 1 }
            if y + 1 < height, active[i + width] { down[i] = 1 }
        }
        var poles: [(i: Int32, j: Int32, w: Float)] = []
        for row in [0, height - 1] { for x in 0..<(width / 2) { poles.append((Int32(row * width + x), Int32(row * width + x + width / 2), 1)) } }
        return GridPoisson.Level(width: width, height: height, right: right, down: down, poles: poles,
                                     anchor: active.map { $0 ? 1e-3 : 0 })
    }

    /// The same matrix, dense, in double precision.
    func dense(_ l: GridPoisson.Level) -> [[Double]] {
        let n = l.width * l.height
        var a = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
        func add(_ i: Int, _ j: Int, _ w: Float) {
            guard w != 0 else { return }
            a[i][i] += Double(w); a[j][j] += Double(w); a[i][j] -= Double(w); a[j][i] -= Double(w)
        }
        for i in 0..<n {
            let x = i % l.width
            a[i][i] += Double(l.anchor[i])
            add(i, i - x + (x + 1) % l.width, l.right[i])
            if i + l.width < n { add(i, i + l.width, l.down[i]) }
        }
        for p in l.poles { add(Int(p.i), Int(p.j), p.w) }
        return a
    }

    func gaussianSolve(_ matrix: [[Double]], _ rhs: [Double]) -> [Double] {
        var (a, b) = (matrix, rhs)
        let n = b.count
        for k in 0..<n where a[k][k] != 0 {
            for i in (k + 1)..<n where a[i][k] != 0 {
                let f = a[i][k] / a[k][k]
                for j in k..<n { a[i][j] -= f * a[k][j] }
                b[i] -= f * b[k]
            }
        }
        var x = [Double](repeating: 0, count: n)
        for k in stride(from: n - 1, through: 0, by: -1) where a[k][k] != 0 {
            var s = b[k]
            for j in (k + 1)..<n { s -= a[k][j] * x[j] }
            x[k] = s / a[k][k]
        }
        return x
    }

    func testTheSolutionIsTheDenseSolveOfTheSameSystem() {
        for (width, height) in [(24, 12), (19, 9)] {  // odd sizes: blocks of one column or row at the ends
            let level = system(width: width, height: height)
            var random = Random(state: UInt64(width))
            var b = (0..<(width * height)).map { level.inverseDiagonal[$0] > 0 ? random.next() - 0.5 : 0 }
            // A sum-free right-hand side, as the blend's divergence is: the anchor alone then sets the level.
            let mean = b.reduce(0, +) / Float(b.filter { $0 != 0 }.count)
            for i in b.indices where b[i] != 0 { b[i] -= mean }
            let want = gaussianSolve(dense(level), b.map(Double.init))
            var x = [Float](repeating: 0, count: b.count)
            let iterations = GridPoisson(level).solve(b, &x, tolerance: 1e-6)
            XCTAssertLessThan(iterations, 100, "\(width)x\(height)")
            let scale = want.map(abs).max()!
            let worst = zip(x, want).map { abs(Double($0) - $1) }.max()!
            XCTAssertLessThan(worst, 1e-3 * scale, "\(width)x\(height): the solve is off by \(worst) of \(scale)")
            for i in b.indices where level.inverseDiagonal[i] == 0 { XCTAssertEqual(x[i], 0, "a left-out pixel stays 0") }
        }
    }

    /// The V-cycle is what makes large panoramas possible: without it (the preconditioner
    /// Jacobi alone) CG needs hundreds of iterations where it needs a handful, and as many on a large grid as on a small one.
    func testMultigridKeepsTheIterationCountFlatAsTheGridGrows() {
        var counts: [Int] = []
        for width in [64, 256, 512] {
            let level = system(width: width, height: width / 2, hole: false)
            var random = Random(state: 3)
            // A step along a seam, as misaligned views leave: the divergence of a jump.
            var b = [Float](repeating: 0, count: width * width / 2)
            for y in 0..<(width / 2) { let s = random.next(); b[y * width + width / 4] -= s; b[y * width + width / 4 + 1] += s }
            var x = [Float](repeating: 0, count: b.count)
            counts.append(GridPoisson(level).solve(b, &x, tolerance: 1e-4))
        }
        XCTAssertLessThanOrEqual(counts.max()!, 12, "iterations per size \(counts)")
        XCTAssertLessThanOrEqual(counts.last!, counts.first! + 2, "iterations per size \(counts)")
    }
}
