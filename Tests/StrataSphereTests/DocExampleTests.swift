import StrataCore
import StrataSphere
import XCTest

/// The example of StrataSphere's DocC page, run as written (prints checked instead).
final class DocExampleTests: XCTestCase {
    func testTheDocCExampleRunsAsDescribed() throws {
        let pano = Image(width: 256, height: 128, channels: 1) { _, _, x in Float(x) }
        let cube = pano.equirectToCube(faceSize: 64, padding: 4)
        let dice = cube.image(layout: .dice)
        let back = cube.toEquirect(width: 256, height: 128)
        let padded = try pano.equirectToCube(faceSize: 64).padded(by: 4, mode: .copy)
        let patches = TangentLayout.icosahedron(level: 0).patches(size: 48)
        let fused = try SphereFusion(views: patches, images: pano.equirectToPerspective(patches),
                                     width: 256, height: 128, weighting: .feather)
        XCTAssertEqual([dice.width, dice.height, back.width, padded.side], [288, 216, 256, 72])
        XCTAssertGreaterThan(fused.weight.pixels.min()!, 0)

        let view = PerspectiveView(yaw: 30, pitch: 10, fov: 90, width: 64, height: 48)
        let z = Image(width: 64, height: 48, channels: 1, fill: 2)
        let rays = view.rayDistance(fromZDepth: z)
        XCTAssertEqual(rays[0, 24, 32], 2, accuracy: 1e-3)
        XCTAssertEqual(rays[0, 0, 0], Float(2 * (1 + pow(31.5 / 32, 2) + pow(23.5 / 32, 2)).squareRoot()), accuracy: 1e-5)
    }
}
