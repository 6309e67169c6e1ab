import CStrataVision
import Foundation
import StrataCore

/// The incremental reconstruction behind ``CameraMotion/reconstruct(_:intrinsics:options:)``.
struct Reconstructor {
    let tracks: FeatureTracks
    /// The intrinsics: given, or with the focal length refined by the final adjustment.
    var k: PinholeIntrinsics
    let given: PinholeIntrinsics
    let options: CameraMotion.Options
    /// The 360° camera whose equirect frames the tracks lie in, or nil for a pinhole camera
    /// of intrinsics `k`: its rays then replace K⁻¹ in every step.
    let sphere: SphericalCamera?

    /// Registered frames' poses.
    var poses: [Int: CameraPose] = [:]
    var keyframes: [Int] = []
    /// Keyframes in the order they were placed.
    var placed: [Int] = []
    /// The first pair, whose poses fix the world and its scale.
    var anchors: (Int, Int) = (0, 0)
    /// Each track's point: an index into `points`, −1 for one rejected for good.
    var pointOf: [Int32: Int] = [:]
    var points: [Vector3] = []
    var pointTrack: [Int32] = []
    /// The keyframes that see each track.
    var seenBy: [Int32: [Int]] = [:]
    /// First pairs already tried and given up.
    var tried: Set<[Int]> = []

    init(tracks: FeatureTracks, k: PinholeIntrinsics, options: CameraMotion.Options, sphere: SphericalCamera? = nil) {
        self.tracks = tracks
        self.k = k
        self.given = k
        self.options = options
        self.sphere = sphere
    }

    mutating func run() throws -> CameraMotion {
        chooseKeyframes()
        for f in keyframes {
            for id in tracks.frames[f].ids { seenBy[id, default: []].append(f) }
        }
        // A first pair whose essential matrix was wrong (a sideways step read for a forward
        // one fits small, noisy tracks too) gives a path that explains the tracks worse, or
        // leaves keyframes that no pose explains. So two first pairs are always tried (three
        // when the second also leaves keyframes out), and the attempt that placed most, then
        // with the smaller reprojection error, is kept.
        var best: (motion: CameraMotion, placed: Int)?
        for attempt in 0..<3 {
            k = given
            guard try initialize() else { break }
            let first = anchors
            while let next = nextKeyframe() {
                guard try place(next) else { break }
                triangulate(in: next)
                try adjust(Array(placed.suffix(options.window)))
                prune()
            }
            let rms = try adjust(placed, iterations: 100, focal: options.refineFocal)
            prune()
            let placedKeyframes = placed.count
            for f in 0..<tracks.frames.count where poses[f] == nil { _ = try place(f) }
            if best == nil || placedKeyframes > best!.placed || (placedKeyframes == best!.placed && rms < best!.motion.rmsError) {
                best = (finished(rms: rms), placedKeyframes)
            }
            if attempt >= 1, best!.placed * 5 >= keyframes.count * 4 { break }
            tried.insert([first.0, first.1])
            (poses, placed, pointOf, points, pointTrack) = ([:], [], [:], [], [])
        }
        return best?.motion ?? CameraMotion(intrinsics: k, poses: Array(repeating: nil, count: tracks.frames.count), keyframes: keyframes,
                                            points: [], pointColors: [], pointTracks: [], rmsError: 0, tracks: tracks, isStatic: true,
                                            projection: sphere == nil ? .pinhole : .equirect)
    }

    // MARK: Keyframes and the first pair

    /// Frame 0, then each frame whose tracks moved far enough from the last keyframe's.
    mutating func chooseKeyframes() {
        keyframes = [0]
        // A panorama's motion in the pixels of a 110° view at its resolution (the angle
        // a pinhole video's width spans, about).
        let far = options.keyframeMotion * Double(k.width) * (sphere == nil ? 1 : 110.0 / 360)
        for f in 1..<tracks.frames.count {
            let last = keyframes.last!
            let shared = tracks.common(last, f)
            var moved = shared.map { Double(($0.second - $0.first).norm) }
            moved.sort()
            let median = moved.isEmpty ? .infinity : moved[moved.count / 2]
            if median >= far || shared.count * 10 < tracks.frames[last].ids.count * 6 || f == tracks.frames.count - 1 {
                keyframes.append(f)
            }
        }
    }

    /// The first pair of keyframes, in order, whose tracks show parallax (not a pure turn)
    /// and give enough points; false if none does.
    mutating func initialize() throws -> Bool {
        for (i, a) in keyframes.enumerated() {
            for b in keyframes[(i + 1)...] where !tried.contains([a, b]) {
                let shared = tracks.common(a, b)
                guard shared.count >= 30 else { break }
                let p0 = shared.flatMap { [$0.first.x, $0.first.y] }, p1 = shared.flatMap { [$0.second.x, $0.second.y] }
                // The essential matrix even where a homography would do: a step straight ahead
                // shows little parallax at low resolution, and what decides is whether the
                // points triangulate from rays far enough apart (a pure turn gives none).
                var mask = [UInt8](repeating: 0, count: shared.count)
                var rotation = [Double](repeating: 0, count: 9), t = [Double](repeating: 0, count: 3)
                let agreed: Int
                if let sphere {
                    let found = try SphericalCamera.relativePose(shared.map { sphere.bearing($0.first) }, shared.map { sphere.bearing($0.second) },
                                                                 threshold: options.threshold, pixelsPerRadian: sphere.pixelsPerRadian)
                    rotation = found?.pose.rotation ?? rotation
                    t = found.map { [$0.pose.translation.x, $0.pose.translation.y, $0.pose.translation.z] } ?? t
                    mask = found?.inliers.map { $0 ? 1 : 0 } ?? mask
                    agreed = found?.inliers.filter { $0 }.count ?? 0
                } else {
                    agreed = Int(strata_vision_relative_pose(p0, p1, Int32(shared.count), k.fx, k.fy, k.cx, k.cy, options.threshold,
                                                             &rotation, &t, &mask))
                }
                guard agreed >= 0 else { throw MotionError("OpenCV failed while estimating the essential matrix of frames \(a) and \(b)") }
                guard agreed >= 30 else { continue }
                poses = [a: .identity, b: CameraPose(rotation: rotation, translation: Vector3(t[0], t[1], t[2]))]
                let inliers = shared.indices.filter { mask[$0] != 0 }
                let made = triangulate(inliers.map { shared[$0].id }, a, inliers.map { shared[$0].first }, b, inliers.map { shared[$0].second })
                guard made >= max(30, inliers.count / 2) else {
                    (poses, points, pointTrack, pointOf) = ([:], [], [], [:])
                    continue
                }
                anchors = (a, b)
                placed = [a, b]
                // The pair adjusted with the first camera fixed, then scaled back to a unit baseline.
                try adjust([a, b], fixing: [a])
                let baseline = (poses[b]!.centre).norm
                guard baseline > 0 else { continue }
                poses[b]!.translation /= baseline
                points = points.map { $0 / baseline }
                prune()
                return true
            }
        }
        return false
    }

    // MARK: Placing frames

    /// The unplaced keyframe that sees the most points (COLMAP's next best view).
    func nextKeyframe() -> Int? {
        var best: (frame: Int, seen: Int)?
        for f in keyframes where poses[f] == nil {
            let seen = tracks.frames[f].ids.reduce(0) { $0 + ((pointOf[$1] ?? -1) >= 0 ? 1 : 0) }
            if seen >= 12, seen > best?.seen ?? 0 { best = (f, seen) }
        }
        return best?.frame
    }

    /// Places frame `f` by PnP on the points it sees, starting from the nearest placed
    /// frame's pose; false when too few points agree.
    @discardableResult
    mutating func place(_ f: Int) throws -> Bool {
        let frame = tracks.frames[f]
        var xyz: [Double] = [], xy: [Float] = []
        for (i, id) in frame.ids.enumerated() {
            guard let p = pointOf[id], p >= 0 else { continue }
            xyz += [points[p].x, points[p].y, points[p].z]
            xy += [frame.points[i].x, frame.points[i].y]
        }
        let count = xy.count / 2
        guard count >= 12 else { return false }
        let nearest = poses.keys.min { abs($0 - f) < abs($1 - f) }!
        var pose = poses[nearest]!
        if let sphere {
            guard let placedPose = try placeOnRays(sphere, xyz: xyz, xy: xy, from: pose) else { return false }
            pose = placedPose
            poses[f] = pose
            if keyframes.contains(f), !placed.contains(f) { placed.append(f) }
            return true
        }
        var t = [pose.translation.x, pose.translation.y, pose.translation.z]
        let inliers = strata_vision_absolute_pose(xyz, xy, Int32(count), k.fx, k.fy, k.cx, k.cy, 2 * options.threshold, 1,
                                                  &pose.rotation, &t, nil)
        guard inliers >= 0 else { throw MotionError("OpenCV failed while placing frame \(f)") }
        guard Int(inliers) >= max(12, count / 3) else { return false }
        pose.translation = Vector3(t[0], t[1], t[2])
        poses[f] = pose
        if keyframes.contains(f), !placed.contains(f) { placed.append(f) }
        return true
    }

    /// A spherical camera's pose from the points `xyz` it sees at `xy`: no PnP solver takes
    /// rays behind a camera, so the pose is refined from `guess` (a neighbour's) by
    /// Levenberg–Marquardt under a Huber loss, then again on the points within twice the
    /// threshold of it. Nil when fewer than a third of the points (or 12) agree.
    func placeOnRays(_ sphere: SphericalCamera, xyz: [Double], xy: [Float], from guess: CameraPose) throws -> CameraPose? {
        let count = xy.count / 2
        let world = (0..<count).map { Vector3(xyz[3 * $0], xyz[3 * $0 + 1], xyz[3 * $0 + 2]) }
        let seen = (0..<count).map { SIMD2(xy[2 * $0], xy[2 * $0 + 1]) }
        var pose = guess, chosen = Array(0..<count)
        for _ in 0..<2 {
            var problem = BundleAdjustment(poses: [pose], fixed: [false], points: chosen.map { world[$0] })
            problem.observations = chosen.indices.map { (0, Int32($0), SIMD2(Double(seen[chosen[$0]].x), Double(seen[chosen[$0]].y))) }
            _ = try problem.solve(sphere, huber: options.threshold, iterations: 50, pointsFixed: true)
            pose = problem.poses[0]
            chosen = (0..<count).filter { sphere.error(pose.transform(world[$0]), seen[$0]) <= 2 * options.threshold }
            guard chosen.count >= max(12, count / 3) else { return nil }
        }
        return pose
    }

    // MARK: Points

    /// New points for the tracks keyframe `f` sees and no point has yet: each from `f` and
    /// the placed keyframe that sees it from farthest away.
    mutating func triangulate(in f: Int) {
        let frame = tracks.frames[f]
        guard let centre = poses[f]?.centre else { return }
        var byPartner: [Int: [(id: Int32, here: SIMD2<Float>, there: SIMD2<Float>)]] = [:]
        for (i, id) in frame.ids.enumerated() where pointOf[id] == nil {
            let partner = (seenBy[id] ?? []).filter { $0 != f && poses[$0] != nil }
                .max { (poses[$0]!.centre - centre).norm < (poses[$1]!.centre - centre).norm }
            guard let g = partner, let there = observation(id, in: g) else { continue }
            byPartner[g, default: []].append((id, frame.points[i], there))
        }
        for (g, list) in byPartner.sorted(by: { $0.key < $1.key }) {
            triangulate(list.map(\.id), f, list.map(\.here), g, list.map(\.there))
        }
    }

    /// Triangulates tracks seen at `pa` from frame `a` and at `pb` from `b`; keeps the points
    /// in front of both cameras, reprojecting within twice the threshold, from rays at least
    /// the minimum angle apart. Returns how many were kept.
    @discardableResult
    mutating func triangulate(_ ids: [Int32], _ a: Int, _ pa: [SIMD2<Float>], _ b: Int, _ pb: [SIMD2<Float>]) -> Int {
        guard !ids.isEmpty, let poseA = poses[a], let poseB = poses[b] else { return 0 }
        var xyz = [Double](repeating: 0, count: 3 * ids.count)
        if let sphere {
            for i in ids.indices {
                let x = Self.midpoint(poseA, poseA.transposed(sphere.bearing(pa[i])), poseB, poseB.transposed(sphere.bearing(pb[i])))
                (xyz[3 * i], xyz[3 * i + 1], xyz[3 * i + 2]) = (x.x, x.y, x.z)
            }
        } else {
            guard strata_vision_triangulate(poseA.packed, poseB.packed, pa.flatMap { [$0.x, $0.y] }, pb.flatMap { [$0.x, $0.y] },
                                            Int32(ids.count), k.fx, k.fy, k.cx, k.cy, &xyz) == Int32(ids.count) else { return 0 }
        }
        let minimumCosine = cos(options.minimumAngle * .pi / 180)
        var kept = 0
        for i in ids.indices {
            let x = Vector3(xyz[3 * i], xyz[3 * i + 1], xyz[3 * i + 2])
            guard x.x.isFinite, x.y.isFinite, x.z.isFinite,
                  reprojectionError(x, poseA, pa[i]) <= 2 * options.threshold,
                  reprojectionError(x, poseB, pb[i]) <= 2 * options.threshold else { continue }
            let (ra, rb) = ((x - poseA.centre).unit, (x - poseB.centre).unit)
            guard (ra * rb).sum() <= minimumCosine else { continue }
            pointOf[ids[i]] = points.count
            points.append(x)
            pointTrack.append(ids[i])
            kept += 1
        }
        return kept
    }

    /// The point nearest both rays (world directions `da`, `db`) from the centres of `a` and
    /// `b`, where it lies ahead along both; NaN for parallel rays or a point behind either.
    static func midpoint(_ a: CameraPose, _ da: Vector3, _ b: CameraPose, _ db: Vector3) -> Vector3 {
        let (ca, cb) = (a.centre, b.centre), w = ca - cb
        let (ab, d, e) = ((da * db).sum(), (da * w).sum(), (db * w).sum())
        let denominator = 1 - ab * ab
        guard denominator > 1e-12 else { return Vector3(repeating: .nan) }
        let (s, t) = ((ab * e - d) / denominator, (e - ab * d) / denominator)
        guard s > 0, t > 0 else { return Vector3(repeating: .nan) }
        return (ca + s * da + cb + t * db) / 2
    }

    /// Distance in pixels between where `pose` sees `x` and `observed` (for a panorama, the
    /// angle between the rays in pixels of the equator); infinite behind a pinhole camera.
    func reprojectionError(_ x: Vector3, _ pose: CameraPose, _ observed: SIMD2<Float>) -> Double {
        let c = pose.transform(x)
        if let sphere { return sphere.error(c, observed) }
        guard c.z > 1e-9 else { return .infinity }
        let dx = k.fx * c.x / c.z + k.cx - Double(observed.x), dy = k.fy * c.y / c.z + k.cy - Double(observed.y)
        return (dx * dx + dy * dy).squareRoot()
    }

    /// Where frame `f` saw track `id`.
    func observation(_ id: Int32, in f: Int) -> SIMD2<Float>? {
        let frame = tracks.frames[f]
        var (lo, hi) = (0, frame.ids.count)
        while lo < hi {
            let mid = (lo + hi) / 2
            if frame.ids[mid] < id { lo = mid + 1 } else { hi = mid }
        }
        return lo < frame.ids.count && frame.ids[lo] == id ? frame.points[lo] : nil
    }

    /// Rejects for good the points some placed keyframe sees more than twice the threshold
    /// (in pixels) from where it should, or behind it.
    mutating func prune() {
        for (p, id) in pointTrack.enumerated() where pointOf[id] == p {
            for f in seenBy[id] ?? [] {
                guard let pose = poses[f], let seen = observation(id, in: f) else { continue }
                if reprojectionError(points[p], pose, seen) > 2 * options.threshold {
                    pointOf[id] = -1
                    break
                }
            }
        }
    }

    // MARK: Bundle adjustment

    /// Adjusts the keyframes `free` and the points they see; the other placed keyframes that
    /// see those points hold still, and so do the first pair (they fix the world and its
    /// scale) unless `fixing` says otherwise. Returns the residual's root mean square.
    @discardableResult
    mutating func adjust(_ free: [Int], fixing: Set<Int>? = nil, iterations: Int = 25, focal: Bool = false) throws -> Double {
        let held = fixing ?? [anchors.0, anchors.1]
        var pointIndex: [Int: Int32] = [:], chosen: [Int] = []
        for f in free {
            for id in tracks.frames[f].ids {
                guard let p = pointOf[id], p >= 0, pointIndex[p] == nil else { continue }
                pointIndex[p] = Int32(chosen.count)
                chosen.append(p)
            }
        }
        guard !chosen.isEmpty else { return 0 }
        var cameras = free
        for p in chosen {
            for f in seenBy[pointTrack[p]] ?? [] where poses[f] != nil && !cameras.contains(f) { cameras.append(f) }
        }
        let freeSet = Set(free)
        var problem = BundleAdjustment(poses: cameras.map { poses[$0]! }, fixed: cameras.map { !freeSet.contains($0) || held.contains($0) },
                                       points: chosen.map { points[$0] })
        for (c, f) in cameras.enumerated() {
            let frame = tracks.frames[f]
            for (i, id) in frame.ids.enumerated() {
                guard let p = pointOf[id], p >= 0, let q = pointIndex[p] else { continue }
                problem.observations.append((Int32(c), q, SIMD2(Double(frame.points[i].x), Double(frame.points[i].y))))
            }
        }
        if focal, sphere == nil { problem.focalScale = 1 }
        let rms = try sphere.map { try problem.solve($0, huber: options.threshold, iterations: iterations) }
            ?? problem.solve(k, huber: options.threshold, iterations: iterations)
        if let scale = problem.focalScale {
            k = PinholeIntrinsics(fx: k.fx * scale, fy: k.fy * scale, cx: k.cx, cy: k.cy, width: k.width, height: k.height)
        }
        for (c, f) in cameras.enumerated() where !problem.fixed[c] { poses[f] = problem.poses[c] }
        for (q, p) in chosen.enumerated() { points[p] = problem.points[q] }
        return rms
    }

    // MARK: The result

    /// The result, with the world moved to frame 0's camera when frame 0 was placed.
    func finished(rms: Double) -> CameraMotion {
        var framePoses = (0..<tracks.frames.count).map { poses[$0] }
        var world = points.indices.filter { pointOf[pointTrack[$0]] == $0 }.map { points[$0] }
        let kept = points.indices.filter { pointOf[pointTrack[$0]] == $0 }
        if let origin = framePoses[0] {
            framePoses = framePoses.map { $0?.relative(to: origin) }
            world = world.map { origin.transform($0) }
        }
        return CameraMotion(intrinsics: k, poses: framePoses, keyframes: keyframes, points: world,
                            pointColors: kept.map { tracks.colors[Int(pointTrack[$0])] }, pointTracks: kept.map { pointTrack[$0] },
                            rmsError: rms, tracks: tracks, isStatic: false, projection: sphere == nil ? .pinhole : .equirect)
    }
}

