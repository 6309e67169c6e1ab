import CStrataVision
import StrataCore

/// How far an estimated camera path is from the true one, after the similarity (scale,
/// rotation, translation) that best maps the estimated centres onto the true ones: the
/// absolute trajectory error of the TUM RGB-D benchmark, and the rotations' error.
public struct TrajectoryError: Sendable {
    /// Root mean square distance between aligned and true centres (the truth's units).
    public var absolute: Double
    /// The largest such distance.
    public var maximum: Double
    /// The relative pose error's rotation: the mean angle, in degrees, between the
    /// estimated and the true turn from each compared frame to the next (free of the
    /// alignment, which a nearly straight path leaves loose about its own axis).
    public var rotationDegrees: Double
    /// The same over the whole path: the angle between the estimated and the true turn from
    /// the first compared frame to the last (the drift).
    public var rotationDriftDegrees: Double
    /// The scale that maps the estimate's unit onto the truth's.
    public var scale: Double
    /// Frames compared.
    public var frames: Int

    /// Compares `estimated` poses with `truth` (both world to camera, same frames; nil
    /// where either is unknown is skipped).
    /// - Throws: ``MotionError`` with fewer than three frames to compare, or centres that do
    ///   not fix a similarity (all on one point).
    public init(_ estimated: [CameraPose?], truth: [CameraPose?]) throws {
        let pairs = zip(estimated, truth).compactMap { a, b in a.flatMap { a in b.map { (a, $0) } } }
        guard pairs.count >= 3 else { throw MotionError("\(pairs.count) frames with both poses: three at least to align") }
        let from = pairs.flatMap { [$0.0.centre.x, $0.0.centre.y, $0.0.centre.z] }
        let to = pairs.flatMap { [$0.1.centre.x, $0.1.centre.y, $0.1.centre.z] }
        var s = 0.0, r = [Double](repeating: 0, count: 9), t = [Double](repeating: 0, count: 3)
        guard strata_vision_similarity(from, to, Int32(pairs.count), &s, &r, &t) == 1 else {
            throw MotionError("the estimated camera centres do not fix a similarity (they coincide)")
        }
        let align = CameraPose(rotation: r, translation: Vector3(t[0], t[1], t[2]))
        var squares = 0.0, worst = 0.0
        for (estimate, truth) in pairs {
            let d = (align.rotated(estimate.centre) * s + align.translation - truth.centre).norm
            squares += d * d
            worst = max(worst, d)
        }
        /// The angle between the estimated and the true turn from pair i to pair j.
        func turnError(_ i: Int, _ j: Int) -> Double {
            let estimated = pairs[j].0.relative(to: pairs[i].0), truth = pairs[j].1.relative(to: pairs[i].1)
            return CameraPose(rotation: estimated.rotation, translation: .zero)
                .relative(to: CameraPose(rotation: truth.rotation, translation: .zero)).angleDegrees
        }
        let angles = (1..<pairs.count).reduce(0) { $0 + turnError($1 - 1, $1) }
        absolute = (squares / Double(pairs.count)).squareRoot()
        maximum = worst
        rotationDegrees = angles / Double(pairs.count - 1)
        rotationDriftDegrees = turnError(0, pairs.count - 1)
        scale = s
        frames = pairs.count
    }
}
