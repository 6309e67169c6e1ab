import Foundation
import StrataCore

/// The equirectangular projection with py360convert's conventions: longitude 0 at the image
/// centre increasing rightwards, latitude +90° on the top row, the centre of pixel column i
/// at longitude ((i + 0.5) / W − 0.5) · 360°.
///
/// Positions are in sample coordinates (the centre of pixel i at i, as in
/// `Image.sample` and OpenCV's `remap`).
public enum Equirect {
    /// The unit direction through the sample position (x, y) of a `width × height` panorama.
    @inlinable
    public static func direction(x: Double, y: Double, width: Int, height: Int) -> Vector3 {
        let longitude = ((x + 0.5) / Double(width) - 0.5) * 2 * .pi
        let latitude = (0.5 - (y + 0.5) / Double(height)) * .pi
        return direction(longitude: longitude, latitude: latitude)
    }

    /// The unit direction at a longitude and latitude in radians.
    @inlinable
    public static func direction(longitude: Double, latitude: Double) -> Vector3 {
        Vector3(cos(latitude) * sin(longitude), sin(latitude), cos(latitude) * cos(longitude))
    }

    /// Longitude (−π…π, 0 straight ahead, positive to the right) and latitude (−π/2…π/2).
    @inlinable
    public static func angles(of d: Vector3) -> (longitude: Double, latitude: Double) {
        (atan2(d.x, d.z), atan2(d.y, (d.x * d.x + d.z * d.z).squareRoot()))
    }

    /// The sample position of a direction (it need not be unit length) on a `width × height` panorama.
    @inlinable
    public static func position(of d: Vector3, width: Int, height: Int) -> (x: Double, y: Double) {
        let (longitude, latitude) = angles(of: d)
        return ((longitude / (2 * .pi) + 0.5) * Double(width) - 0.5, (0.5 - latitude / .pi) * Double(height) - 0.5)
    }
}
