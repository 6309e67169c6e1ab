import Foundation
import StrataCore
import StrataSphere
import XCTest

/// Tangent layouts, their coverage, and fusion of views back onto the sphere.
final class TangentFusionTests: XCTestCase {
    func testLayoutsHaveTheirPatchCountsAndCoverTheSphere() {
        XCTAssertEqual(TangentLayout.icosahedron(level: 0).centres.count, 20)
        XCTAssertEqual(TangentLayout.icosahedron(level: 1).centres.count, 80)
        XCTAssertEqual(TangentLayout.icosahedron(level: 2).centres.count, 320)
        let omni = TangentLayout.omniFusion.centres
        XCTAssertEqual(omni.count, 18)
        XCTAssertEqual(omni.map(\.latitude), [67.5, 67.5, 67.5] + Array(repeating: 22.5, count: 6) + Array(repeating: -22.5, count: 6) + [-67.5, -67.5, -67.5])
        XCTAssertEqual(omni[0].longitude, -120, accuracy: 1e-12)
        XCTAssertEqual(omni[3].longitude, -150, accuracy: 1e-12)

        // The icosahedron's triangles subtend 63.4° at their centroid's tangent plane.
        XCTAssertEqual(TangentLayout.icosahedron(level: 0).coveringFOV, 2 * atan(0.7558) * 180 / .pi, accuracy: 1.0)
        for layout in [TangentLayout.icosahedron(level: 0), .icosahedron(level: 1), .icosahedron(level: 2), .omniFusion] {
            let exact = CoverageReport(views: layout.patches(size: 16, padding: 1.0), width: 128, height: 64)
            XCTAssertEqual(exact.uncovered, 0, "\(layout)")
            XCTAssertGreaterThanOrEqual(exact.minimum, 1)
            let padded = CoverageReport(views: layout.patches(size: 16, padding: 1.3), width: 128, height: 64)
            XCTAssertEqual(padded.uncovered, 0)
            // Square patches round triangular (or cell-shaped) regions overlap already;
            // padding widens the overlap.
            XCTAssertGreaterThan(exact.overlapping, 0)
            XCTAssertGreaterThan(padded.counts.pixels.reduce(0, +), exact.counts.pixels.reduce(0, +) * 1.3, "\(layout)")
            XCTAssertEqual(padded.single + padded.overlapping, 128 * 64)
        }
        // A layout that leaves a gap says so.
        let gap = CoverageReport(views: TangentLayout.centres([(0, 0), (180, 0)]).patches(size: 8, fov: 60), width: 64, height: 32)
        XCTAssertGreaterThan(gap.uncovered, 1000)
        XCTAssertEqual(gap.minimum, 0)
    }

    func testViewsCutInOnePassEqualEachViewCutAlone() {
        // Views of different sizes and samplings, so bands of several maps share a pass and
        // the last band of a map is short.
        let pano = smoothPanorama(width: 96, height: 48)
        var views = TangentLayout.icosahedron(level: 0).patches(size: 13)
        views.append(PerspectiveView(yaw: 30, pitch: 80, roll: 10, fov: 100, width: 21, height: 9))
        views.append(PerspectiveView(face: .up, faceSize: 24))
        for interpolation in [Interpolation.nearest, .bilinear, .bicubic] {
            let together = pano.equirectToPerspective(views, interpolation: interpolation)
            XCTAssertEqual(together.count, views.count)
            for (view, image) in zip(views, together) {
                let alone = pano.equirectToPerspective(view, interpolation: interpolation)
                XCTAssertEqual(image.width, view.width)
                XCTAssertEqual(image.height, view.height)
                XCTAssertEqual(image.pixels, alone.pixels, "\(interpolation) \(view)")
            }
        }
        XCTAssertEqual(pano.equirectToPerspective([PerspectiveView]()).count, 0)
    }

    func testFusingViewsCutFromOneImageReturnsThatImage() throws {
        let pano = smoothPanorama(width: 128, height: 64)
        let faces = CubeFace.allCases.map { PerspectiveView(face: $0, faceSize: 32) }
        let patches = TangentLayout.icosahedron(level: 1).patches(size: 24)
        for (views, weighting) in [(faces, FusionWeighting.nearest), (faces, .mean), (patches, .feather), (patches, .mean)] {
            let fused = try SphereFusion(views: views, images: pano.equirectToPerspective(views), width: 128, height: 64, weighting: weighting)
            XCTAssertGreaterThan(psnr(fused.image, pano), 48, "\(weighting) over \(views.count) views")
            XCTAssert(fused.weight.pixels.allSatisfy { $0 > 0 })
        }
        // Mean weights count the views that see each pixel; nearest gives each pixel one.
        let mean = try SphereFusion(views: patches, images: pano.equirectToPerspective(patches), width: 128, height: 64, weighting: .mean)
        XCTAssertEqual(mean.weight, CoverageReport(views: patches, width: 128, height: 64).counts)
        let nearest = try SphereFusion(views: faces, images: pano.equirectToPerspective(faces), width: 128, height: 64, weighting: .nearest)
        XCTAssert(nearest.weight.pixels.allSatisfy { $0 == 1 })
    }

    func testInvalidSamplesDoNotCountAndMismatchedInputsAreRefused() throws {
        let pano = smoothPanorama(width: 64, height: 32)
        let faces = CubeFace.allCases.map { PerspectiveView(face: $0, faceSize: 16, padding: 2) }
        var images = pano.equirectToPerspective(faces)
        // The front face's depth is unknown (NaN): the padded neighbours' strips fill in
        // along the seams, and nothing becomes NaN there.
        images[0] = Image(width: 20, height: 20, channels: 3, fill: .nan)
        let fused = try SphereFusion(views: faces, images: images, width: 64, height: 32, weighting: .mean)
        let centre = Equirect.position(of: Vector3(0, 0, 1), width: 64, height: 32)
        XCTAssert(fused.image[0, Int(centre.y), Int(centre.x)].isNaN, "only the front face saw the centre")
        XCTAssertEqual(fused.weight[0, Int(centre.y), Int(centre.x)], 0)
        let nearSeam = Equirect.position(of: Vector3(1, 0, 1.05), width: 64, height: 32)
        XCTAssertFalse(fused.image[0, Int(nearSeam.y), Int(nearSeam.x)].isNaN)

        XCTAssertThrowsError(try SphereFusion(views: faces, images: Array(images.prefix(5)), width: 64, height: 32)) {
            XCTAssertEqual($0 as? SphereError, .invalid("fusion needs one image per view, got 5 images for 6 views"))
        }
        images[2] = Image(width: 19, height: 20, channels: 3)
        XCTAssertThrowsError(try SphereFusion(views: faces, images: images, width: 64, height: 32)) {
            XCTAssertEqual($0 as? SphereError, .invalid("view 2 is 20x20 but its image is 19x20x3 (channels 3 expected)"))
        }
    }
}
