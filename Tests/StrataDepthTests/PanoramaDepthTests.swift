import Foundation
import StrataCore
import StrataSphere
import StrataSynth
import XCTest
@testable import StrataDepth

/// The 360° strategies on StrataSynth's exact depth, with an estimator built from ground
/// truth: every view gets its own random scale and shift in disparity (and, where said, a
/// smooth warp and noise), through the same code path a network's views take.
final class PanoramaDepthTests: XCTestCase {
    /// The indoor room, 256 × 128, with its exact distance along each ray.
    static let room = Renderer.render(.indoorRoom, camera: Camera(model: .equirectangular(width: 256, height: 128),
                                                                  position: Vector3(0.3, 1.4, -0.2)), supersampling: 1)

    static var truth: DepthMap { room.depth }

    func score(_ depth: DepthMap) -> DepthMetrics {
        DepthEvaluation.evaluate(depth, against: Self.truth, options: DepthEvaluationOptions(alignment: .scaleShift))
    }

    /// Each view taken at its word (scale 1, shift 0 after the median normalisation), merged
    /// with the same feathered weights: what alignment has to beat.
    func unaligned(_ panorama: PanoramaDepth, _ estimator: DistortedTruthEstimator) throws -> DepthMap {
        let views = panorama.views
        let inputs = panorama.views.map { view -> ViewAlignment.Input in
            let estimate = estimator.estimate(view)
            return ViewAlignment.Input(view: view, disparity: PanoramaDepth.disparity(of: estimate, view: view).0)
        }
        let nodes = panorama.alignment.columns * panorama.alignment.rows
        let identity = ViewAlignment.Solution(scales: views.map { _ in [Double](repeating: 1, count: nodes) },
                                              shifts: views.map { _ in [Double](repeating: 0, count: nodes) }, correspondences: 0)
        let fused = try SphereFusion(views: views, images: panorama.alignment.apply(identity, to: inputs), width: 256, height: 128)
        return DepthMap(values: fused.image, kind: .inverseRelative, quantity: .rayDistance, projection: .equirectangular)
    }

    func testTangentAndCubeRecoverTheTruthFromViewsWithTheirOwnScaleAndShift() throws {
        let pano = Self.room.color
        for strategy in [PanoramaStrategy.tangent, .cube] {
            let panorama = PanoramaDepth(strategy: strategy, viewSize: 64, alignment: ViewAlignment(sampleRows: 64))
            let estimator = DistortedTruthEstimator(truth: Self.truth.values)
            let result = try panorama.estimate(panorama: pano) { estimator.estimate($1) }
            XCTAssertEqual(result.depth.kind, .inverseRelative)
            XCTAssertEqual(result.depth.quantity, .rayDistance)
            XCTAssertEqual([result.depth.width, result.depth.height], [256, 128])
            let aligned = score(result.depth), plain = score(try unaligned(panorama, estimator))
            XCTAssertLessThanOrEqual(aligned.absRel, 0.02, "\(strategy): AbsRel \(aligned.absRel), δ1 \(aligned.delta1)")
            XCTAssertGreaterThan(plain.absRel, 3 * aligned.absRel, "\(strategy): unaligned \(plain.absRel) against aligned \(aligned.absRel)")
        }
    }

    /// Faces cut exactly (cube padding inside the network) share no pixel: the alignment
    /// holds them together on a band across the cube's edges, where each face's border
    /// value must meet its neighbour's.
    func testFacesThatOnlyTouchAreAlignedAcrossTheCubesEdges() throws {
        var panorama = PanoramaDepth(strategy: .cube, viewSize: 64, alignment: ViewAlignment(sampleRows: 128))
        panorama.cubePadding = .network
        let estimator = DistortedTruthEstimator(truth: Self.truth.values)
        let aligned = score(try panorama.estimate(panorama: Self.room.color) { estimator.estimate($1) }.depth)
        let plain = score(try unaligned(panorama, estimator))
        XCTAssertLessThanOrEqual(aligned.absRel, 0.03, "AbsRel \(aligned.absRel), δ1 \(aligned.delta1)")
        XCTAssertGreaterThan(plain.absRel, 3 * aligned.absRel, "unaligned \(plain.absRel) against aligned \(aligned.absRel)")
    }

    /// A metric model's views (metres, each off by its own scale, no shift) are aligned in
    /// scale only and come out in metres along the ray: right up to one global scale, and
    /// that scale within what the views said.
    func testMetricViewsAreAlignedInScaleOnlyAndStayInMetres() throws {
        for strategy in [PanoramaStrategy.tangent, .cube] {
            let panorama = PanoramaDepth(strategy: strategy, viewSize: 64, alignment: ViewAlignment(sampleRows: 64))
            let estimator = DistortedTruthEstimator(truth: Self.truth.values, metric: true)
            let depth = try panorama.estimate(panorama: Self.room.color) { estimator.estimate($1) }.depth
            XCTAssertEqual(depth.kind, .metric)
            XCTAssertEqual(depth.quantity, .rayDistance)
            let ratios = zip(depth.values.pixels, Self.truth.values.pixels).compactMap { $0 > 0 && $1 > 0 ? Double($0 / $1) : nil }.sorted()
            XCTAssertEqual(ratios.count, 256 * 128, "\(strategy): every direction has metres")
            let scales = panorama.views.map(estimator.metricScale)
            let global = ratios[ratios.count / 2]
            XCTAssertTrue((scales.min()!...scales.max()!).contains(global), "\(strategy): scale \(global) outside the views' \(scales.min()!)…\(scales.max()!)")
            // Up to that one scale, the truth.
            let absRel = ratios.map { abs($0 / global - 1) }.reduce(0, +) / Double(ratios.count)
            let unaligned = scales.max()! / scales.min()! - 1
            XCTAssertLessThan(absRel, 0.01, "\(strategy): AbsRel after one global scale \(absRel)")
            XCTAssertGreaterThan(unaligned, 10 * absRel, "the views disagreed by \(unaligned)")
        }
    }

    /// The alignment's median (each view's disparity is divided by it) by selection.
    func testSelectionFindsTheKthSmallestWithTiesAndAnyOrder() {
        var state: UInt64 = 5
        for count in [1, 2, 3, 10, 101, 1000] {
            let values = (0..<count).map { _ -> Float in
                state = state &* 6364136223846793005 &+ 1442695040888963407
                return Float(state >> 58)  // few distinct values: many ties
            }
            for k in Set([0, count / 2, count - 1]) {
                var scratch = values
                XCTAssertEqual(ViewAlignment.select(&scratch, k), values.sorted()[k], "k \(k) of \(count)")
            }
        }
    }

    func testAGridOfScaleAndShiftUndoesASmoothWarpThatOneAffinePerViewCannot() throws {
        let pano = Self.room.color
        var panorama = PanoramaDepth(strategy: .tangent, viewSize: 64, alignment: ViewAlignment(sampleRows: 64))
        let estimator = DistortedTruthEstimator(truth: Self.truth.values, warp: 0.3, noise: 0.002)
        let plain = score(try unaligned(panorama, estimator))
        let affine = score(try panorama.estimate(panorama: pano) { estimator.estimate($1) }.depth)
        panorama.alignment = ViewAlignment(columns: 8, rows: 7, smoothness: 0.05, sampleRows: 64)
        let grid = score(try panorama.estimate(panorama: pano) { estimator.estimate($1) }.depth)
        XCTAssertLessThan(grid.absRel, affine.absRel, "grid \(grid.absRel), one affine per view \(affine.absRel)")
        XCTAssertLessThan(grid.absRel, 0.75 * plain.absRel, "grid \(grid.absRel), unaligned \(plain.absRel)")
    }

    func testAViewThatFailsIsNamed() throws {
        let pano = Self.room.color
        for (strategy, name) in [(PanoramaStrategy.cube, "cube face L: "), (.tangent, "patch 4 of 20 (yaw ")] {
            let panorama = PanoramaDepth(strategy: strategy, viewSize: 32)
            var calls = 0
            XCTAssertThrowsError(try panorama.estimate(panorama: pano) { _, view in
                calls += 1
                if calls == 4 { throw DepthError("the network failed at node \"Conv_12\"", exitCode: 65) }
                return DistortedTruthEstimator(truth: Self.truth.values).estimate(view)
            }) { error in
                XCTAssertTrue("\(error)".hasPrefix(name), "\(error)")
                XCTAssertTrue("\(error)".hasSuffix("the network failed at node \"Conv_12\""), "\(error)")
                XCTAssertEqual((error as? DepthError)?.exitCode, 65)
            }
        }
    }

    /// Gradient-domain merging keeps what the alignment recovered; where one affine per cube
    /// face cannot undo a warp, it takes the steps between faces out of the gradient.
    func testGradientDomainBlendingKeepsTheDepthAndTakesTheSeamsOut() throws {
        let pano = Self.room.color
        var panorama = PanoramaDepth(strategy: .cube, viewSize: 64, alignment: ViewAlignment(sampleRows: 64))
        // Where a seam could show: the cube's edges, and the padded faces' own borders.
        let borders = Image(width: 256, height: 128, channels: 1) { _, y, x in
            let d = Equirect.direction(x: Double(x), y: Double(y), width: 256, height: 128)
            let e = Equirect.direction(x: Double((x + 1) % 256), y: Double(min(y + 1, 127)), width: 256, height: 128)
            let covered = panorama.views.map { $0.position(of: d).map { $0.x >= 0 && $0.y >= 0 && $0.x < 79 && $0.y < 79 } ?? false }
            let next = panorama.views.map { $0.position(of: e).map { $0.x >= 0 && $0.y >= 0 && $0.x < 79 && $0.y < 79 } ?? false }
            return CubeFace.locate(d).0 != CubeFace.locate(e).0 || covered != next ? 1 : 0
        }
        func seams(_ depth: DepthMap) -> Double {
            let m = score(depth)
            let aligned = DepthMap(values: Image(width: 256, height: 128, channels: 1) { _, y, x in
                Float(1 / (m.scale * Double(depth[y, x]) + m.shift))
            }, kind: .metric)
            return SeamMetrics.boundaryGradientRatio(aligned, boundaries: borders)
        }
        for warp in [0.0, 0.3] {
            let estimator = DistortedTruthEstimator(truth: Self.truth.values, warp: warp)
            panorama.blending = .feather
            let feathered = try panorama.estimate(panorama: pano) { estimator.estimate($1) }.depth
            panorama.blending = .gradient
            let blended = try panorama.estimate(panorama: pano) { estimator.estimate($1) }.depth
            let (f, g) = (score(feathered), score(blended))
            XCTAssertLessThan(g.absRel, f.absRel * 1.1 + 0.002, "warp \(warp): gradient-domain \(g.absRel), feathered \(f.absRel)")
            if warp > 0 {
                // Feathered: 2.20 against the truth's 1.71 here; gradient-domain: 1.65.
                XCTAssertLessThan(seams(blended), seams(feathered), "the steps between faces show less in the gradient")
                XCTAssertLessThanOrEqual(seams(blended), 1.10 * seams(Self.truth), "within 1.10 of the truth's own gradient there")
            }
        }
    }
}
