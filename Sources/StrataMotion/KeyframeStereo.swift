import Foundation
import StrataCore

/// Depth from motion for every frame of a video while sweeping only its keyframes. Each
/// keyframe's sweep (``PlaneSweep``) is checked against the keyframes beside it: a trusted
/// pixel whose surface, seen from a neighbouring keyframe, lies in front of what that
/// keyframe trusts there (a free-space violation), with no neighbour agreeing, loses its
/// trust, as COLMAP's geometric consistency filter does for its fused depth maps. A frame
/// between two keyframes gets their checked, trusted depth reprojected into it, the nearer
/// surface winning where both land (a z-buffer); what neither reaches is left untrusted,
/// for the monocular fill.
///
/// Sweeps are kept while frames are asked for in order, so each keyframe is swept once in
/// a run; a shard that starts mid-video sweeps the keyframes it needs itself, to the same
/// bits.
public final class KeyframeStereo: @unchecked Sendable {
    /// The sweep, and how strictly depths must agree.
    public struct Options: Sendable, Equatable {
        public var sweep = PlaneSweep.Options()
        /// Two depths of one surface agree when they differ by at most this share.
        public var tolerance = 0.05
        /// Pixels trusted at this confidence or more are checked, reprojected and counted.
        public var reliable: Float = 0.5

        public init() {}
    }

    public let motion: CameraMotion
    public let options: Options
    /// The keyframes with a pose, in order: the frames that are swept.
    public let keyframes: [Int]
    private let image: @Sendable (Int) -> Image?
    private let swept = Mutex<[Int: Result<StereoDepth, MotionError>]>([:])

    /// Depth for the frames of `motion`, whose images (colour or grey) `image` gives by
    /// frame index.
    public init(motion: CameraMotion, options: Options = Options(), image: @escaping @Sendable (Int) -> Image?) {
        self.motion = motion
        self.options = options
        self.image = image
        keyframes = motion.keyframes.filter { $0 < motion.poses.count && motion.poses[$0] != nil }.sorted()
    }

    /// Frame `f`'s depth: a keyframe's sweep after the consistency check, or the
    /// reprojection of the keyframes around it. `neighbours` lists the keyframes it came from.
    /// - Throws: ``MotionError`` when the frame has no pose, or no keyframe near it could be swept.
    public func depth(frame f: Int) throws -> StereoDepth {
        guard f >= 0, f < motion.poses.count, motion.poses[f] != nil else {
            throw MotionError("frame \(f) has no pose: no depth from motion there")
        }
        guard !keyframes.isEmpty else { throw MotionError("the motion has no keyframe to sweep") }
        // The keyframe at or before f, and the one after.
        let after = keyframes.firstIndex { $0 > f } ?? keyframes.count
        let before = after - 1
        if before >= 0, keyframes[before] == f { return try checked(before) }
        var sources: [StereoDepth] = []
        for position in [before, after] where keyframes.indices.contains(position) {
            if let depth = try? checked(position) { sources.append(depth) }
        }
        guard !sources.isEmpty else { throw MotionError("no keyframe around frame \(f) could be swept: no depth from motion there") }
        return reprojected(sources, into: f)
    }

    /// The sweep of keyframe `keyframes[position]`, made once.
    private func sweep(_ position: Int) throws -> StereoDepth {
        let f = keyframes[position]
        if let stored = swept.withLock({ $0[f] }) { return try stored.get() }
        let result: Result<StereoDepth, MotionError>
        do {
            // The frames within 30 of it: the sweep picks its neighbours among them.
            result = .success(try PlaneSweep.depth(frame: f, image: { abs($0 - f) <= 30 ? self.image($0) : nil }, motion: motion, options: options.sweep))
        } catch let error as MotionError {
            result = .failure(error)
        }
        swept.withLock { stored in
            // Frames come in order: keyframes three or more behind this one are done with.
            for key in stored.keys where (keyframes.firstIndex(of: key) ?? position) < position - 3 { stored[key] = nil }
            stored[f] = result
        }
        return try result.get()
    }

    /// Keyframe `keyframes[position]`'s sweep, its trusted pixels checked against the
    /// keyframes on either side.
    private func checked(_ position: Int) throws -> StereoDepth {
        let depth = try sweep(position)
        let others = [position - 1, position + 1].filter { keyframes.indices.contains($0) }.compactMap { try? sweep($0) }
        return consistent(depth, with: others)
    }

    /// `depth` with a quarter of the confidence left to each trusted pixel that some of
    /// `others` (frames of the same motion at the same size) contradict and none confirms.
    /// A pixel's surface, moved into another frame, is confirmed where that frame trusts a
    /// depth within the tolerance of it, and contradicted where that frame trusts a
    /// farther one: it sees through where this pixel puts a surface. A nearer one is an
    /// occluder in the other's view, and says nothing.
    func consistent(_ depth: StereoDepth, with others: [StereoDepth]) -> StereoDepth {
        var depth = depth
        guard !others.isEmpty else { return depth }
        let pose = motion.poses[depth.frame]!
        let k = depth.intrinsics
        let tolerance = options.tolerance
        let relatives = others.map { motion.poses[$0.frame]!.relative(to: pose) }
        for i in depth.depth.indices where depth.confidence[i] >= options.reliable {
            let z = Double(depth.depth[i])
            let x = Double(i % depth.width) + 0.5, y = Double(i / depth.width) + 0.5
            let point = Vector3((x - k.cx) / k.fx * z, (y - k.cy) / k.fy * z, z)
            var confirmed = false, contradicted = false
            for (other, relative) in zip(others, relatives) {
                let seen = relative.transform(point)
                guard seen.z > 0 else { continue }
                let u = Int((k.fx * seen.x / seen.z + k.cx).rounded(.down)), v = Int((k.fy * seen.y / seen.z + k.cy).rounded(.down))
                guard u >= 0, v >= 0, u < other.width, v < other.height else { continue }
                let j = v * other.width + u
                guard other.confidence[j] >= options.reliable else { continue }
                let measured = Double(other.depth[j])
                if abs(measured - seen.z) <= tolerance * seen.z {
                    confirmed = true
                } else if measured > seen.z {
                    contradicted = true
                }
            }
            if contradicted, !confirmed { depth.confidence[i] *= 0.25 }
        }
        return depth
    }

    /// The trusted depth of `sources` (keyframes at the same size) seen from frame `f`:
    /// each trusted pixel splatted to the four pixels around where it lands, nearest first.
    func reprojected(_ sources: [StereoDepth], into f: Int) -> StereoDepth {
        let target = motion.poses[f]!
        let (w, h, k) = (sources[0].width, sources[0].height, sources[0].intrinsics)
        var depth = [Float](repeating: .infinity, count: w * h), confidence = [Float](repeating: 0, count: w * h)
        for source in sources {
            let relative = target.relative(to: motion.poses[source.frame]!)
            for i in source.depth.indices where source.confidence[i] >= options.reliable {
                let z = Double(source.depth[i])
                let x = Double(i % w) + 0.5, y = Double(i / w) + 0.5
                let seen = relative.transform(Vector3((x - k.cx) / k.fx * z, (y - k.cy) / k.fy * z, z))
                guard seen.z > 0 else { continue }
                // Pixel-index coordinates of where it lands, and the four pixels around.
                let u = k.fx * seen.x / seen.z + k.cx - 0.5, v = k.fy * seen.y / seen.z + k.cy - 0.5
                let (u0, v0) = (Int(u.rounded(.down)), Int(v.rounded(.down)))
                for (du, dv) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                    let (pu, pv) = (u0 + du, v0 + dv)
                    guard pu >= 0, pv >= 0, pu < w, pv < h else { continue }
                    let j = pv * w + pu
                    if Float(seen.z) < depth[j] {
                        depth[j] = Float(seen.z)
                        confidence[j] = source.confidence[i]
                    }
                }
            }
        }
        for i in depth.indices where !depth[i].isFinite { depth[i] = .nan }
        return StereoDepth(width: w, height: h, intrinsics: k, depth: depth, confidence: confidence, neighbours: sources.map(\.frame), frame: f)
    }
}
