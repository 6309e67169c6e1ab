import Foundation
import StrataCore
import StrataSphere
import StrataSynth
import XCTest

/// StrataSynth renders a view directly; StrataSphere cuts the same view from the
/// equirect render. They must agree, colour and depth.
final class SynthViewTests: XCTestCase {
    let scene = Scene.builtIn("indoor")!
    let position = Vector3(0.3, 1.4, -1.2)

    func render(_ view: PerspectiveView, supersampling: Int = 2) -> SynthRender {
        Renderer.render(scene, camera: Camera(model: .pinhole(view.intrinsics), position: position,
                                              rotation: view.rotation), supersampling: supersampling)
    }

    func testCubeFacesAndPerspectiveViewsCutFromTheEquirectRenderEqualDirectRenders() {
        let pano = Renderer.render(scene, camera: Camera(model: .equirectangular(width: 512, height: 256), position: position), supersampling: 2)
        var views = CubeFace.allCases.map { PerspectiveView(face: $0, faceSize: 48) }
        views.append(PerspectiveView(yaw: 35, pitch: -20, roll: 15, fov: 75, width: 64, height: 48))
        for view in views {
            let direct = render(view)
            let cut = pano.color.equirectToPerspective(view)
            // Resampling blurs edges a little: the mean stays within a few percent of the
            // colour range, while a wrong orientation differs by tenths.
            XCTAssertLessThan(meanDifference(cut, direct.color), 0.03, "\(view.yaw) \(view.pitch)")
            XCTAssertGreaterThan(psnr(cut, direct.color), 24, "\(view.yaw) \(view.pitch)")

            // Depth: ray distance cut with nearest sampling, as z-depth of the view, equals
            // the renderer's z-depth wherever both pixels see the same surface.
            let rays = pano.depth.values.equirectToPerspective(view, interpolation: .nearest)
            let z = view.zDepth(fromRayDistance: rays)
            var close = 0, total = 0
            for i in z.pixels.indices where !direct.depth.values.pixels[i].isNaN {
                total += 1
                if abs(z.pixels[i] - direct.depth.values.pixels[i]) < 0.03 * direct.depth.values.pixels[i] { close += 1 }
            }
            XCTAssertGreaterThan(Double(close) / Double(total), 0.95, "\(view.yaw) \(view.pitch)")
        }
    }

    func testRayDistanceFromZDepthIsExactInsideASphere() {
        // A camera at the centre of a sphere of radius 3 sees ray distance 3 everywhere;
        // the renderer gives z-depth = 3 cos θ.
        let room = Scene(objects: [SceneObject(shape: .sphere(center: Vector3(1, 2, 3), radius: 3), texture: .solid(Vector3(1, 1, 1)), id: 1)])
        for view in [PerspectiveView(face: .up, faceSize: 32), PerspectiveView(yaw: 20, pitch: 30, roll: 10, fov: 110, width: 40, height: 30)] {
            let rendered = Renderer.render(room, camera: Camera(model: .pinhole(view.intrinsics), position: Vector3(1, 2, 3), rotation: view.rotation), supersampling: 1)
            XCTAssertEqual(rendered.depth.quantity, .zDepth)
            let rays = rendered.depth.rayDistance(view: view)
            XCTAssertEqual(rays.quantity, .rayDistance)
            for value in rays.values.pixels { XCTAssertEqual(value, 3, accuracy: 3e-6) }
            // And back.
            XCTAssertLessThan(maxDifference(rays.zDepth(view: view).values, rendered.depth.values), 3e-6)
            // The corners see farther along z than the centre does: the map is not constant.
            XCTAssertLessThan(rendered.depth.values[0, 0, 0], 2.5)
        }
        // Unprojected equirect points lie on the sphere.
        let pano = Renderer.render(room, camera: Camera(model: .equirectangular(width: 64, height: 32), position: Vector3(1, 2, 3)), supersampling: 1)
        for p in Equirect.points(rayDistance: pano.depth.values) {
            XCTAssertEqual(Double((p * p).sum()).squareRoot(), 3, accuracy: 1e-5)
        }
    }
}

extension SynthViewTests {
    func testARenderedPanoramaSurvivesTheCubeRoundTrip() {
        // A textured render (checkers, bricks, hard edges), face size W/4, within ±67.5°
        // latitude: bicubic keeps 40 dB (40.7 measured); bilinear, which blurs twice, 37.2.
        let pano = Renderer.render(scene, camera: Camera(model: .equirectangular(width: 512, height: 256), position: position), supersampling: 2).color
        for interpolation in [Interpolation.bilinear, .bicubic] {
            let back = pano.equirectToCube(faceSize: 128, interpolation: interpolation).toEquirect(width: 512, height: 256, interpolation: interpolation)
            let value = psnr(back, pano, rows: 32..<224)
            XCTAssertGreaterThanOrEqual(value, interpolation == .bicubic ? 40 : 36.5, "\(interpolation)")
        }
    }
}
