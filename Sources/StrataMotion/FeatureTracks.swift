import CStrataVision
import StrataCore

/// Corners followed through a video's frames: each track has an id, and each frame lists the
/// tracks seen in it and where (pixel coordinates with pixel centres at half-integers, as
/// everywhere in Strata and in COLMAP).
public struct FeatureTracks: Sendable {
    /// One frame's observations.
    public struct Frame: Sendable {
        /// The ids of the tracks seen, in increasing order.
        public var ids: [Int32]
        /// Where each was seen.
        public var points: [SIMD2<Float>]
    }

    /// The frames' size.
    public let width: Int, height: Int
    /// The frames, in order.
    public internal(set) var frames: [Frame] = []
    /// Each track's colour (8-bit RGB) where it was first seen, by id.
    public internal(set) var colors: [SIMD3<UInt8>] = []

    /// How many tracks were started.
    public var trackCount: Int { colors.count }

    /// The points that frames `a` and `b` share, as (id, point in a, point in b), by id.
    public func common(_ a: Int, _ b: Int) -> [(id: Int32, first: SIMD2<Float>, second: SIMD2<Float>)] {
        let (fa, fb) = (frames[a], frames[b])
        var result: [(id: Int32, first: SIMD2<Float>, second: SIMD2<Float>)] = []
        var (i, j) = (0, 0)
        while i < fa.ids.count, j < fb.ids.count {
            if fa.ids[i] == fb.ids[j] {
                result.append((fa.ids[i], fa.points[i], fb.points[j]))
                i += 1
                j += 1
            } else if fa.ids[i] < fb.ids[j] {
                i += 1
            } else {
                j += 1
            }
        }
        return result
    }
}

/// Follows corners from frame to frame (pyramidal Lucas–Kanade with a forward–backward
/// check, through `CStrataVision`), and starts new tracks on fresh Shi–Tomasi corners
/// wherever the tracked ones thin out, as KLT trackers and visual odometry front ends do.
public final class FeatureTracker {
    /// Corners followed at once, at most.
    public let features: Int
    /// The least distance between two corners, in pixels.
    public let minimumDistance: Double
    /// What has been tracked so far.
    public private(set) var tracks: FeatureTracks

    private var previous: [UInt8] = []
    /// The tracks alive in the last frame: ids, and points in OpenCV's pixel convention
    /// (centres at integers), x, y interleaved.
    private var ids: [Int32] = []
    private var points: [Float] = []

    /// A tracker for frames of `width` × `height`.
    /// - Parameters:
    ///   - features: corners followed at once; new ones start when fewer than 80% survive.
    ///   - minimumDistance: pixels between corners (default: a hundredth of the width, at least 4).
    public init(width: Int, height: Int, features: Int = 1000, minimumDistance: Double? = nil) {
        self.features = max(8, features)
        self.minimumDistance = minimumDistance ?? Double(max(4, width / 100))
        tracks = FeatureTracks(width: width, height: height)
    }

    /// Tracks the corners into the next frame (colour or grey, of the tracker's size).
    /// - Throws: ``MotionError`` when the frame's size differs or OpenCV fails.
    public func add(_ frame: Image) throws {
        let (w, h) = (tracks.width, tracks.height)
        guard frame.width == w, frame.height == h else {
            throw MotionError("frame \(tracks.frames.count) is \(frame.width)x\(frame.height), the video \(w)x\(h)")
        }
        let gray = RelativePose.gray8(frame)
        if !previous.isEmpty, !ids.isEmpty {
            var moved = [Float](repeating: 0, count: points.count)
            var kept = [UInt8](repeating: 0, count: ids.count)
            let survived = strata_vision_flow(previous, gray, Int32(w), Int32(h), points, Int32(ids.count), &moved, &kept)
            guard survived >= 0 else { throw MotionError("OpenCV failed while tracking frame \(tracks.frames.count)") }
            var (keptIDs, keptPoints) = ([Int32](), [Float]())
            keptIDs.reserveCapacity(Int(survived))
            keptPoints.reserveCapacity(2 * Int(survived))
            for i in 0..<ids.count where kept[i] != 0 {
                keptIDs.append(ids[i])
                keptPoints += [moved[2 * i], moved[2 * i + 1]]
            }
            (ids, points) = (keptIDs, keptPoints)
        } else {
            (ids, points) = ([], [])
        }
        if ids.count < features * 4 / 5 {
            var fresh = [Float](repeating: 0, count: 2 * (features - ids.count))
            let found = strata_vision_corners(gray, Int32(w), Int32(h), Int32(features - ids.count), 0.01, minimumDistance,
                                              points, Int32(ids.count), &fresh)
            guard found >= 0 else { throw MotionError("OpenCV failed while finding corners in frame \(tracks.frames.count)") }
            let rgb = frame.channels >= 3 ? frame : frame.rgb()
            for i in 0..<Int(found) {
                ids.append(Int32(tracks.colors.count))
                points += [fresh[2 * i], fresh[2 * i + 1]]
                let (x, y) = (min(w - 1, max(0, Int(fresh[2 * i].rounded()))), min(h - 1, max(0, Int(fresh[2 * i + 1].rounded()))))
                let sample = { (c: Int) in UInt8((min(max(rgb[c, y, x], 0), 1) * 255).rounded()) }
                tracks.colors.append(SIMD3(sample(0), sample(1), sample(2)))
            }
        }
        tracks.frames.append(FeatureTracks.Frame(ids: ids, points: (0..<ids.count).map { SIMD2(points[2 * $0] + 0.5, points[2 * $0 + 1] + 0.5) }))
        previous = gray
    }
}
