import Foundation
import StrataCore
import XCTest
@testable import StrataSynth

final class RendererTests: XCTestCase {
    let ground = SceneObject(shape: .plane(point: .zero, normal: Vector3(0, 1, 0)),
                             texture: .checker(size: 0.5, a: Vector3(0.8, 0.8, 0.8), b: Vector3(0.2, 0.2, 0.2)), id: 1)

    func testEquirectRayDistanceToTheGroundIsHeightOverSineOfDepression() {
        let h = 1.6
        let camera = Camera(model: .equirectangular(width: 64, height: 32), position: Vector3(0.3, h, -2))
        let render = Renderer.render(Scene(objects: [ground]), camera: camera, supersampling: 1)
        XCTAssertEqual(render.depth.quantity, .rayDistance)
        var checked = 0
        for y in 0..<32 {
            let latitude = (0.5 - (Double(y) + 0.5) / 32) * .pi
            for x in 0..<64 {
                let d = Double(render.depth[y, x])
                if latitude >= 0 {
                    XCTAssertTrue(d.isNaN, "above the horizon the ray sees sky")
                } else {
                    XCTAssertEqual(d, h / sin(-latitude), accuracy: 1e-5 * h / sin(-latitude))
                    XCTAssertEqual(render.ids[0, y, x], 1)
                    checked += 1
                }
            }
        }
        XCTAssertEqual(checked, 64 * 16)
    }

    func testPinholeLookingDownSeesTheHeightEverywhere() {
        let camera = Camera(model: .pinhole(PinholeIntrinsics(horizontalFOV: 70, width: 40, height: 30)),
                            position: Vector3(1, 2.5, 1), rotation: Rotation(yaw: 30, pitch: -90))
        let render = Renderer.render(Scene(objects: [ground]), camera: camera, supersampling: 1)
        for v in render.depth.values.pixels { XCTAssertEqual(Double(v), 2.5, accuracy: 1e-6) }
        // Normals point up.
        XCTAssertEqual(render.normals[1, 15, 20], 1, accuracy: 1e-6)
    }

    func testSphereSilhouetteAndDepthMatchTheClosedForm() {
        let (distance, radius) = (6.0, 1.5)
        let intrinsics = PinholeIntrinsics(horizontalFOV: 60, width: 101, height: 101)
        let camera = Camera(model: .pinhole(intrinsics))
        let ball = SceneObject(shape: .sphere(center: Vector3(0, 0, distance), radius: radius), texture: .solid(Vector3(1, 0, 0)), id: 7)
        let render = Renderer.render(Scene(objects: [ball]), camera: camera, supersampling: 1)
        let edge = asin(radius / distance)
        var inside = 0
        for y in 0..<101 {
            for x in 0..<101 {
                let local = camera.localDirection(u: Double(x) + 0.5, v: Double(y) + 0.5)
                let angle = acos(local.z)
                let z = Double(render.depth[y, x])
                if abs(angle - edge) < 2e-3 { continue }
                if angle < edge {
                    let t = distance * cos(angle) - (radius * radius - distance * distance * sin(angle) * sin(angle)).squareRoot()
                    XCTAssertEqual(z, t * cos(angle), accuracy: 1e-5, "pixel \(x),\(y)")
                    XCTAssertEqual(render.ids[0, y, x], 7)
                    inside += 1
                } else {
                    XCTAssertTrue(z.isNaN, "pixel \(x),\(y) is outside the silhouette")
                }
            }
        }
        XCTAssertEqual(Double(render.depth[50, 50]), distance - radius, accuracy: 1e-6)
        // The silhouette's area in pixels: π (f tan(edge))², within the ring skipped above.
        let silhouetteRadius = intrinsics.fx * tan(edge)
        XCTAssertEqual(Double(inside), .pi * silhouetteRadius * silhouetteRadius, accuracy: 2 * .pi * silhouetteRadius * 1.5)
    }

    func testPinholeZDepthAndEquirectRayDistanceAgreeOnSharedRays() {
        // Inside a large sphere, depth is smooth, so the equirect map can be sampled between pixels.
        let room = SceneObject(shape: .sphere(center: Vector3(1, 0.5, 2), radius: 12), texture: .noise(scale: 1, a: .zero, b: Vector3(1, 1, 1)), id: 2)
        let position = Vector3(0.2, 1, -0.5), rotation = Rotation(yaw: 20, pitch: 10)
        let pinhole = Camera(model: .pinhole(PinholeIntrinsics(horizontalFOV: 80, width: 24, height: 18)), position: position, rotation: rotation)
        let sphere = Camera(model: .equirectangular(width: 512, height: 256), position: position, rotation: rotation)
        let perspective = Renderer.render(Scene(objects: [room]), camera: pinhole, supersampling: 1)
        let panorama = Renderer.render(Scene(objects: [room]), camera: sphere, supersampling: 1)
        for y in 0..<18 {
            for x in 0..<24 {
                let local = pinhole.localDirection(u: Double(x) + 0.5, v: Double(y) + 0.5)
                let rayDistance = Double(perspective.depth[y, x]) / local.z
                let longitude = atan2(local.x, local.z), latitude = asin(local.y)
                let u = (longitude / (2 * .pi) + 0.5) * 512 - 0.5, v = (0.5 - latitude / .pi) * 256 - 0.5
                let sampled = Double(panorama.depth.values.sample(channel: 0, x: Float(u), y: Float(v), border: .wrap))
                XCTAssertEqual(sampled, rayDistance, accuracy: 2e-3 * rayDistance, "pixel \(x),\(y)")
            }
        }
    }

    func testBoxesCylindersIdsAndFluid() {
        let water = SceneObject(shape: .plane(point: Vector3(0, 0, 0), normal: Vector3(0, 1, 0)),
                                texture: .noise(scale: 0.3, a: Vector3(0, 0.2, 0.4), b: Vector3(0.1, 0.4, 0.6)), id: 3, isFluid: true)
        let box = SceneObject(shape: .box(min: Vector3(-1, 0, 4), max: Vector3(1, 2, 5), yaw: 0),
                              texture: .bricks(width: 0.4, height: 0.15, mortar: 0.02, normalAxis: 2, brick: Vector3(0.6, 0.2, 0.1), mortarColor: Vector3(0.8, 0.8, 0.8)), id: 4)
        let pillar = SceneObject(shape: .cylinder(base: Vector3(3, 0, 4), radius: 0.5, height: 3), texture: .stripes(width: 0.2, axis: 1, a: Vector3(1, 1, 1), b: .zero), id: 5)
        let camera = Camera(model: .pinhole(PinholeIntrinsics(horizontalFOV: 90, width: 64, height: 48)), position: Vector3(0, 1, 0))
        let render = Renderer.render(Scene(objects: [water, box, pillar]), camera: camera, supersampling: 2)
        // The centre ray hits the box's front face at z = 4.
        XCTAssertEqual(render.ids[0, 24, 32], 4)
        XCTAssertEqual(Double(render.depth[24, 32]), 4, accuracy: 1e-6)
        XCTAssertEqual(render.normals[2, 24, 32], -1, accuracy: 1e-9)
        // Below the box the water shows, marked as fluid.
        XCTAssertEqual(render.ids[0, 47, 32], 3)
        XCTAssertEqual(render.fluidMask[0, 47, 32], 1)
        XCTAssertEqual(render.fluidMask[0, 24, 32], 0)
        // The pillar appears to the right: a ray towards its axis at eye height meets it at z = 4 − 0.5·cos…
        let pillarPixels = render.ids.pixels.filter { $0 == 5 }.count
        XCTAssertGreaterThan(pillarPixels, 50)
        // Cylinder seen straight from above: the cap at its height.
        let above = Camera(model: .pinhole(PinholeIntrinsics(horizontalFOV: 10, width: 9, height: 9)),
                           position: Vector3(3, 10, 4), rotation: Rotation(yaw: 0, pitch: -90))
        XCTAssertEqual(Double(Renderer.render(Scene(objects: [pillar]), camera: above, supersampling: 1).depth[4, 4]), 7, accuracy: 1e-9)
    }

    func testRotatedBoxShowsItsCornerAtTheClosedFormDistance() {
        // A 2 × 2 m box turned 45° about the vertical, centred 6 m ahead at eye height:
        // its nearest vertical edge is √2 m in front of its centre.
        let box = SceneObject(shape: .box(min: Vector3(-1, -1, 5), max: Vector3(1, 1, 7), yaw: 45), texture: .solid(Vector3(1, 1, 1)), id: 9)
        let camera = Camera(model: .pinhole(PinholeIntrinsics(horizontalFOV: 30, width: 31, height: 31)))
        let render = Renderer.render(Scene(objects: [box]), camera: camera, supersampling: 1)
        XCTAssertEqual(Double(render.depth[15, 15]), 6 - 2.0.squareRoot(), accuracy: 0.02)
        // Off-centre rays meet the slanted faces, whose normals point ±45° from the camera.
        XCTAssertEqual(abs(Double(render.normals[0, 15, 10])), 0.5.squareRoot(), accuracy: 1e-6)
        XCTAssertEqual(Double(render.normals[2, 15, 10]), -0.5.squareRoot(), accuracy: 1e-6)
        // Unturned, the face is flat at 5 m.
        let flat = SceneObject(shape: .box(min: Vector3(-1, -1, 5), max: Vector3(1, 1, 7), yaw: 0), texture: .solid(Vector3(1, 1, 1)), id: 9)
        XCTAssertEqual(Double(Renderer.render(Scene(objects: [flat]), camera: camera, supersampling: 1).depth[15, 10]), 5, accuracy: 1e-9)
    }

    func testRendersAreByteIdenticalAcrossRuns() {
        let scene = Scene(objects: [ground, SceneObject(shape: .sphere(center: Vector3(0, 1, 3), radius: 1),
                                                        texture: .noise(scale: 0.2, a: .zero, b: Vector3(1, 0.5, 0.2)), id: 2)])
        let camera = Camera(model: .equirectangular(width: 96, height: 48), position: Vector3(0, 1.5, 0))
        let a = Renderer.render(scene, camera: camera, supersampling: 3)
        let b = Renderer.render(scene, camera: camera, supersampling: 3)
        XCTAssertEqual(a.color.pixels.map(\.bitPattern), b.color.pixels.map(\.bitPattern))
        XCTAssertEqual(a.depth.values.pixels.map(\.bitPattern), b.depth.values.pixels.map(\.bitPattern))
        // Scenes are Codable, so they can be JSON files.
        let data = try! JSONEncoder().encode(scene)
        XCTAssertEqual(try! JSONDecoder().decode(Scene.self, from: data), scene)
    }
}
