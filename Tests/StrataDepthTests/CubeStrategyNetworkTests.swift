import Foundation
import StrataCore
import StrataNN
import StrataSphere
import StrataSynth
import XCTest
@testable import StrataDepth

/// The cube strategy on a network: the six faces as one batch, and cube padding inside the
/// network (`padding: network | both`).
extension NetworkDepthEstimatorTests {
    func midas() throws -> NetworkDepthEstimator {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("StrataNNTests/Fixtures/networks/midas_small_opset17/model.onnx")
        return try NetworkDepthEstimator(model: try scratch(copying: url), preset: .midasSmall, threads: 2)
    }

    /// StrataSynth's room: smooth walls, so a face's output should run on across its edges.
    static let room = Renderer.render(.indoorRoom, camera: Camera(model: .equirectangular(width: 128, height: 64),
                                                                  position: Vector3(0.3, 1.4, -0.2)), supersampling: 1).color

    func testTheSixFacesRunAsOneBatchAsTheyWouldOneAtATime() throws {
        let network = try midas()
        let panorama = PanoramaDepth(strategy: .cube, viewSize: 40, alignment: ViewAlignment(columns: 2, rows: 2, sampleRows: 32))
        let batched = try PanoramaDepthEstimator(base: network, panorama: panorama)
        XCTAssertNotNil(batched.cubeSession, "a static export is opened to a batch of six")
        XCTAssertNil(batched.cubeSession?.rewrites["cube padding"], "padding: image pads nothing inside the network")
        let one = try batched.estimate(Self.room, projection: .equirectangular)
        let each = try panorama.estimate(panorama: Self.room) { image, view in try network.estimate(image, projection: view.projection) }
        let worst = zip(one.depth.values.pixels, each.depth.values.pixels).map { abs($0 - $1) / max(abs($1), 1e-6) }.max()!
        XCTAssertLessThan(worst, 1e-4, "one batch against face by face")
    }

    /// How much each face's output jumps across the cube's edges, over how much it changes
    /// between neighbouring pixels inside the faces.
    func seamRatio(_ faces: [Image]) -> Double {
        let n = faces[0].width
        let sources = Cubemap.copyPaddingSources(faceSize: n, padding: 1)
        let side = n + 2
        var (across, acrossCount, inside, insideCount) = (0.0, 0, 0.0, 0)
        for (f, face) in faces.enumerated() {
            let v = face.pixels.map(Double.init)
            for y in 0..<n {
                for x in 0..<n {
                    if x + 1 < n { inside += abs(v[y * n + x] - v[y * n + x + 1]); insideCount += 1 }
                    if y + 1 < n { inside += abs(v[y * n + x] - v[(y + 1) * n + x]); insideCount += 1 }
                }
            }
            for k in 0..<n {
                for (py, px, y, x) in [(0, k + 1, 0, k), (n + 1, k + 1, n - 1, k), (k + 1, 0, k, 0), (k + 1, n + 1, k, n - 1)] {
                    let i = Int(sources[(f * side + py) * side + px])
                    across += abs(v[y * n + x] - Double(faces[i / (n * n)].pixels[i % (n * n)]))
                    acrossCount += 1
                }
            }
        }
        return (across / Double(acrossCount)) / (inside / Double(insideCount))
    }

    /// Faces cut exactly (as the cube strategy's views, not a Cubemap) through a random-weight
    /// MiDaS: padded from their neighbours inside the network, the outputs run on across the
    /// cube's edges; padded with zeros, every face ends in its own border.
    func testCubePaddingInsideTheNetworkJoinsTheFacesAcrossTheCubesEdges() throws {
        let network = try midas()
        var panorama = PanoramaDepth(strategy: .cube, viewSize: 32)
        panorama.cubePadding = .network
        let views = panorama.views
        XCTAssertEqual(views.map(\.width), [Int](repeating: 32, count: 6), "faces cut exactly")
        XCTAssertEqual(panorama.faceExtent, 1)
        let faces = Self.room.equirectToPerspective(views)
        let padded = try XCTUnwrap(try PanoramaDepthEstimator(base: network, panorama: panorama).cubeSession)
        XCTAssertGreaterThan(padded.rewrites["cube padding"] ?? 0, 10, "every padded convolution of MiDaS")
        let input = network.network.sizing.size(width: 32, height: 32)
        let zeros = try network.batchSession(count: 6, width: input.width, height: input.height)
        func outputs(_ session: Session) throws -> [Image] {
            try network.estimateBatch(faces, projections: views.map(\.projection), session: session).estimates.map(\.depth.values)
        }
        let (withPadding, withZeros) = (seamRatio(try outputs(padded)), seamRatio(try outputs(zeros)))
        XCTAssertLessThan(withPadding, withZeros / 2, "seam ratio: cube padding \(withPadding), zeros \(withZeros)")

        // The panorama from faces that meet only along the cube's edges is whole.
        let depth = try PanoramaDepthEstimator(base: network, panorama: panorama).estimate(Self.room, projection: .equirectangular).depth
        XCTAssertTrue(depth.values.pixels.allSatisfy { $0.isFinite }, "every direction has depth")
    }

    func testBothPadsTheWiderFacesFromTheirNeighboursWiderImages() throws {
        let network = try midas()
        var panorama = PanoramaDepth(strategy: .cube, viewSize: 32, facePadding: 0.125, alignment: ViewAlignment(sampleRows: 32))
        let imageOnly = try PanoramaDepthEstimator(base: network, panorama: panorama).estimate(Self.room, projection: .equirectangular)
        panorama.cubePadding = .both
        XCTAssertEqual(panorama.faceExtent, 40.0 / 32)
        let estimator = try PanoramaDepthEstimator(base: network, panorama: panorama)
        XCTAssertGreaterThan(estimator.cubeSession?.rewrites["cube padding"] ?? 0, 10)
        let both = try estimator.estimate(Self.room, projection: .equirectangular)
        XCTAssertTrue(both.depth.values.pixels.allSatisfy(\.isFinite))
        XCTAssertNotEqual(both.depth.values, imageOnly.depth.values, "the padding inside the network changed the faces' depth")
    }

    func testAModelThatFixesItsBatchRunsFaceByFaceOrIsRefusedCubePadding() throws {
        let network = try NetworkDepthEstimator(model: try scratch(copying: fixture("batch1.onnx")), preset: .midasSmall)
        var panorama = PanoramaDepth(strategy: .cube, viewSize: 24, alignment: ViewAlignment(sampleRows: 32))
        let faceByFace = try PanoramaDepthEstimator(base: network, panorama: panorama)
        XCTAssertNil(faceByFace.cubeSession)
        XCTAssertTrue(try faceByFace.estimate(Self.room, projection: .equirectangular).depth.values.pixels.allSatisfy(\.isFinite))
        panorama.cubePadding = .network
        let refusal = failure { _ = try PanoramaDepthEstimator(base: network, panorama: panorama) }
        XCTAssertTrue(refusal.message.contains("batch1.onnx") || refusal.message.contains("model.onnx"), refusal.message)
        XCTAssertTrue(refusal.message.contains("fixes its batch"), refusal.message)
        XCTAssertEqual(refusal.code, 65)
        // The built-in prior has no network to pad inside.
        let prior = failure { _ = try PanoramaDepthEstimator(base: PriorDepthEstimator(), panorama: panorama) }
        XCTAssertTrue(prior.message.contains("needs a network model"), prior.message)
        XCTAssertEqual(prior.code, 64)
    }
}
