import Foundation
import StrataCore
import StrataSphere
import XCTest

/// Tensor-level cube padding (from the faces) against image-level padding (from the panorama).
final class CubePaddingTests: XCTestCase {
    let n = 32
    lazy var pano = smoothPanorama(width: 512, height: 256)

    /// The largest difference between two padded cubemaps over one side strip of one face.
    func stripDifference(_ a: Cubemap, _ b: Cubemap, face: CubeFace, side: Int) -> Float {
        let (fa, fb) = (a.face(face), b.face(face))
        let (p, s) = (a.padding, a.side)
        var worst: Float = 0
        for c in 0..<a.channels {
            for k in 0..<p {
                for t in p..<(s - p) {
                    let (x, y): (Int, Int)
                    switch side {
                    case 0: (x, y) = (s - 1 - k, t)   // right
                    case 1: (x, y) = (k, t)           // left
                    case 2: (x, y) = (t, k)           // top
                    default: (x, y) = (t, s - 1 - k)  // bottom
                    }
                    worst = max(worst, abs(fa[c, y, x] - fb[c, y, x]))
                }
            }
        }
        return worst
    }

    func testResamplingPaddingAgreesWithImageLevelPaddingForEveryFaceSideAndWidth() throws {
        let faces = pano.equirectToCube(faceSize: n)
        for p in [1, 2, 4, 8] {
            let imageLevel = pano.equirectToCube(faceSize: n, padding: p)
            let tensorLevel = try faces.padded(by: p, mode: .resample(.bilinear))
            XCTAssertEqual(tensorLevel.unpadded, faces)
            for face in CubeFace.allCases {
                for side in 0..<4 {
                    // Two bilinear resamplings against one: interpolation error of the smooth panorama.
                    XCTAssertLessThan(stripDifference(tensorLevel, imageLevel, face: face, side: side), 2e-3, "p \(p) \(face) side \(side)")
                }
            }
            // Corners too: the whole padded faces agree.
            XCTAssertLessThan(maxDifference(tensorLevel.stacked, imageLevel.stacked), 3e-3, "p \(p)")
        }
    }

    func testCopyPaddingDriftsFromImageLevelPaddingOnlyAsTheGeometrySays() throws {
        let faces = pano.equirectToCube(faceSize: n)
        for p in [1, 2, 4, 8] {
            let imageLevel = pano.equirectToCube(faceSize: n, padding: p)
            let copied = try faces.padded(by: p, mode: .copy)
            let resampled = try faces.padded(by: p, mode: .resample(.bilinear))
            for face in CubeFace.allCases {
                for side in 0..<4 {
                    // The k-th strip pixel (δ = (2k+1)/N beyond the edge in face units) copies
                    // the neighbour's k-th pixel, at the same place along the edge. Its true
                    // ray meets the neighbour at 1/(1+δ) of that place along the edge and
                    // δ/(1+δ) in: up to k + ½ pixels away near the corners. This smooth
                    // panorama changes by at most 0.45 per radian, 2/N radian per pixel.
                    let drift = 0.45 * (2 / Double(n)) * (Double(p) - 0.5 + Double(p * p) / Double(n)) + 2e-3
                    let difference = stripDifference(copied, imageLevel, face: face, side: side)
                    XCTAssertLessThan(Double(difference), drift, "p \(p) \(face) side \(side)")
                    // Wider strips drift visibly: the resampling mode is the one that agrees.
                    if p >= 2 { XCTAssertGreaterThan(difference, 3 * stripDifference(resampled, imageLevel, face: face, side: side)) }
                }
            }
        }
    }

    func testCopyPaddingCopiesTheNeighboursPixelsTurnedToMatch() throws {
        // Face pixels carry their own ids, so every strip pixel says where it came from.
        let p = 4
        let ids = Image(width: n, height: 6 * n, channels: 1) { _, y, x in Float(y * n + x) }
        let cube = try Cubemap(stacked: ids, faceSize: n).padded(by: p, mode: .copy)
        func id(_ face: CubeFace, _ x: Int, _ y: Int) -> Float { Float((face.rawValue * n + y) * n + x) }
        let (front, right) = (cube.face(.front), cube.face(.right))
        for k in 0..<p {
            for t in 0..<n {
                // F's right strip is R's left columns, rows unchanged.
                XCTAssertEqual(front[0, p + t, p + n + k], id(.right, k, t))
                // F's top strip is U's bottom rows, columns unchanged.
                XCTAssertEqual(front[0, p - 1 - k, p + t], id(.up, t, n - 1 - k))
                // R's top strip is U's right columns, turned: R's column t meets U's row n − 1 − t.
                XCTAssertEqual(right[0, p - 1 - k, p + t], id(.up, n - 1 - k, n - 1 - t))
                // R's right strip is B's left columns.
                XCTAssertEqual(right[0, p + t, p + n + k], id(.back, k, t))
            }
        }
        // Every strip pixel is a pixel of another face (corners included).
        for face in CubeFace.allCases {
            let padded = cube.face(face)
            for y in 0..<cube.side {
                for x in 0..<cube.side where x < p || y < p || x >= p + n || y >= p + n {
                    let source = Int(padded[0, y, x]) / (n * n)
                    XCTAssertNotEqual(source, face.rawValue, "\(face) (\(x), \(y))")
                }
            }
        }
        XCTAssertThrowsError(try cube.padded(by: n + 1)) { XCTAssertEqual($0 as? SphereError, .invalid("cube padding 33 must be between 0 and the face size 32")) }
    }

    func testPaddedFacesGoBackToTheSamePanorama() throws {
        // Padding changes nothing inside the faces, and cube → equirect reads the padding.
        let faces = pano.equirectToCube(faceSize: n)
        let plain = faces.toEquirect(width: 128, height: 64)
        let padded = try faces.padded(by: 2, mode: .resample(.bilinear)).toEquirect(width: 128, height: 64)
        XCTAssertLessThan(maxDifference(plain, padded), 2e-3)
    }

    /// The table for faces cut wider than the cube (the cube strategy's padding from the
    /// sphere, then cube padding inside the network): extending faces of n + 2p pixels by q
    /// from their neighbours' wider images gives what cutting them p + q wider does, up to
    /// the nearest pixel; the plain copy table, which takes them for exact cube faces, does not.
    func testWiderFacesArePaddedAlongTheirOwnRays() throws {
        let (p, q) = (4, 3)
        let wide = pano.equirectToCube(faceSize: n, padding: p)
        let side = n + 2 * p, extended = side + 2 * q
        let want = pano.equirectToCube(faceSize: n, padding: p + q)
        func gathered(_ sources: [Int32]) -> Float {
            var worst: Float = 0
            let plane = 6 * side * side, out = 6 * extended * extended
            for c in 0..<wide.channels {
                for k in 0..<out {
                    let got = wide.stacked.pixels[c * plane + Int(sources[k])]
                    worst = max(worst, abs(got - want.stacked.pixels[c * out + k]))
                }
            }
            return worst
        }
        let extent = Double(side) / Double(n)
        let alongRays = gathered(Cubemap.paddingSources(faceSize: side, padding: q, extent: extent))
        let asIfCube = gathered(Cubemap.copyPaddingSources(faceSize: side, padding: q))
        // Nearest pixel on a panorama changing by at most 0.45 per radian, with a pixel up to
        // 2 / n radian wide, plus the two bilinear cuts.
        XCTAssertLessThan(Double(alongRays), 0.45 * 2 / Double(n) + 5e-3, "along the rays")
        XCTAssertGreaterThan(asIfCube, 2 * alongRays, "the copy table misplaces the strips of wider faces")
        XCTAssertEqual(Cubemap.paddingSources(faceSize: side, padding: q, extent: 1), Cubemap.copyPaddingSources(faceSize: side, padding: q))
    }
}
