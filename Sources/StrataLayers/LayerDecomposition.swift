import Foundation
import StrataCore

/// One depth layer of a scene: what it shows, with a soft edge where it lies in front of
/// farther layers, what nearer layers hid of it filled as far as the viewing range needs,
/// and its depth there.
public struct Layer: Sendable {
    /// RGBA, straight (not premultiplied) alpha: 1 where the layer is, falling to 0 over
    /// the soft band at its edge against farther layers, 0 outside it.
    public var color: Image
    /// Depth in the input's meaning (its kind and quantity), extended smoothly into the
    /// filled region; NaN where the layer is not.
    public var depth: Image
    /// Pixels the layer shows in the input.
    public var visible: [Bool]
    /// Pixels hidden by nearer layers that the fill gave this layer.
    public var filled: [Bool]
    /// The disparity range the layer covers (inverse depth, in the input's scale).
    public var disparity: ClosedRange<Float>
}

/// A scene split into layers, nearest first.
public struct LayeredScene: Sendable {
    public var layers: [Layer]
    /// Per pixel, the layer it belongs to (0: nearest).
    public var labels: [UInt8]
    public var width: Int
    public var height: Int
    /// What the user should know: fewer layers than asked, invalid depth taken as far.
    public var notes: [String]

    /// The layers composited back to front (straight alpha), RGB.
    public func composite() -> Image {
        var out = Image(width: width, height: height, channels: 3)
        let plane = width * height
        for layer in layers.reversed() {
            for i in 0..<plane {
                let a = layer.color.pixels[3 * plane + i]
                guard a > 0 else { continue }
                for c in 0..<3 { out.pixels[c * plane + i] = a * layer.color.pixels[c * plane + i] + (1 - a) * out.pixels[c * plane + i] }
            }
        }
        return out
    }
}

/// Splits colour and depth into K depth layers near to far (K given, or cut where the
/// depth is discontinuous), each with a soft alpha band at its edge; fills what nearer
/// layers hide (depth by a membrane continuing the layer's surface, colour by exemplar
/// patches from the same layer) as far as `fillBand` pixels from what the layer shows.
/// Equirect input wraps: a layer across the 0°/360° seam is one layer.
public struct LayerDecomposition: Sendable {
    /// Layers wanted, 1…8; nil: cut at the disparities where the boundary is mostly depth
    /// discontinuities (at most 8 layers).
    public var layerCount: Int?
    /// Width of the soft alpha band inside a layer's edge against farther layers, in
    /// pixels: alpha rises 1/(s+1), 2/(s+1)… from the edge inwards.
    public var softness: Double
    /// How far behind a nearer layer the fill reaches, in pixels from what the layer shows.
    public var fillBand: Int
    /// The largest camera offset the layers will be seen from, in metres (metric depth
    /// only): when set, the fill reaches only as far as such an offset can reveal — per
    /// pixel, the parallax between the occluder there and the layer's far end — and
    /// `fillBand` caps it.
    public var viewingOffset: Double?
    /// Whether rows wrap (an equirect panorama).
    public var wrap: Bool
    /// Seed of the exemplar search.
    public var seed: UInt64

    public init(layerCount: Int? = nil, softness: Double = 2, fillBand: Int = 32, viewingOffset: Double? = nil, wrap: Bool = false, seed: UInt64 = 1) {
        precondition(layerCount.map { (1...8).contains($0) } ?? true, "1 to 8 layers")
        (self.layerCount, self.softness, self.fillBand, self.wrap, self.seed) = (layerCount, softness, fillBand, wrap, seed)
        self.viewingOffset = viewingOffset
    }

    /// The layers of `color` (RGB or RGBA, 0…1) over `depth` (the same size).
    public func decompose(color: Image, depth: DepthMap) throws -> LayeredScene {
        let (w, h) = (color.width, color.height)
        guard depth.width == w, depth.height == h else {
            throw LayerError("depth of \(depth.width)x\(depth.height) for colour of \(w)x\(h)")
        }
        // Pixels per radian of view, for the parallax an offset makes.
        var pixelsPerRadian: Double?
        if let viewingOffset {
            guard depth.kind == .metric else {
                throw LayerError("a viewing offset of \(viewingOffset) m needs metric depth, and this depth is \(depth.kind.rawValue): give the fill band in pixels instead")
            }
            switch depth.projection {
            case .equirectangular: pixelsPerRadian = Double(w) / (2 * .pi)
            case .pinhole(let intrinsics): pixelsPerRadian = intrinsics.fx * Double(w) / Double(intrinsics.width)
            default: throw LayerError("a viewing offset needs the depth's projection (equirect or pinhole), and it is not known: give the fill band in pixels instead")
            }
        }
        let count = w * h
        var notes: [String] = []
        var disparity = depth.values.pixels.map { Self.disparity($0, kind: depth.kind) }
        let valid = disparity.filter(\.isFinite)
        guard let far = valid.min() else { throw LayerError("the depth map has no valid pixel") }
        let invalid = count - valid.count
        if invalid > 0 {
            notes.append("\(invalid) pixel\(invalid == 1 ? "" : "s") without valid depth (NaN, zero or negative) taken as the farthest")
            for i in 0..<count where !disparity[i].isFinite { disparity[i] = far }
        }
        let cuts = DisparityCuts.discontinuityCuts(disparity, width: w, wrap: wrap, count: layerCount)
        let k = cuts.count + 1
        if let layerCount, k < layerCount {
            notes.append("\(layerCount) layers asked, \(k) made: the depth has no more distinct levels")
        }
        let labels = disparity.map { d in UInt8(cuts.reduce(0) { $0 + (d < $1 ? 1 : 0) }) }

        let rgb = color.channels >= 3 ? Image(width: w, height: h, channels: 3, pixels: Array(color.pixels[0..<(3 * count)])) : color.rgb()
        // The layers are independent from here: filled concurrently (each fill's seed is its
        // own, so the result does not depend on the order or the threads).
        let range = far...valid.max()!
        let built = Parallel.map(Array(0..<k)) { index in
            layer(index, of: k, labels: labels, cuts: cuts, rgb: rgb, depth: depth, disparity: disparity,
                  disparityRange: range, pixelsPerRadian: pixelsPerRadian)
        }
        return LayeredScene(layers: built, labels: labels, width: w, height: h, notes: notes)
    }

    /// Disparity of a depth value: inverse relative depth is one already (negative is
    /// invalid); metric and relative depth invert. NaN where invalid.
    static func disparity(_ v: Float, kind: DepthKind) -> Float {
        let d = kind == .inverseRelative ? (v >= 0 ? v : .nan) : (v > 0 ? 1 / v : .nan)
        return d.isFinite ? d : .nan
    }

    /// Layer `index` of `k`: its pixels, alpha, filled depth and colour. `disparity`: per
    /// pixel, invalid ones already taken as the farthest; `disparityRange`: the scene's valid
    /// disparities (its lower end, the farthest, stands for invalid ones); `pixelsPerRadian`:
    /// set when the fill reaches as far as `viewingOffset` reveals.
    func layer(_ index: Int, of k: Int, labels: [UInt8], cuts: [Float], rgb: Image, depth: DepthMap, disparity: [Float],
               disparityRange: ClosedRange<Float>, pixelsPerRadian: Double?) -> Layer {
        let (w, h) = (rgb.width, rgb.height)
        let count = w * h
        let visible = labels.map { Int($0) == index }
        // Cuts ascend; layer 0 (nearest) lies above the last.
        let lower = k - 2 - index >= 0 ? cuts[k - 2 - index] : disparityRange.lowerBound
        let upper = index == 0 ? disparityRange.upperBound : cuts[k - 1 - index]
        // Hidden by nearer layers, within the band of what this layer shows: a fixed band, or
        // per pixel the shift between the occluder there and the layer's far end that the
        // viewing offset makes (disparity in 1/m times metres is radians).
        let reach = ChamferDistance.from(visible, width: w, wrap: wrap, limit: Float(fillBand))
        let band: (Int) -> Float
        if let pixelsPerRadian, let offset = viewingOffset {
            let scale = Float(offset * pixelsPerRadian)
            band = { i in min(Float(fillBand), (scale * (disparity[i] - lower)).rounded(.up)) }
        } else {
            band = { _ in Float(fillBand) }
        }
        let filled = (0..<count).map { Int(labels[$0]) < index && reach[$0] <= band($0) }
        // The soft edge: alpha rises from the border with farther layers inwards.
        let farther = labels.map { Int($0) > index }
        let inside = ChamferDistance.from(farther, width: w, wrap: wrap, limit: Float(softness) + 1)
        let region = (0..<count).map { visible[$0] || filled[$0] }
        var alpha = [Float](repeating: 0, count: count)
        for i in 0..<count where region[i] {
            // The first `softness` pixels inside the edge are partly transparent.
            alpha[i] = softness > 0 ? min(1, inside[i] / Float(softness + 1)) : 1
        }
        // Depth: the layer's own, continued smoothly behind what hid it.
        var layerDepth = depth.values.pixels.enumerated().map { visible[$0.offset] && $0.element.isFinite ? $0.element : Float.nan }
        let known = layerDepth.map(\.isFinite)
        layerDepth = MembraneFill.fill(layerDepth.map { $0.isFinite ? $0 : 0 }, known: known, region: filled, width: w, height: h, wrap: wrap)
        for i in 0..<count where !region[i] { layerDepth[i] = .nan }
        // Colour: exemplar patches from the layer's visible pixels at its depth or behind.
        let layerDisparity = layerDepth.map { v -> Float in
            let d = Self.disparity(v, kind: depth.kind)
            return d.isNaN ? disparityRange.lowerBound : d
        }
        let colour = Inpainting.fill(rgb, hole: filled, source: visible, disparity: layerDisparity, wrap: wrap, seed: seed &+ UInt64(index))
        var rgba = Image(width: w, height: h, channels: 4)
        for c in 0..<3 {
            for i in 0..<count where region[i] { rgba.pixels[c * count + i] = colour.pixels[c * count + i] }
        }
        rgba.pixels.replaceSubrange((3 * count)..<(4 * count), with: alpha)
        return Layer(color: rgba, depth: Image(width: w, height: h, channels: 1, pixels: layerDepth),
                     visible: visible, filled: filled, disparity: lower...upper)
    }
}

/// A decomposition that cannot be made, with the sysexits code the CLI exits with.
public typealias LayerError = CodedError
