import Foundation
import StrataCore
import StrataIO
import XCTest

/// 360° video as it comes: stereo packing and cropped equirects from the container's
/// metadata reach the pipeline as one eye on a full 2:1 panorama, and `strata info` says what
/// the file declares.
final class SphericalVideoTests: CommandTestCase {
    /// A video whose first half (top, or left) is dark and second half light.
    func makeStereo(_ name: String, width: Int, height: Int, topBottom: Bool, options: VideoWriter.Options) throws {
        let writer = try VideoWriter(url: folder.appendingPathComponent(name), width: width, height: height, options: options)
        let frame = Image(width: width, height: height, channels: 3) { _, y, x in (topBottom ? y < height / 2 : x < width / 2) ? 0.2 : 0.8 }
        for _ in 0..<3 { try writer.append(frame) }
        try writer.finish()
    }

    func mean(_ path: String, channel: Int = 0) throws -> (image: Image, mean: Float) {
        let image = try ImageFile.read(folder.appendingPathComponent(path))
        let plane = image.pixels[(channel * image.planeSize)..<((channel + 1) * image.planeSize)]
        return (image, plane.reduce(0, +) / Float(plane.count))
    }

    func testStereoVideosGiveOneEyeAsAFullPanorama() throws {
        var options = VideoWriter.Options()
        options.spherical = SphericalMapping(yaw: 90)
        options.stereo = StereoLayout(packing: "top-bottom")
        try makeStereo("tb.mp4", width: 128, height: 128, topBottom: true, options: options)
        var result = try strata("info", "tb.mp4")
        XCTAssertTrue(result.stdout.contains("  projection: equirectangular, yaw 90.0°, pitch 0.0°, roll 0.0°\n  stereo: top-bottom\n"), result.stdout)
        result = try strata("info", "tb.mp4", "--json")
        let json = try JSONDecoder().decode(VideoInfo.self, from: Data(result.stdout.utf8))
        XCTAssertEqual(json.stereo?.packing, "top-bottom")
        XCTAssertEqual(json.spherical?.yaw, 90)

        for (eye, expected) in [("left", Float(0.2)), ("right", Float(0.8))] {
            result = try strata("run", pipeline("video-to-png.json"), "--input", "video=tb.mp4", "--output-dir", eye,
                                "--set", "frames.eye=\(eye)", "--frames", "0", "--progress", "none")
            XCTAssertEqual(result.status, 0, result.stderr)
            XCTAssertTrue(result.stderr.contains("360° equirectangular (orientation yaw 90.0° pitch 0.0° roll 0.0°, reported, not applied)"), result.stderr)
            XCTAssertTrue(result.stderr.contains("taking \(eye) eye: stereo top-bottom"), result.stderr)
            let (image, value) = try mean("\(eye)/frames/00001.png")
            XCTAssertEqual([image.width, image.height], [128, 64], "one eye is a 2:1 panorama")
            XCTAssertEqual(value, expected, accuracy: 0.03, eye)
        }
        // A squeezed pair (each eye 2:1 only once stretched, as 1920×1080 top-bottom video is).
        try makeStereo("squeezed.mp4", width: 128, height: 64, topBottom: true, options: options)
        result = try strata("run", pipeline("video-to-png.json"), "--input", "video=squeezed.mp4", "--output-dir", "squeezed",
                            "--set", "frames.eye=right", "--frames", "0", "--progress", "none")
        XCTAssertTrue(result.stderr.contains("squeezed 128x32, resized to 128x64 (bicubic)"), result.stderr)
        let stretched = try mean("squeezed/frames/00001.png")
        XCTAssertEqual([stretched.image.width, stretched.image.height], [128, 64])
        XCTAssertEqual(stretched.mean, 0.8, accuracy: 0.03)

        // layout overrides the metadata: the frame taken whole as mono.
        result = try strata("run", pipeline("video-to-png.json"), "--input", "video=tb.mp4", "--output-dir", "mono",
                            "--set", "frames.layout=mono", "--frames", "0", "--progress", "none")
        // (The whole square frame, as a declared equirect, is brought to 2:1: both halves in it.)
        let whole = try mean("mono/frames/00001.png")
        XCTAssertEqual([whole.image.width, whole.image.height], [128, 64])
        XCTAssertEqual(whole.mean, 0.5, accuracy: 0.03)

        // Matroska's right-eye-first side-by-side: the left eye is the right half.
        var sbs = VideoWriter.Options()
        sbs.stereo = StereoLayout(packing: "side-by-side", inverted: true)
        try makeStereo("sbs.mkv", width: 128, height: 32, topBottom: false, options: sbs)
        result = try strata("run", pipeline("video-to-png.json"), "--input", "video=sbs.mkv", "--output-dir", "sbs", "--frames", "0", "--progress", "none")
        XCTAssertEqual(result.status, 0, result.stderr)
        let (image, value) = try mean("sbs/frames/00001.png")
        XCTAssertEqual([image.width, image.height], [64, 32])
        XCTAssertEqual(value, 0.8, accuracy: 0.03)
    }

    func testACroppedEquirectIsPlacedOnItsFullPanoramaWithTheRestTransparent() throws {
        var options = VideoWriter.Options()
        options.spherical = SphericalMapping(projection: "equirectangular-tile", bounds: [0, 0.25, 0, 0.25])
        try makeStereo("crop.mp4", width: 64, height: 16, topBottom: true, options: options)
        var result = try strata("info", "crop.mp4")
        XCTAssertTrue(result.stdout.contains("bounds left 0.0 top 0.25 right 0.0 bottom 0.25"), result.stdout)
        result = try strata("run", pipeline("video-to-png.json"), "--input", "video=crop.mp4", "--output-dir", "crop", "--frames", "0", "--progress", "none")
        XCTAssertEqual(result.status, 0, result.stderr)
        let image = try ImageFile.read(folder.appendingPathComponent("crop/frames/00001.png"))
        XCTAssertEqual([image.width, image.height, image.channels], [64, 32, 4])
        XCTAssertEqual(image[3, 2, 10], 0, "above the crop: no data")
        XCTAssertEqual(image[3, 29, 10], 0, "below the crop: no data")
        XCTAssertEqual(image[3, 10, 10], 1)
        XCTAssertEqual(image[0, 10, 10], 0.2, accuracy: 0.03, "the video's top rows sit a quarter down")
        XCTAssertEqual(image[0, 21, 10], 0.8, accuracy: 0.03)
    }
}
