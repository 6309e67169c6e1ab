import ArgumentParser
import Foundation
import StrataIO

struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Describe an image, a video or a numbered frame sequence.",
        discussion: """
        Like ffprobe, info reads headers only. --check decodes everything (every frame of a \
        video, every file of a sequence) and exits 65 at the first damage, naming the file and \
        frame, so a data set can be vetted before a long run.

        Examples:
          strata info photo.jpg
          strata info clip.mp4 --json --count-frames
          strata info 'frames/%05d.png'
          strata info --check clip.mp4
        """
    )

    @Argument(help: "An image, a video, or a printf pattern such as frames/%05d.png.")
    var file: String

    @Flag(help: "Print JSON on stdout instead of text.")
    var json = false

    @Flag(help: "For video: count frames by reading every packet (exact, slower).")
    var countFrames = false

    @Flag(help: "Decode everything and exit 65 at the first damage (a truncated file, a corrupt frame).")
    var check = false

    @Option(help: "Refuse images and frames with more pixels than this.")
    var maxPixels = ImageFile.defaultMaxPixels

    func run() throws {
        try reportingErrors {
            switch MediaKind.of(file) {
            case .image:
                let info = try ImageFile.info(URL(fileURLWithPath: file), maxPixels: maxPixels)
                if json { return try printJSON(info) }
                print("\(file): \(info.format.rawValue.uppercased()) image, \(info.width)x\(info.height), \(info.channels) channel\(info.channels == 1 ? "" : "s"), \(info.bitDepth)-bit")
                for (key, value) in info.details.sorted(by: { $0.key < $1.key }) { print("  \(key): \(value)") }
                if check {
                    _ = try ImageFile.read(URL(fileURLWithPath: file), maxPixels: maxPixels)
                    checked("decodes whole")
                }
            case .sequence:
                let reader = try FrameSequenceReader(pattern: try FramePattern(file), maxPixels: maxPixels)
                let first = try ImageFile.info(URL(fileURLWithPath: reader.pattern.path(reader.startNumber)), maxPixels: maxPixels)
                if json {
                    try printJSON(SequenceInfo(pattern: file, startNumber: reader.startNumber, frameCount: reader.count, first: first))
                } else {
                    print("\(file): sequence of \(reader.count) frame\(reader.count == 1 ? "" : "s") from number \(reader.startNumber), \(first.format.rawValue.uppercased()) \(first.width)x\(first.height)")
                }
                if check {
                    for index in 0..<reader.count { _ = try reader.read(index) }
                    checked("\(reader.count) files decode whole")
                }
            case .video:
                let reader = try VideoReader(url: URL(fileURLWithPath: file), maxPixels: maxPixels, strict: check)
                var info = reader.info
                if countFrames {
                    info.frameCount = try reader.countFrames()
                    info.frameCountIsEstimate = false
                }
                // Decoded before anything is printed, so a damaged file prints only the error.
                let decoded = check ? try reader.decodeAll() : nil
                defer { if let decoded { checked("\(decoded) frames decode without damage") } }
                if json { return try printJSON(info) }
                print("\(file): \(info.container) video, \(info.codec) \(info.pixelFormat), \(info.width)x\(info.height)")
                print("  frames: \(info.frameCount)\(info.frameCountIsEstimate ? " (estimated)" : "")")
                print("  frame rate: \(String(format: "%.3f", info.frameRate)) fps")
                print("  duration: \(String(format: "%.3f", info.duration)) s")
                print("  rotation: \(info.rotation)°" + (info.rotation == 0 ? "" : " (coded \(info.codedWidth)x\(info.codedHeight))"))
                if info.bitRate > 0 { print("  bit rate: \(info.bitRate / 1000) kb/s") }
                if let s = info.spherical {
                    print("  projection: \(s.projection), yaw \(s.yaw)°, pitch \(s.pitch)°, roll \(s.roll)°"
                          + (s.isCropped ? ", bounds left \(s.bounds[0]) top \(s.bounds[1]) right \(s.bounds[2]) bottom \(s.bounds[3])" : ""))
                }
                if let stereo = info.stereo { print("  stereo: \(stereo.packing)\(stereo.inverted ? " (inverted: right eye first)" : "")") }
            }
        }
    }

    private func checked(_ what: String) {
        FileHandleStream.standardError.write("strata: check: \(file): \(what)\n")
    }

    private func printJSON<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }
}

struct SequenceInfo: Encodable {
    var pattern: String
    var startNumber: Int
    var frameCount: Int
    var first: ImageFileInfo
}
