import StrataCore
import StrataIO
import StrataPipeline

/// Which part of a decoded 360° frame is one eye's panorama, and where it sits on the full
/// equirect: stereo packing (top-bottom, side-by-side) from the container's metadata or the
/// pipeline, a cropped equirect's bounds, and the squeeze of a packed equirect (each eye of
/// a 1920×1080 top-bottom video is 1920×540 and stands for a 1920×960 panorama).
struct StereoEye: Sendable, Equatable {
    enum Packing: String, Sendable { case mono, topBottom = "top-bottom", sideBySide = "side-by-side" }

    var packing: Packing
    /// Whether the eye taken is the second half of the frame (the right eye, or the left of an inverted layout).
    var secondHalf: Bool
    /// The fractions of the full panorama cut from the left, top, right and bottom (a cropped equirect).
    var bounds: [Double]
    /// Whether the container says the frames are equirect: an eye is then brought to 2:1.
    var equirect: Bool

    /// From the stage's `layout` and `eye` params and the video's metadata.
    init(layout: String, eye: String, info: VideoInfo, path: String) throws {
        if layout == "auto" {
            switch info.stereo?.packing {
            case nil, "mono"?: packing = .mono
            case "top-bottom"?: packing = .topBottom
            case "side-by-side"?: packing = .sideBySide
            case let other?:
                throw StageError("\(path): the eyes are packed as \(other), which video.decode cannot split; set layout to mono to take the frames whole", exitCode: 65)
            }
        } else {
            packing = Packing(rawValue: layout)!
        }
        secondHalf = packing != .mono && (eye == "right") != (info.stereo?.inverted ?? false)
        let spherical = info.spherical
        equirect = spherical?.isEquirect == true
        bounds = equirect && spherical?.isCropped == true ? spherical!.bounds : [0, 0, 0, 0]
        eyeSize = packing == .topBottom ? (info.width, info.height / 2) : packing == .sideBySide ? (info.width / 2, info.height) : (info.width, info.height)
        let regionHeight = Self.regionHeight(eyeWidth: eyeSize.width, bounds: bounds)
        resizedHeight = equirect && eyeSize.height != regionHeight ? regionHeight : nil
    }

    /// One eye's size as stored.
    private let eyeSize: (width: Int, height: Int)
    /// The height an eye of a squeezed equirect is resized to (nil when it is not squeezed).
    private let resizedHeight: Int?

    static func == (a: StereoEye, b: StereoEye) -> Bool {
        (a.packing, a.secondHalf, a.bounds, a.equirect) == (b.packing, b.secondHalf, b.bounds, b.equirect)
            && a.eyeSize == b.eyeSize && a.resizedHeight == b.resizedHeight
    }

    /// The height of an eye `eyeWidth` wide on its 2:1 panorama, less what `bounds` cut.
    private static func regionHeight(eyeWidth: Int, bounds: [Double]) -> Int {
        let fullWidth = Int((Double(eyeWidth) / max(1e-6, 1 - bounds[0] - bounds[2])).rounded())
        return max(1, Int((Double(max(1, fullWidth / 2)) * (1 - bounds[1] - bounds[3])).rounded()))
    }

    var isIdentity: Bool { packing == .mono && !bounds.contains { $0 > 0 } && resizedHeight == nil }

    /// One eye of `frame`, on the full equirect canvas when cropped (RGBA, alpha 0 where the
    /// video holds nothing).
    func extract(_ frame: Image) -> Image {
        var eye = frame
        switch packing {
        case .mono: break
        case .topBottom:
            let h = frame.height / 2
            eye = frame.cropped(x: 0, y: secondHalf ? h : 0, width: frame.width, height: h)
        case .sideBySide:
            let w = frame.width / 2
            eye = frame.cropped(x: secondHalf ? w : 0, y: 0, width: w, height: frame.height)
        }
        guard equirect else { return eye }
        // The full panorama is 2:1; the eye covers its share of it, squeezed or not.
        let fullWidth = Int((Double(eye.width) / max(1e-6, 1 - bounds[0] - bounds[2])).rounded())
        let fullHeight = max(1, fullWidth / 2)
        let regionHeight = Self.regionHeight(eyeWidth: eye.width, bounds: bounds)
        if eye.height != regionHeight { eye = eye.resized(width: eye.width, height: regionHeight, filter: .bicubic) }
        guard bounds.contains(where: { $0 > 0 }) else { return eye }
        let x0 = Int((bounds[0] * Double(fullWidth)).rounded()), y0 = Int((bounds[1] * Double(fullHeight)).rounded())
        var canvas = Image(width: fullWidth, height: fullHeight, channels: 4)
        let colour = min(eye.channels, 3)
        for c in 0..<4 {
            for y in 0..<eye.height where y0 + y < fullHeight {
                for x in 0..<eye.width where x0 + x < fullWidth {
                    canvas[c, y0 + y, x0 + x] = c < colour ? eye[c, y, x] : (c == 3 ? 1 : eye[min(c, eye.channels - 1), y, x])
                }
            }
        }
        return canvas
    }

    /// What is taken, for the run's log (nil when the frames are taken whole).
    var description: String? {
        var parts: [String] = []
        if packing != .mono { parts.append("stereo \(packing.rawValue), the \(secondHalf ? "second" : "first") half") }
        if let resizedHeight { parts.append("squeezed \(eyeSize.width)x\(eyeSize.height), resized to \(eyeSize.width)x\(resizedHeight) (bicubic)") }
        if bounds.contains(where: { $0 > 0 }) {
            parts.append("a cropped equirect (bounds \(bounds.map { String(format: "%.3f", $0) }.joined(separator: " "))) placed on the full panorama, alpha 0 outside")
        }
        return parts.isEmpty ? nil : parts.joined(separator: "; ")
    }
}
