import Dispatch
import StrataCore

/// What an estimator returns for one frame: depth with its meaning filled in, and how far
/// each pixel can be trusted (0…1), which temporal alignment uses to pick its pixels.
public struct DepthEstimate: Sendable {
    /// The depth map, the size of the input frame.
    public var depth: DepthMap
    /// Confidence per pixel, one channel, the size of the frame.
    public var confidence: Image

    public init(depth: DepthMap, confidence: Image) {
        precondition(confidence.channels == 1 && confidence.width == depth.width && confidence.height == depth.height,
                     "confidence \(confidence.width)x\(confidence.height)x\(confidence.channels) for depth \(depth.width)x\(depth.height)")
        self.depth = depth
        self.confidence = confidence
    }
}

/// Where one estimate's time went, in seconds.
public struct DepthTiming: Sendable, Equatable {
    /// Resizing and normalising the frame for the network (or the prior's working image).
    public var preprocessing = 0.0
    /// The network run (or the prior's layout reasoning).
    public var inference = 0.0
    /// Back to the frame's size, refinement and confidence.
    public var postprocessing = 0.0

    public init() {}

    /// Runs `body`, adding its time to the field at `key`.
    mutating func time<T>(_ key: WritableKeyPath<DepthTiming, Double>, _ body: () throws -> T) rethrows -> T {
        let start = DispatchTime.now().uptimeNanoseconds
        defer { self[keyPath: key] += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
        return try body()
    }
}

/// Image in, depth out: the networks on StrataNN and the built-in prior share this contract.
public protocol DepthEstimator: Sendable {
    /// A short name for messages and sidecars ("depth-anything-v2-small", "builtin").
    var name: String { get }
    /// The depth of one RGB frame (colour 0…1) seen through `projection`, and where the
    /// time went.
    func estimateTimed(_ image: Image, projection: Projection) throws -> (estimate: DepthEstimate, timing: DepthTiming)
}

extension DepthEstimator {
    /// The depth of one RGB frame (colour 0…1) seen through `projection`.
    public func estimate(_ image: Image, projection: Projection) throws -> DepthEstimate {
        try estimateTimed(image, projection: projection).estimate
    }

    /// Frames one after another (each estimate already uses every core).
    public func estimate(_ images: [Image], projection: Projection) throws -> [DepthEstimate] {
        try images.map { try estimate($0, projection: projection) }
    }
}

/// Why an estimator cannot be built or run, with the sysexits code the CLI exits with.
public typealias DepthError = CodedError
