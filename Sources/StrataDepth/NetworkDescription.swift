import Foundation
import StrataCore
import StrataNN

/// What a depth network wants as input and what its output means: the preprocessing of a
/// preset, or of any compatible ONNX model described by a JSON sidecar beside it.
public struct NetworkDescription: Sendable, Equatable, Codable {
    /// How frames are sized for the network.
    public var sizing: InputSizing
    /// The filter that resizes the frame (the references use OpenCV's INTER_CUBIC).
    public var resize: ResizeFilter
    /// Per-channel mean and standard deviation, on colour in 0…1.
    public var mean: [Float]
    public var std: [Float]
    /// What the output measures: relative inverse depth (MiDaS, DPT, Depth Anything) or
    /// metres (the metric Depth Anything V2 models).
    public var output: DepthKind

    public init(sizing: InputSizing, resize: ResizeFilter = .bicubic, mean: [Float], std: [Float], output: DepthKind) {
        (self.sizing, self.resize, self.mean, self.std, self.output) = (sizing, resize, mean, std, output)
    }

    /// The network input for `image`: RGB (grey repeated, alpha dropped), resized as the
    /// family's reference does, normalised by mean and std, as 1 × 3 × H × W.
    public func tensor(for image: Image) -> Tensor {
        let rgb = image.rgb()
        let size = sizing.size(width: rgb.width, height: rgb.height)
        var resized = rgb.resized(width: size.width, height: size.height, filter: resize)
        let plane = size.width * size.height
        resized.pixels.withUnsafeMutableBufferPointer { p in
            for c in 0..<3 {
                let (m, s) = (mean[c], 1 / std[c])
                for k in (c * plane)..<((c + 1) * plane) { p[k] = (p[k] - m) * s }
            }
        }
        return Tensor(resized)
    }

    static let imageNetMean: [Float] = [0.485, 0.456, 0.406]
    static let imageNetStd: [Float] = [0.229, 0.224, 0.225]

    /// The checks every description must pass, naming the field at fault.
    func validated(source: String) throws -> NetworkDescription {
        guard mean.count == 3, std.count == 3 else { throw DepthError("\(source): mean and std need 3 values each (R, G, B)") }
        guard std.allSatisfy({ $0 > 0 && $0.isFinite }), mean.allSatisfy(\.isFinite) else { throw DepthError("\(source): std must be positive and mean finite") }
        switch sizing {
        case .fixed(let w, let h): guard w > 0, h > 0, w <= 8192, h <= 8192 else { throw DepthError("\(source): input size \(w)x\(h) out of 1…8192") }
        case .keepAspect(let target, let multiple, _):
            guard target > 0, target <= 8192, multiple > 0, multiple <= 512 else { throw DepthError("\(source): target \(target) or multiple \(multiple) out of range") }
        }
        guard output != .relative else { throw DepthError("\(source): output must be inverse-relative or metric") }
        return self
    }
}

/// The published depth networks Strata knows the preprocessing of.
public enum NetworkPreset: String, Sendable, CaseIterable, Codable {
    case midasSmall = "midas-v21-small"
    case dptHybrid = "dpt-hybrid"
    case dptLarge = "dpt-large"
    case depthAnythingV2Small = "depth-anything-v2-small"
    case depthAnythingV2Base = "depth-anything-v2-base"
    case depthAnythingV2Large = "depth-anything-v2-large"
    case depthAnythingV2MetricIndoorSmall = "depth-anything-v2-metric-indoor-small"
    case depthAnythingV2MetricIndoorBase = "depth-anything-v2-metric-indoor-base"
    case depthAnythingV2MetricIndoorLarge = "depth-anything-v2-metric-indoor-large"
    case depthAnythingV2MetricOutdoorSmall = "depth-anything-v2-metric-outdoor-small"
    case depthAnythingV2MetricOutdoorBase = "depth-anything-v2-metric-outdoor-base"
    case depthAnythingV2MetricOutdoorLarge = "depth-anything-v2-metric-outdoor-large"

    /// The family's reference preprocessing and output meaning.
    public var network: NetworkDescription {
        switch self {
        case .midasSmall:
            // MiDaS run.py: 256, keep aspect, multiple of 32, upper bound, INTER_CUBIC, ImageNet.
            return NetworkDescription(sizing: .keepAspect(target: 256, multiple: 32, method: .upperBound),
                                      mean: NetworkDescription.imageNetMean, std: NetworkDescription.imageNetStd, output: .inverseRelative)
        case .dptHybrid, .dptLarge:
            // DPT: 384, keep aspect, multiple of 32, minimal, normalised with 0.5 / 0.5.
            return NetworkDescription(sizing: .keepAspect(target: 384, multiple: 32, method: .minimal),
                                      mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], output: .inverseRelative)
        default:
            // Depth Anything V2 (relative and metric): 518, keep aspect, multiple of 14,
            // lower bound (the short side becomes 518), INTER_CUBIC, ImageNet.
            return NetworkDescription(sizing: .keepAspect(target: 518, multiple: 14, method: .lowerBound),
                                      mean: NetworkDescription.imageNetMean, std: NetworkDescription.imageNetStd,
                                      output: rawValue.contains("metric") ? .metric : .inverseRelative)
        }
    }
}

/// The JSON sidecar that describes a model Strata has no preset for (or overrides one):
/// `MODEL.json` beside `MODEL.onnx`.
///
///     { "preset": "depth-anything-v2-small" }
///     { "input": { "width": 320, "height": 240 }, "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5],
///       "output": "inverse-relative" }
///     { "input": { "target": 518, "multiple": 14, "method": "lower-bound" }, "resize": "bicubic",
///       "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225], "output": "metric" }
public struct NetworkSidecar: Sendable, Equatable, Decodable {
    public struct Input: Sendable, Equatable, Decodable {
        public var width: Int?, height: Int?
        public var target: Int?, multiple: Int?, method: InputSizing.Method?
    }

    public var preset: NetworkPreset?
    public var input: Input?
    public var resize: ResizeFilter?
    public var mean: [Float]?, std: [Float]?
    public var output: DepthKind?

    /// The sidecar beside `model` (same name, `.json`), if there is one.
    public static func beside(_ model: URL) throws -> NetworkSidecar? {
        let url = model.deletingPathExtension().appendingPathExtension("json")
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        let data: Data
        do { data = try Data(contentsOf: url) } catch { throw DepthError("\(url.path): cannot read the model's sidecar", exitCode: 66) }
        do {
            return try JSONDecoder().decode(NetworkSidecar.self, from: data)
        } catch let DecodingError.dataCorrupted(context) {
            throw DepthError("\(url.path): \(Self.path(context.codingPath))\(context.debugDescription)")
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            throw DepthError("\(url.path): \(Self.path(context.codingPath))\(context.debugDescription)")
        } catch {
            throw DepthError("\(url.path): not a model sidecar: \(error)")
        }
    }

    private static func path(_ keys: [CodingKey]) -> String {
        keys.isEmpty ? "" : "field \"" + keys.map(\.stringValue).joined(separator: ".") + "\": "
    }

    /// The description this sidecar gives, on top of `base` (its own preset, or the one the
    /// caller names); every field it sets wins.
    public func description(over base: NetworkDescription?, source: String) throws -> NetworkDescription {
        guard var d = preset?.network ?? base ?? (output != nil && mean != nil && std != nil && input != nil ? NetworkDescription(
            sizing: .fixed(width: 1, height: 1), mean: mean!, std: std!, output: output!) : nil) else {
            throw DepthError("\(source): a sidecar without a preset needs input, mean, std and output")
        }
        if let input {
            switch (input.width, input.height, input.target, input.multiple) {
            case (let w?, let h?, nil, nil): d.sizing = .fixed(width: w, height: h)
            case (nil, nil, let t?, let m):
                d.sizing = .keepAspect(target: t, multiple: m ?? 1, method: input.method ?? .lowerBound)
            default: throw DepthError("\(source): field \"input\": give width and height, or target (with multiple and method)")
            }
        }
        if let resize { d.resize = resize }
        if let mean { d.mean = mean }
        if let std { d.std = std }
        if let output { d.output = output }
        return try d.validated(source: source)
    }
}
