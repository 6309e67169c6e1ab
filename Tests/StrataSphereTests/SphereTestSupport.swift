import Foundation
import StrataCore
import StrataSphere
import XCTest

/// The committed fixture of that name.
func fixture(_ name: String) -> URL {
    Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures")!
}

/// A smooth function on the sphere, three channels, different in each (the same one
/// Tools/make_sphere_fixtures.py hands py360convert).
func smoothValue(_ d: Vector3, channel: Int) -> Float {
    let u = d / (d * d).sum().squareRoot()
    switch channel {
    case 0: return Float(0.5 + 0.3 * u.x + 0.1 * u.y * u.z)
    case 1: return Float(0.5 + 0.3 * u.y - 0.1 * u.x * u.z)
    default: return Float(0.5 + 0.3 * u.z + 0.15 * u.x * u.y)
    }
}

/// The smooth function sampled at an equirect's pixel centres.
func smoothPanorama(width: Int, height: Int) -> Image {
    Image(width: width, height: height, channels: 3) { c, y, x in
        smoothValue(Equirect.direction(x: Double(x), y: Double(y), width: width, height: height), channel: c)
    }
}

/// The largest absolute difference over the samples both images hold.
func maxDifference(_ a: Image, _ b: Image) -> Float {
    precondition(a.pixels.count == b.pixels.count, "\(a.width)x\(a.height)x\(a.channels) vs \(b.width)x\(b.height)x\(b.channels)")
    return zip(a.pixels, b.pixels).reduce(0) { max($0, abs($1.0 - $1.1)) }
}

func meanDifference(_ a: Image, _ b: Image) -> Double {
    zip(a.pixels, b.pixels).reduce(0.0) { $0 + Double(abs($1.0 - $1.1)) } / Double(a.pixels.count)
}

/// Peak signal-to-noise ratio in dB of images with values in 0…1, over the rows `rows`.
func psnr(_ a: Image, _ b: Image, rows: Range<Int>? = nil) -> Double {
    let rows = rows ?? 0..<a.height
    var sum = 0.0, n = 0
    for c in 0..<a.channels {
        for y in rows {
            for x in 0..<a.width {
                let d = Double(a[c, y, x] - b[c, y, x])
                sum += d * d
                n += 1
            }
        }
    }
    return sum == 0 ? .infinity : 10 * log10(Double(n) / sum)
}

/// The angle in radians between two directions.
func angle(_ a: Vector3, _ b: Vector3) -> Double {
    let c = (a * b).sum() / ((a * a).sum() * (b * b).sum()).squareRoot()
    // atan2 of the cross product's length keeps precision for tiny angles.
    let cross = Vector3(a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x)
    return atan2((cross * cross).sum().squareRoot() / ((a * a).sum() * (b * b).sum()).squareRoot(), c)
}
