import XCTest
@testable import StrataLayers

/// The restricted quadtree on grids whose answer is known: a plane is two triangles, a bump
/// is meshed finer where it is curved, the mesh has no crack or T-junction, holes and jumps
/// cut it, and the budget holds.
final class QuadtreeMeshTests: XCTestCase {
    /// A grid `n` nodes square, every node held at distance 2, carrying `value(i, j)`.
    static func tree(_ n: Int, maxLevel: Int = 6, _ value: (Int, Int) -> Float) -> QuadtreeMesh {
        let values = (0..<(n * n)).map { value($0 % n, $0 / n) }
        return QuadtreeMesh(columns: n, rows: n, held: [Bool](repeating: true, count: n * n),
                            distance: [Float](repeating: 2, count: n * n), channels: [values], jump: 1.05, maxLevel: maxLevel)
    }

    static func corners(_ t: SIMD3<Int32>, columns: Int) -> [SIMD2<Double>] {
        (0..<3).map { SIMD2(Double(Int(t[$0]) % columns), Double(Int(t[$0]) / columns)) }
    }

    /// Twice the signed area in grid coordinates (i right, j down): positive for the way
    /// round (0, 0), (1, 0), (0, 1) runs.
    static func doubleArea(_ p: [SIMD2<Double>]) -> Double {
        let (u, v) = (p[1] - p[0], p[2] - p[0])
        return u.x * v.y - u.y * v.x
    }

    /// A mesh covering the whole grid: every triangle the same way round, the areas summing
    /// to the square, and every edge shared by exactly two triangles (running opposite ways)
    /// unless it lies on the square's border. A T-junction leaves an edge with one triangle.
    func assertWatertight(_ triangles: [SIMD3<Int32>], n: Int, file: StaticString = #filePath, line: UInt = #line) {
        var area = 0.0
        var edges: [SIMD2<Int32>: Int] = [:]
        for t in triangles {
            let a = Self.doubleArea(Self.corners(t, columns: n))
            XCTAssertGreaterThan(a, 0, "every triangle turns the same way", file: file, line: line)
            area += a / 2
            for e in 0..<3 { edges[SIMD2(t[e], t[(e + 1) % 3]), default: 0] += 1 }
        }
        XCTAssertEqual(area, Double((n - 1) * (n - 1)), accuracy: 1e-9, "the triangles tile the square", file: file, line: line)
        for (edge, uses) in edges {
            XCTAssertEqual(uses, 1, "a directed edge is used once", file: file, line: line)
            let (a, b) = (Int(edge.x), Int(edge.y))
            let (ai, aj, bi, bj) = (a % n, a / n, b % n, b / n)
            let onBorder = (ai == bi && (ai == 0 || ai == n - 1)) || (aj == bj && (aj == 0 || aj == n - 1))
            if !onBorder {
                XCTAssertEqual(edges[SIMD2(edge.y, edge.x)], 1, "edge \(a % n),\(a / n)–\(b % n),\(b / n) has a triangle on both sides", file: file, line: line)
            }
        }
    }

    func testAPlaneIsTwoTriangles() {
        let n = 65
        let mesh = Self.tree(n) { i, j in 0.3 + 0.002 * Float(i) - 0.001 * Float(j) }
        let triangles = mesh.triangles(tolerance: 1e-5)
        XCTAssertEqual(triangles.count, 2)
        assertWatertight(triangles, n: n)
        // At tolerance zero rounding splits it, but it still tiles the square.
        assertWatertight(mesh.triangles(tolerance: 0), n: n)
    }

    /// A Gaussian bump: small cells over it, large ones on the flat around it, and cells
    /// that differ by at most one level where they meet (no crack, checked edge by edge).
    func testABumpIsMeshedFinerWhereItIsCurvedWithoutCracks() {
        let n = 129
        let mesh = Self.tree(n) { i, j in
            let (x, y) = (Float(i - 64) / 6, Float(j - 64) / 6)
            return exp(-(x * x + y * y) / 2)
        }
        let triangles = mesh.triangles(tolerance: 0.002)
        assertWatertight(triangles, n: n)
        var near: [Double] = [], far: [Double] = []
        for t in triangles {
            let p = Self.corners(t, columns: n)
            let centre = (p[0] + p[1] + p[2]) / 3
            let r = ((centre.x - 64) * (centre.x - 64) + (centre.y - 64) * (centre.y - 64)).squareRoot()
            if r < 15 { near.append(Self.doubleArea(p) / 2) }
            if r > 60 { far.append(Self.doubleArea(p) / 2) }
        }
        XCTAssertLessThanOrEqual(near.max()!, 8, "small triangles over the bump")
        // Cells 32 across on the flat (each 64-cell root holds part of the bump), fanned
        // towards their finer neighbours: a quarter of 32² a triangle.
        XCTAssertEqual(far.max()!, 256)
        XCTAssertLessThan(triangles.count, 2 * 128 * 128 / 10, "far fewer than the full grid")
        // A finer tolerance, more triangles; zero, more still.
        XCTAssertLessThan(mesh.triangles(tolerance: 0.0005).count, mesh.triangles(tolerance: 0).count)
        XCTAssertGreaterThan(mesh.triangles(tolerance: 0.0005).count, triangles.count)
    }

    /// Nodes not held take no triangle, and no triangle spans a jump in distance; a cell
    /// holding either cannot merge, so the cut keeps the finest cells along it.
    func testHolesAndJumpsCutTheMesh() {
        let n = 33
        var held = [Bool](repeating: true, count: n * n), distance = [Float](repeating: 2, count: n * n)
        for j in 10..<20 { for i in 5..<9 { held[j * n + i] = false } }
        for j in 0..<n { for i in 20..<n { distance[j * n + i] = 4 } }
        let mesh = QuadtreeMesh(columns: n, rows: n, held: held, distance: distance, channels: [distance.map { 1 / $0 }], jump: 1.05)
        let triangles = mesh.triangles(tolerance: 1e-6)
        for t in triangles {
            let nodes = (0..<3).map { Int(t[$0]) }
            XCTAssertTrue(nodes.allSatisfy { held[$0] }, "a triangle on a node not held")
            let ds = nodes.map { distance[$0] }
            XCTAssertEqual(ds.max()!, ds.min()!, "a triangle across the jump at column 20")
        }
        // Everything else is covered: every finest triangle whose corners are held and
        // continuous, counted here one by one, is under the mesh.
        var expected = 0.0
        for j in 0..<(n - 1) {
            for i in 0..<(n - 1) {
                let c = [j * n + i, j * n + i + 1, (j + 1) * n + i, (j + 1) * n + i + 1]
                for t in [[c[0], c[1], c[2]], [c[1], c[3], c[2]]] where t.allSatisfy({ held[$0] }) && Set(t.map { distance[$0] }).count == 1 {
                    expected += 0.5
                }
            }
        }
        let area = triangles.reduce(0.0) { $0 + Self.doubleArea(Self.corners($1, columns: n)) / 2 }
        XCTAssertEqual(area, expected, accuracy: 1e-9)
        XCTAssertLessThan(expected, 32 * 32 - 32 - 40, "the hole and the jump took cells")
        // And the rest is coarse: far fewer triangles than the 2 × 32 × 32 of the full grid.
        XCTAssertLessThan(triangles.count, 2 * 32 * 32 / 3)
    }

    /// The budget holds for the trees together at one tolerance, the smallest that fits;
    /// a budget the coarsest mesh exceeds is refused.
    func testTheBudgetHoldsAtTheSmallestToleranceThatFits() throws {
        let n = 129
        let trees = [Self.tree(n) { i, j in sin(Float(i) / 7) * cos(Float(j) / 5) * 0.1 },
                     Self.tree(n) { i, j in Float((i * 7919 + j * 104_729) % 97) / 970 }]
        let full = trees.reduce(0) { $0 + $1.count(tolerance: 0) }
        for budget in [1000, 5000, 20000] {
            let (triangles, tolerance) = try XCTUnwrap(QuadtreeMesh.triangles(trees, budget: budget))
            let total = triangles.reduce(0) { $0 + $1.count }
            XCTAssertLessThanOrEqual(total, budget)
            XCTAssertGreaterThan(trees.reduce(0) { $0 + $1.count(tolerance: tolerance * 0.99) }, budget,
                                 "budget \(budget): a finer tolerance would not fit")
            XCTAssertGreaterThan(tolerance, 0)
            zip(triangles, [n, n]).forEach { assertWatertight($0, n: $1) }
        }
        let (all, zero) = try XCTUnwrap(QuadtreeMesh.triangles(trees, budget: full))
        XCTAssertEqual(zero, 0)
        XCTAssertEqual(all.reduce(0) { $0 + $1.count }, full)
        XCTAssertNil(QuadtreeMesh.triangles(trees, budget: 10), "the coarsest is 2 triangles for each of the 4 roots (64 cells across) of each tree")
    }
}
