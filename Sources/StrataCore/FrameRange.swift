/// A selection of frame indices: `first-lastxstep`, as in `--frames 10-200x2`.
///
/// Indices count from 0 (the first frame of the input, as ffmpeg's `select` filter counts)
/// and `last` is included. Accepted forms: `10-200x2`, `10-200`, `10-` (to the end),
/// `-50` (from the start), `7` (one frame), `x3` (every third frame), `10-x2`.
public struct FrameRange: Sendable, Equatable, CustomStringConvertible {
    /// The first index.
    public var first: Int
    /// The last index, included; nil means to the end.
    public var last: Int?
    /// Take every `step`-th frame from `first`.
    public var step: Int

    /// Every frame.
    public static let all = FrameRange(first: 0, last: nil, step: 1)

    public init(first: Int = 0, last: Int? = nil, step: Int = 1) {
        precondition(first >= 0 && step >= 1 && (last ?? first) >= first, "invalid frame range")
        self.first = first
        self.last = last
        self.step = step
    }

    /// Parses the textual form; the error says what is wrong with it.
    public init(parsing text: String) throws {
        func fail(_ why: String) -> FrameRangeError { FrameRangeError(text: text, reason: why) }
        var body = Substring(text.trimmingCharacters(in: .whitespaces))
        var step = 1
        if let x = body.firstIndex(where: { $0 == "x" || $0 == "X" }) {
            guard let s = Int(body[body.index(after: x)...]), s >= 1 else { throw fail("the step after 'x' must be a whole number ≥ 1") }
            step = s
            body = body[..<x]
        }
        var first = 0
        var last: Int?
        if body.isEmpty {
            // "x3": every third frame.
        } else if let dash = body.firstIndex(of: "-") {
            let a = body[..<dash], b = body[body.index(after: dash)...]
            if a.isEmpty && b.isEmpty { throw fail("a range needs a first or a last frame around '-'") }
            if !a.isEmpty {
                guard let v = Int(a), v >= 0 else { throw fail("'\(a)' is not a frame index (whole number ≥ 0)") }
                first = v
            }
            if !b.isEmpty {
                guard let v = Int(b), v >= 0 else { throw fail("'\(b)' is not a frame index (whole number ≥ 0)") }
                last = v
            }
        } else {
            guard let v = Int(body), v >= 0 else { throw fail("'\(body)' is not a frame index (whole number ≥ 0)") }
            first = v
            last = v
        }
        if let last, last < first { throw fail("the last frame \(last) comes before the first \(first)") }
        self.init(first: first, last: last, step: step)
    }

    /// Whether index `i` is selected.
    public func contains(_ i: Int) -> Bool {
        i >= first && (last.map { i <= $0 } ?? true) && (i - first) % step == 0
    }

    /// Whether no index after `i` can be selected.
    public func isPast(_ i: Int) -> Bool { last.map { i > $0 } ?? false }

    /// The selected indices below `count`.
    public func indices(count: Int) -> StrideTo<Int> {
        stride(from: first, to: min(count, (last ?? Int.max - 1) + 1), by: step)
    }

    public var description: String {
        "\(first)-\(last.map(String.init) ?? "")" + (step == 1 ? "" : "x\(step)")
    }
}

/// A frame range that could not be parsed.
public struct FrameRangeError: Error, Sendable, Equatable, CustomStringConvertible, ExitCodeProviding {
    public var text: String
    public var reason: String
    /// 64: a frame range comes from a command line.
    public var exitCode: Int32 { 64 }
    public var description: String { "invalid frame range \"\(text)\": \(reason) (expected e.g. 10-200x2)" }
}
