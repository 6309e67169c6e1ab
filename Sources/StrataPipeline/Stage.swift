import Foundation
import StrataCore

/// Where a frame sits in a run.
public struct FrameInfo: Sendable, Equatable, Hashable {
    /// Index of the frame in its input, from 0: what `--frames` selects.
    public var index: Int
    /// Position in the run's selection, from 0, before sharding or resuming skip any.
    public var position: Int
    /// The number its output files carry: the start number (1, as ffmpeg's image2) plus `position`.
    public var number: Int

    public init(index: Int, position: Int, number: Int) {
        (self.index, self.position, self.number) = (index, position, number)
    }
}

/// The values on a node's ports for one frame, by port name.
///
/// Stages have a handful of ports, so the values sit in a small array searched by name:
/// cheaper per frame than hashing into a dictionary.
public struct PortValues: Sendable {
    private var entries: [(port: String, value: any Sendable)] = []

    public init() {}

    /// Values by port: `PortValues(["image": image, "depth": depth])`.
    public init(_ values: KeyValuePairs<String, any Sendable>) {
        entries.reserveCapacity(values.count)
        for (port, value) in values { entries.append((port, value)) }
    }

    public subscript(port: String) -> (any Sendable)? {
        get { entries.first { $0.port == port }?.value }
        set {
            if let i = entries.firstIndex(where: { $0.port == port }) {
                if let newValue { entries[i].value = newValue } else { entries.remove(at: i) }
            } else if let newValue {
                entries.append((port, newValue))
            }
        }
    }

    /// The ports that carry a value.
    public var ports: [String] { entries.map(\.port) }

    /// Moves the value on `port` out as a `T`. When this node is the value's last reader the
    /// caller then holds the only reference, so an image can be changed in place (no copy).
    public mutating func take<T>(_ port: String, as type: T.Type = T.self) throws -> T {
        guard let i = entries.firstIndex(where: { $0.port == port }) else {
            throw StageError("no value arrived on port \"\(port)\"", exitCode: 70)
        }
        // Out of the array first, so that once the cast's copy is made nothing else holds it.
        let value = entries.remove(at: i).value
        guard let typed = value as? T else {
            throw StageError("port \"\(port)\" carries \(Swift.type(of: value)), not \(T.self)", exitCode: 70)
        }
        return typed
    }

    /// The value on `port` as a `T`; the validator has checked the wiring, so a missing or
    /// mistyped value is a bug in a stage, reported as such.
    public func get<T>(_ port: String, as type: T.Type = T.self) throws -> T {
        guard let value = self[port] else { throw StageError("no value arrived on port \"\(port)\"", exitCode: 70) }
        guard let typed = value as? T else {
            throw StageError("port \"\(port)\" carries \(Swift.type(of: value)), not \(T.self)", exitCode: 70)
        }
        return typed
    }
}

/// A stage that produces frames from the pipeline's inputs (a video, a sequence, a still).
///
/// Unless it is random-access, the runner calls it from one thread at a time with strictly
/// increasing indices, so a decoder can read forward.
public protocol FrameSource: AnyObject {
    /// How many frames the input holds (indices `0..<frameCount`). A source of one frame (a
    /// still) accompanies every frame of the other sources.
    var frameCount: Int { get }
    /// Whether `read` may be called for any index from several threads at once.
    var isRandomAccess: Bool { get }
    /// Whether the source yields frame `index` (a source may take every n-th frame).
    func selects(_ index: Int) -> Bool
    /// The values on the output ports for frame `index`.
    func read(_ index: Int) throws -> PortValues
    /// Bits per sample of what it decodes (16 for a 16-bit PNG, 10 for a 10-bit video, 32 for
    /// floats), so writers downstream keep the precision; nil when not an image input.
    var bitDepth: Int? { get }
    /// One line on what it read (`clip.ts: video, 88 frames, h264 1920x1080`), for the log.
    var summary: String? { get }
    /// Called once after the last frame of a run that writes final files (a whole run, a
    /// shard of a pipeline without a finalize step, `--finalize`), even when every frame
    /// was already done: where a source writes what it learnt of the whole input (a camera
    /// path). Not called for a shard whose frames a finalize step takes over, nor after a
    /// failure or an interruption.
    func finish() throws
}

extension FrameSource {
    public var isRandomAccess: Bool { false }
    public func selects(_ index: Int) -> Bool { true }
    public var bitDepth: Int? { nil }
    public var summary: String? { nil }
    public func finish() throws {}
}

/// A per-frame or stateful stage: inputs in, outputs out. Per-frame processors are called
/// on several frames at once; stateful ones one frame at a time, in frame order.
public protocol FrameProcessor: AnyObject, Sendable {
    /// The outputs for one frame. `inputs` is the stage's own: `take` a value to modify it in place.
    func process(_ inputs: consuming PortValues, frame: FrameInfo) throws -> PortValues
}

/// A stage that writes outputs. Sinks are called on several frames at once; each frame's
/// files are written atomically.
public protocol FrameSink: AnyObject, Sendable {
    /// The files frame `frame` produces, so that `--resume` can skip finished frames; nil
    /// when the sink cannot tell (one file for the whole run), which makes resuming refuse.
    func outputs(for frame: FrameInfo) -> [URL]?
    /// Creates folders and the like; called once before the first frame (not in a dry run).
    func prepare() throws
    /// Writes frame `frame`.
    func write(_ inputs: consuming PortValues, frame: FrameInfo) throws
    /// Called once after the last frame of a run that was neither interrupted nor failed.
    func finish() throws
}

extension FrameSink {
    public func prepare() throws {}
    public func finish() throws {}
}

/// What a node of a pipeline becomes when the run is built.
public enum StageInstance {
    case source(any FrameSource)
    case processor(any FrameProcessor)
    case sink(any FrameSink)
}

/// Builds a node's stage from its params and bound inputs.
public typealias StageFactory = @Sendable (StageContext) throws -> StageInstance

/// An error a stage raises, with the sysexits code the command line exits with
/// (65 bad data by default, 70 for a bug in a stage).
public typealias StageError = CodedError
