import Foundation
import StrataCore

/// Where tangent patches sit on the sphere: the centres of low-distortion gnomonic views
/// that together cover it (360MonoDepth, OmniFusion).
public enum TangentLayout: Sendable, Equatable {
    /// The faces of an icosahedron subdivided `level` times: 20 · 4^level patches, one per
    /// triangle, centred on its centroid (360MonoDepth).
    case icosahedron(level: Int)
    /// OmniFusion's 18 patches: rows of 3, 6, 6, 3 at latitudes 67.5°, 22.5°, −22.5°,
    /// −67.5°, each row's patches evenly spaced from half a step after −180°.
    case omniFusion
    /// Patch centres given as (longitude, latitude) in degrees.
    case centres([(longitude: Double, latitude: Double)])

    public static func == (l: TangentLayout, r: TangentLayout) -> Bool {
        switch (l, r) {
        case (.icosahedron(let a), .icosahedron(let b)): return a == b
        case (.omniFusion, .omniFusion): return true
        case (.centres(let a), .centres(let b)): return a.count == b.count && zip(a, b).allSatisfy { $0 == $1 }
        default: return false
        }
    }

    /// The patch centres as (longitude, latitude) in degrees.
    public var centres: [(longitude: Double, latitude: Double)] {
        switch self {
        case .icosahedron(let level):
            return Icosahedron.triangles(level: level).map { t in
                let (lon, lat) = Equirect.angles(of: t.0 + t.1 + t.2)
                return (lon * 180 / .pi, lat * 180 / .pi)
            }
        case .omniFusion:
            let rows: [(count: Int, latitude: Double)] = [(3, 67.5), (6, 22.5), (6, -22.5), (3, -67.5)]
            var list: [(longitude: Double, latitude: Double)] = []
            for row in rows {
                let step = 360 / Double(row.count)
                for j in 0..<row.count { list.append((-180 + (Double(j) + 0.5) * step, row.latitude)) }
            }
            return list
        case .centres(let list):
            return list
        }
    }

    /// The smallest square field of view (degrees) at which every patch of the layout
    /// contains its whole region of the sphere: the triangle of an icosahedral layout, the
    /// row-and-column cell of OmniFusion's, the Voronoi cell of given centres (estimated).
    public var coveringFOV: Double {
        switch self {
        case .icosahedron(let level):
            // The largest tangent-plane extent of any triangle's corners from its centroid.
            var extent = 0.0
            for t in Icosahedron.triangles(level: level) {
                let centre = t.0 + t.1 + t.2
                let (lon, lat) = Equirect.angles(of: centre)
                let rotation = Rotation(yaw: lon * 180 / .pi, pitch: lat * 180 / .pi)
                for v in [t.0, t.1, t.2] {
                    let local = rotation.applyInverse(v)
                    extent = max(extent, abs(local.x / local.z), abs(local.y / local.z))
                }
            }
            return 2 * atan(extent) * 180 / .pi
        case .omniFusion, .centres:
            // The farthest any direction lies from its nearest centre, on a fine grid.
            let directions = centres.map { Equirect.direction(longitude: $0.longitude * .pi / 180, latitude: $0.latitude * .pi / 180) }
            let rotations = centres.map { Rotation(yaw: $0.longitude, pitch: $0.latitude) }
            var extent = 0.0
            let (w, h) = (360, 180)
            for y in 0..<h {
                for x in 0..<w {
                    let d = Equirect.direction(x: Double(x), y: Double(y), width: w, height: h)
                    var best = 0
                    for k in directions.indices where (directions[k] * d).sum() > (directions[best] * d).sum() { best = k }
                    let local = rotations[best].applyInverse(d)
                    extent = max(extent, abs(local.x / local.z), abs(local.y / local.z))
                }
            }
            return 2 * atan(extent) * 180 / .pi
        }
    }

    /// The patches as square gnomonic views of `size` pixels: with `fov` degrees each, or
    /// else the covering field of view widened by `padding` (1.0 covers each region
    /// exactly; 360MonoDepth pads by about 1.3 so neighbours overlap for alignment).
    public func patches(size: Int, fov: Double? = nil, padding: Double = 1.3) -> [PerspectiveView] {
        let angle = fov ?? min(170, 2 * atan(tan(coveringFOV * .pi / 360) * padding) * 180 / .pi)
        return centres.map { PerspectiveView(yaw: $0.longitude, pitch: $0.latitude, fov: angle, width: size, height: size) }
    }
}

/// The regular icosahedron and its subdivisions, as unit-vector triangles.
enum Icosahedron {
    static func triangles(level: Int) -> [(Vector3, Vector3, Vector3)] {
        let phi = (1 + 5.0.squareRoot()) / 2
        let raw: [Vector3] = [
            Vector3(-1, phi, 0), Vector3(1, phi, 0), Vector3(-1, -phi, 0), Vector3(1, -phi, 0),
            Vector3(0, -1, phi), Vector3(0, 1, phi), Vector3(0, -1, -phi), Vector3(0, 1, -phi),
            Vector3(phi, 0, -1), Vector3(phi, 0, 1), Vector3(-phi, 0, -1), Vector3(-phi, 0, 1),
        ]
        let v = raw.map { $0 / ($0 * $0).sum().squareRoot() }
        let faces = [(0, 11, 5), (0, 5, 1), (0, 1, 7), (0, 7, 10), (0, 10, 11), (1, 5, 9), (5, 11, 4), (11, 10, 2), (10, 7, 6), (7, 1, 8),
                     (3, 9, 4), (3, 4, 2), (3, 2, 6), (3, 6, 8), (3, 8, 9), (4, 9, 5), (2, 4, 11), (6, 2, 10), (8, 6, 7), (9, 8, 1)]
        var triangles = faces.map { (v[$0.0], v[$0.1], v[$0.2]) }
        func mid(_ a: Vector3, _ b: Vector3) -> Vector3 { let m = a + b; return m / (m * m).sum().squareRoot() }
        for _ in 0..<max(0, level) {
            triangles = triangles.flatMap { t -> [(Vector3, Vector3, Vector3)] in
                let (ab, bc, ca) = (mid(t.0, t.1), mid(t.1, t.2), mid(t.2, t.0))
                return [(t.0, ab, ca), (ab, t.1, bc), (ca, bc, t.2), (ab, bc, ca)]
            }
        }
        return triangles
    }
}

/// How many views see each pixel of an equirect panorama.
public struct CoverageReport: Sendable, Equatable {
    /// Views seeing each pixel, one channel.
    public var counts: Image
    /// Pixels no view sees.
    public var uncovered: Int
    /// Pixels exactly one view sees.
    public var single: Int
    /// Pixels two or more views see (where neighbours overlap).
    public var overlapping: Int
    /// The fewest views any pixel sees.
    public var minimum: Int
    /// The most views any pixel sees.
    public var maximum: Int

    /// Counts, for each pixel of a `width × height` equirect, the views whose image contains it.
    public init(views: [PerspectiveView], width: Int, height: Int) {
        var counts = [Float](repeating: 0, count: width * height)
        for view in views {
            let map = ResampleMap.viewToEquirect(view: view, width: width, height: height, interpolation: .nearest)
            for i in counts.indices where map.hasSource(i) { counts[i] += 1 }
        }
        self.counts = Image(width: width, height: height, channels: 1, pixels: counts)
        uncovered = counts.filter { $0 == 0 }.count
        single = counts.filter { $0 == 1 }.count
        overlapping = counts.count - uncovered - single
        minimum = Int(counts.min() ?? 0)
        maximum = Int(counts.max() ?? 0)
    }
}

/// Tangent patches of one frame: the views and their images, as they travel between stages.
public struct TangentPatches: Sendable, Equatable {
    /// Where each patch looks.
    public var views: [PerspectiveView]
    /// One image per view.
    public var images: [Image]

    /// Patches from views and their images (the same count).
    public init(views: [PerspectiveView], images: [Image]) {
        precondition(views.count == images.count, "\(images.count) images for \(views.count) views")
        (self.views, self.images) = (views, images)
    }
}
