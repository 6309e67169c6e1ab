import Foundation
import StrataCore
import StrataNN

/// How network output is brought back to the frame's size.
public enum DepthUpsampling: String, Sendable, CaseIterable, Codable {
    /// Half-pixel bilinear (PyTorch `interpolate(mode="bilinear", align_corners=False)`).
    case bilinear
    /// Bilinear, then a guided filter on the frame's luma so depth edges follow image edges.
    case guided
}

/// A monocular depth network (MiDaS, DPT, Depth Anything V2, or any model a sidecar
/// describes) run on StrataNN with its family's preprocessing.
public final class NetworkDepthEstimator: DepthEstimator, @unchecked Sendable {
    public let name: String
    /// The preprocessing and output meaning in force (preset, sidecar, then the model's own
    /// static input size).
    public let network: NetworkDescription
    /// How output returns to the frame's size.
    public let upsampling: DepthUpsampling
    let model: Model
    let threads: Int?
    /// The session prepared for the last input shape (a video's frames share one): a
    /// dynamic export's shape arithmetic is folded for that size.
    private var prepared: (shape: [Int], session: Session)?
    /// The session prepared for a batch of views (and its cube padding).
    private var batchPrepared: (shape: [Int], key: String, session: Session)?
    private let lock = NSLock()
    let inputName: String
    let outputName: String

    /// Loads `url`, checks that it takes one N×3×H×W image and gives one depth map, and
    /// settles its preprocessing: `preset`, overridden by a sidecar `MODEL.json` beside the
    /// file. Everything wrong is reported here, before any frame, naming the file.
    public init(model url: URL, preset: NetworkPreset? = nil, threads: Int? = nil, upsampling: DepthUpsampling = .bilinear) throws {
        let model = try Model(contentsOf: url)
        let sidecar = try NetworkSidecar.beside(url)
        let sidecarPath = url.deletingPathExtension().appendingPathExtension("json").path
        var network: NetworkDescription
        if let sidecar {
            network = try sidecar.description(over: preset?.network, source: sidecarPath)
        } else if let preset {
            network = preset.network
        } else {
            throw DepthError("\(url.path): no preset named and no sidecar \(sidecarPath) beside it to say how to feed the model "
                             + "(presets: \(NetworkPreset.allCases.map(\.rawValue).joined(separator: ", ")))", exitCode: 64)
        }
        // The model's own contract.
        guard model.inputs.count == 1, let input = model.inputs.first else {
            throw DepthError("\(url.path): a depth network takes one image input; this model takes \(model.inputs.count) (\(model.inputs.map(\.name).joined(separator: ", ")))")
        }
        if let type = input.dataType, type != .float {
            throw DepthError("\(url.path): input \"\(input.name)\" is \(type), not float")
        }
        if let shape = input.shape {
            guard shape.count == 4 else {
                throw DepthError("\(url.path): input \"\(input.name)\" has rank \(shape.count); a depth network takes N×3×H×W")
            }
            if let c = shape[1], c != 3 { throw DepthError("\(url.path): input \"\(input.name)\" has \(c) channels, not 3 (RGB)") }
            if let n = shape[0], n != 1 { throw DepthError("\(url.path): input \"\(input.name)\" has a fixed batch of \(n); Strata feeds one frame") }
            if let h = shape[2], let w = shape[3] {
                // A static export runs at its own size only.
                if sidecar?.input != nil, case .fixed(let sw, let sh) = network.sizing, (sw, sh) != (w, h) {
                    throw DepthError("\(sidecarPath): field \"input\" says \(sw)x\(sh), but \(url.lastPathComponent) takes \(w)x\(h) only")
                }
                if sidecar?.input != nil, case .keepAspect = network.sizing {
                    throw DepthError("\(sidecarPath): field \"input\" asks for a size kept to the frame's aspect, but \(url.lastPathComponent) takes \(w)x\(h) only")
                }
                network.sizing = .fixed(width: w, height: h)
            }
        }
        guard let output = model.outputs.first else { throw DepthError("\(url.path): the model has no output") }
        if let shape = output.shape {
            let channels: Int?? = shape.count == 4 ? shape[1] : shape.count == 3 ? .some(1) : nil
            guard let channels, channels == nil || channels == 1 else {
                throw DepthError("\(url.path): output \"\(output.name)\" of shape \(shape.map { $0.map(String.init) ?? "?" }) is not one depth map (N×H×W or N×1×H×W)")
            }
        }
        // Prepared once here for a static export, so a model that cannot run fails before any frame.
        if let shape = input.shape, shape.allSatisfy({ $0 != nil }) {
            let fixed = shape.map { $0! }
            prepared = (fixed, try Session(model: model, threads: threads))
        } else {
            // A dynamic export is prepared for each frame size when it comes; its graph is
            // checked now all the same.
            _ = try Session(model: model, threads: threads)
        }
        (self.model, self.threads) = (model, threads)
        (self.inputName, self.outputName) = (input.name, output.name)
        self.network = network
        self.upsampling = upsampling
        self.name = sidecar?.preset?.rawValue ?? preset?.rawValue ?? url.deletingPathExtension().lastPathComponent
    }

    /// The network input for `image` (see ``NetworkDescription/tensor(for:)``).
    public func preprocess(_ image: Image) -> Tensor { network.tensor(for: image) }

    /// The network's raw output for one preprocessed input, as a one-channel image.
    public func infer(_ input: Tensor) throws -> Image {
        let outputs = try session(for: input.shape).run([inputName: input])
        guard let output = outputs[outputName] else { throw DepthError("\(name): the model gave no output \"\(outputName)\"", exitCode: 70) }
        let image = try output.image()
        guard image.channels == 1 else { throw DepthError("\(name): output of shape \(output.shape) is not one depth map") }
        return image
    }

    /// The session for inputs of `shape`, prepared when the shape changes.
    func session(for shape: [Int]) throws -> Session {
        try lock.withLock {
            if let prepared, prepared.shape == shape { return prepared.session }
            let session = try Session(model: model, threads: threads, inputShapes: [inputName: shape])
            prepared = (shape, session)
            return session
        }
    }

    public func estimateTimed(_ image: Image, projection: Projection) throws -> (estimate: DepthEstimate, timing: DepthTiming) {
        guard image.channels <= 4 else { throw DepthError("a frame of \(image.channels) channels is not gray, RGB or RGBA") }
        var timing = DepthTiming()
        let input = timing.time(\.preprocessing) { preprocess(image) }
        let raw = try timing.time(\.inference) { try infer(input) }
        let estimate = timing.time(\.postprocessing) { finish(raw, for: image, projection: projection) }
        return (estimate, timing)
    }

    /// Raw network output brought to `image`'s size and meaning, with its confidence.
    func finish(_ raw: Image, for image: Image, projection: Projection) -> DepthEstimate {
        var values = raw.resized(width: image.width, height: image.height, filter: .bilinear)
        if upsampling == .guided {
            values = GuidedFilter(radius: max(2, image.width / 160), eps: 1e-4).apply(values, guide: image.grayscale())
        }
        let quantity: DepthQuantity = projection == .equirectangular ? .rayDistance : .zDepth
        let depth = DepthMap(values: values, kind: network.output, quantity: quantity, projection: projection)
        return DepthEstimate(depth: depth, confidence: DepthConfidence.fromEdges(depth))
    }

    /// The session that runs `count` frames of `width × height` (the network's input size) as
    /// one batch, every padded convolution padding from the neighbouring cube faces when
    /// `cubePadding` is given (`key` names its table, for the cache). A static export made
    /// for one image is opened to any batch; a graph that fixes the batch inside is refused.
    public func batchSession(count: Int, width: Int, height: Int, cubePadding: CubePadding? = nil, key: String = "") throws -> Session {
        let shape = [count, 3, height, width]
        return try lock.withLock {
            if let batchPrepared, batchPrepared.shape == shape, batchPrepared.key == key { return batchPrepared.session }
            let open = model.withOpenBatch()
            let session = try Session(model: open, threads: threads, inputShapes: [inputName: shape], cubePadding: cubePadding)
            guard let out = session.valueShapes[outputName], out.first == count else {
                let shape = session.valueShapes[outputName].map { "an output of shape \($0)" } ?? "an output of unknown shape"
                throw DepthError("\(model.path): the graph fixes its batch (\(count) inputs give \(shape)), so it cannot run \(count) views as one batch", exitCode: 65)
            }
            batchPrepared = (shape, key, session)
            return session
        }
    }

    /// Same-sized frames (the cube strategy's six faces) through the network as one batch
    /// on `session` (from ``batchSession(count:width:height:cubePadding:key:)``).
    public func estimateBatch(_ images: [Image], projections: [Projection], session: Session) throws -> (estimates: [DepthEstimate], timing: DepthTiming) {
        precondition(images.count == projections.count && !images.isEmpty, "one projection per image")
        var timing = DepthTiming()
        let input = timing.time(\.preprocessing) { () -> Tensor in
            let tensors = images.map(preprocess)
            return Tensor(shape: [images.count] + tensors[0].shape.dropFirst(), floats: tensors.flatMap { $0.floats! })
        }
        let raw = try timing.time(\.inference) { () -> [Image] in
            guard let output = try session.run([inputName: input])[outputName], let values = output.floats, output.shape.count >= 3,
                  output.shape[0] == images.count else {
                throw DepthError("\(name): the batch of \(images.count) gave no output \"\(outputName)\" of as many maps", exitCode: 70)
            }
            let (h, w) = (output.shape[output.shape.count - 2], output.shape[output.shape.count - 1])
            guard values.count == images.count * h * w else { throw DepthError("\(name): output of shape \(output.shape) is not one depth map per view") }
            return (0..<images.count).map { Image(width: w, height: h, channels: 1, pixels: Array(values[($0 * h * w)..<(($0 + 1) * h * w)])) }
        }
        let estimates = timing.time(\.postprocessing) { zip(raw, zip(images, projections)).map { finish($0, for: $1.0, projection: $1.1) } }
        return (estimates, timing)
    }
}

/// Generic confidence from the depth itself: high on smooth surfaces, low across depth
/// discontinuities, where upsampling and refinement blur values between two surfaces.
enum DepthConfidence {
    static func fromEdges(_ depth: DepthMap) -> Image {
        let (w, h) = (depth.width, depth.height)
        var out = Image(width: w, height: h, channels: 1, fill: 0)
        let v = depth.values.pixels
        guard let range = depth.validRange(), range.upperBound > range.lowerBound else {
            for k in 0..<(w * h) where v[k].isFinite { out.pixels[k] = 1 }
            return out
        }
        let scale = 1 / (range.upperBound - range.lowerBound)
        for y in 0..<h {
            for x in 0..<w {
                let k = y * w + x
                guard v[k].isFinite else { continue }
                let right = x + 1 < w ? v[k + 1] : v[k], down = y + 1 < h ? v[k + w] : v[k]
                let left = x > 0 ? v[k - 1] : v[k], up = y > 0 ? v[k - w] : v[k]
                let gx = right.isFinite && left.isFinite ? (right - left) * scale : 1
                let gy = down.isFinite && up.isFinite ? (down - up) * scale : 1
                // A step of a tenth of the range across two pixels halves the confidence.
                let g = (gx * gx + gy * gy).squareRoot() * 10 * Float(max(w, h)) / 512
                out.pixels[k] = 1 / (1 + g * g)
            }
        }
        return out
    }
}
