import Foundation
import StrataCore

/// Metric scale: motion alone knows lengths up to one factor, which a known length fixes.
extension CameraMotion {
    /// The motion with every length times `factor` (poses' translations, points): in metres
    /// when `factor` is metres per unit of the motion.
    public func scaled(by factor: Double) -> CameraMotion {
        var scaled = self
        scaled.poses = poses.map { $0.map { CameraPose(rotation: $0.rotation, translation: $0.translation * factor) } }
        scaled.points = points.map { $0 * factor }
        return scaled
    }
}

extension CameraMotion {
    /// Metres per unit of this motion when the camera's first and last placed positions lie
    /// `metres` apart; nil when fewer than two frames are placed or they coincide.
    public func metresPerUnit(firstToLast metres: Double) -> Double? {
        let centres = poses.compactMap { $0?.centre }
        guard centres.count >= 2, metres > 0 else { return nil }
        let apart = (centres.last! - centres.first!).norm
        return apart > 0 ? metres / apart : nil
    }
}
