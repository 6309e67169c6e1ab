import Foundation
import StrataCore

/// How views that overlap on the sphere share a pixel when merged.
public enum FusionWeighting: String, Sendable, CaseIterable, Codable {
    /// The view in whose image the pixel lies most centrally takes it alone (for cube
    /// faces, the face its ray meets).
    case nearest
    /// Every view that sees the pixel counts the same.
    case mean
    /// Weights that fall linearly to zero at each view's border, so seams blend away.
    case feather
}

/// Views merged back onto an equirect panorama.
public struct SphereFusion: Sendable {
    /// The weighted mean of the views' samples (fill where no view has a valid sample).
    public var image: Image
    /// The sum of the weights each pixel received (0 where no view counts).
    public var weight: Image

    /// Merges `images`, seen as `views`, onto a `width × height` equirect. Samples that are
    /// NaN in any channel (invalid depth) do not count.
    public init(views: [PerspectiveView], images: [Image], width: Int, height: Int, weighting: FusionWeighting = .feather,
                interpolation: Interpolation = .bilinear, fill: Float = .nan) throws {
        guard views.count == images.count, let channels = images.first?.channels else {
            throw SphereError.invalid("fusion needs one image per view, got \(images.count) images for \(views.count) views")
        }
        for (k, (view, image)) in zip(views, images).enumerated() where image.width != view.width || image.height != view.height || image.channels != channels {
            throw SphereError.invalid("view \(k) is \(view.width)x\(view.height) but its image is \(image.width)x\(image.height)x\(image.channels) (channels \(channels) expected)")
        }
        let plane = width * height
        let best = weighting == .nearest ? SphereFusion.mostCentral(views, width: width, height: height) : []
        var sum = [Float](repeating: 0, count: plane * channels)
        var total = [Float](repeating: 0, count: plane)
        for (k, view) in views.enumerated() {
            let sample = images[k].perspectiveToEquirect(view, width: width, height: height, interpolation: interpolation, fill: .nan)
            let weights = weighting == .nearest ? best.map { $0 == k ? 1 : 0 } : SphereFusion.weights(view, width: width, height: height, weighting: weighting)
            for i in 0..<plane where weights[i] > 0 {
                var valid = true
                for c in 0..<channels where sample.pixels[c * plane + i].isNaN { valid = false }
                guard valid else { continue }
                for c in 0..<channels { sum[c * plane + i] += weights[i] * sample.pixels[c * plane + i] }
                total[i] += weights[i]
            }
        }
        for i in 0..<plane {
            for c in 0..<channels { sum[c * plane + i] = total[i] > 0 ? sum[c * plane + i] / total[i] : fill }
        }
        image = Image(width: width, height: height, channels: channels, pixels: sum)
        weight = Image(width: width, height: height, channels: 1, pixels: total)
    }

    /// The weight `view` gives each pixel of a `width × height` equirect (mean or feather;
    /// nearest depends on the other views, see ``mostCentral(_:width:height:)``).
    public static func weights(_ view: PerspectiveView, width: Int, height: Int, weighting: FusionWeighting) -> [Float] {
        var out = [Float](repeating: 0, count: width * height)
        let rotation = view.rotation
        let (hw, hh) = (Double(view.width) / 2, Double(view.height) / 2)
        out.withUnsafeMutableBufferPointer { buffer in
            let o = UncheckedSendable(buffer.baseAddress!)
            Parallel.forEachBand(height, minimumBand: 8) { rows in
                for y in rows {
                    for x in 0..<width {
                        let d = rotation.applyInverse(Equirect.direction(x: Double(x), y: Double(y), width: width, height: height))
                        guard let p = view.position(ofLocal: d), view.contains(x: p.x, y: p.y) else { continue }
                        let u = abs(p.x + 0.5 - hw) / hw, v = abs(p.y + 0.5 - hh) / hh
                        o.value[y * width + x] = weighting == .feather ? Float(max(0, 1 - u) * max(0, 1 - v)) : 1
                    }
                }
            }
        }
        return out
    }

    /// For each pixel of a `width × height` equirect, the index of the view whose image
    /// holds it most centrally (the smallest max(|u|, |v|) in the view's normalised
    /// coordinates), or −1 where no view sees it.
    public static func mostCentral(_ views: [PerspectiveView], width: Int, height: Int) -> [Int] {
        var best = [Int](repeating: -1, count: width * height)
        var score = [Double](repeating: .infinity, count: width * height)
        for (k, view) in views.enumerated() {
            let rotation = view.rotation
            let (hw, hh) = (Double(view.width) / 2, Double(view.height) / 2)
            for y in 0..<height {
                for x in 0..<width {
                    let d = rotation.applyInverse(Equirect.direction(x: Double(x), y: Double(y), width: width, height: height))
                    guard let p = view.position(ofLocal: d), view.contains(x: p.x, y: p.y) else { continue }
                    let s = max(abs(p.x + 0.5 - hw) / hw, abs(p.y + 0.5 - hh) / hh)
                    let i = y * width + x
                    if s < score[i] { (score[i], best[i]) = (s, k) }
                }
            }
        }
        return best
    }
}
