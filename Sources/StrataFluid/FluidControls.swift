import Foundation
import StrataCore

/// What a user says about the fluid, from Strata's hints file or a labelme annotation: where
/// the fluid is (a mask file or polygons), which way it flows (arrows), where it must not
/// move (anchors, a freeze region), and the loop's settings.
///
/// Strata's hints file:
///
///     { "mask": "water.png",                       // or "polygons": [[[x, y], …], …]
///       "hints": [{ "from": [120, 300], "to": [180, 310], "speed": 1.5, "radius": 80 }],
///       "anchors": [{ "at": [400, 280], "radius": 12 }],
///       "freeze": [[[x, y], …]],                   // polygons that never move
///       "speedPerPixel": 0.05, "feather": 4, "frames": 60, "fps": 30 }
///
/// A hint without `speed` moves `speedPerPixel` pixels a frame per pixel of its length (a
/// 40-pixel arrow, 2 pixels a frame), as Plotagraph's arrows do. In a labelme file
/// (`"shapes"`), polygons and rectangles are the fluid, those labelled `freeze…` the freeze
/// region; two-point lines are hints, start to end; points labelled `anchor…` are anchors.
public struct FluidControls: Sendable, Equatable {
    /// A mask image's path as the file gives it (relative to the file), if any.
    public var maskPath: String?
    public var polygons: [[SIMD2<Double>]] = []
    public var freeze: [[SIMD2<Double>]] = []
    public var hints: [MotionHint] = []
    public var anchors: [MotionAnchor] = []
    public var feather: Double?
    public var frames: Int?
    public var fps: Double?
    /// Things the user should know (a shape skipped, and why).
    public var notes: [String] = []

    public init() {}

    /// Reads Strata's hints file or a labelme annotation (`name` is used in messages).
    /// - Throws: ``FluidError`` naming the file and the field for anything malformed.
    public init(json data: Data, name: String) throws {
        guard let root = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw FluidError("\(name): not a JSON object")
        }
        if let shapes = root["shapes"] {
            try self.init(labelme: shapes, name: name)
        } else {
            try self.init(strata: root, name: name)
        }
    }

    private init(strata root: [String: Any], name: String) throws {
        let perPixel = try Self.number(root["speedPerPixel"], "\(name): speedPerPixel") ?? 0.05
        maskPath = root["mask"] as? String
        if root["mask"] != nil && maskPath == nil { throw FluidError("\(name): mask: a file path is expected") }
        polygons = try Self.polygons(root["polygons"], "\(name): polygons")
        freeze = try Self.polygons(root["freeze"], "\(name): freeze")
        guard maskPath != nil || !polygons.isEmpty else { throw FluidError("\(name): no fluid region: give \"mask\" (a file) or \"polygons\"") }
        guard let list = root["hints"] as? [[String: Any]], !list.isEmpty else { throw FluidError("\(name): hints: a list of one or more arrows is expected") }
        for (k, item) in list.enumerated() {
            let field = "\(name): hints[\(k)]"
            guard let from = try Self.point(item["from"], "\(field).from"), let to = try Self.point(item["to"], "\(field).to") else {
                throw FluidError("\(field): \"from\" and \"to\" are both needed")
            }
            let length = ((to - from) * (to - from)).sum().squareRoot()
            let speed = try Self.number(item["speed"], "\(field).speed") ?? length * perPixel
            guard speed >= 0 else { throw FluidError("\(field).speed: \(speed) is negative") }
            hints.append(MotionHint(start: from, end: to, speed: speed, radius: try Self.number(item["radius"], "\(field).radius")))
        }
        for (k, item) in ((root["anchors"] as? [[String: Any]]) ?? []).enumerated() {
            let field = "\(name): anchors[\(k)]"
            guard let at = try Self.point(item["at"], "\(field).at") else { throw FluidError("\(field): \"at\" is needed") }
            anchors.append(MotionAnchor(position: at, radius: try Self.number(item["radius"], "\(field).radius") ?? 8))
        }
        feather = try Self.number(root["feather"], "\(name): feather")
        fps = try Self.number(root["fps"], "\(name): fps")
        if let n = try Self.number(root["frames"], "\(name): frames") {
            guard n == n.rounded(), n >= 2 else { throw FluidError("\(name): frames: \(n) is not a whole number of 2 or more") }
            frames = Int(n)
        }
    }

    private init(labelme shapes: Any, name: String) throws {
        guard let list = shapes as? [[String: Any]] else { throw FluidError("\(name): shapes: a list is expected") }
        for (k, shape) in list.enumerated() {
            let label = ((shape["label"] as? String) ?? "").lowercased()
            let kind = (shape["shape_type"] as? String) ?? "polygon"
            let points = try Self.polygon(shape["points"], "\(name): shapes[\(k)].points")
            switch kind {
            case "polygon" where points.count >= 3, "rectangle" where points.count == 2:
                let ring = kind == "rectangle" ? [points[0], SIMD2(points[1].x, points[0].y), points[1], SIMD2(points[0].x, points[1].y)] : points
                if label.hasPrefix("freeze") { freeze.append(ring) } else { polygons.append(ring) }
            case "line" where points.count == 2, "linestrip" where points.count == 2:
                let length = ((points[1] - points[0]) * (points[1] - points[0])).sum().squareRoot()
                hints.append(MotionHint(start: points[0], end: points[1], speed: length * 0.05))
            case "point" where label.hasPrefix("anchor") && points.count == 1:
                anchors.append(MotionAnchor(position: points[0], radius: 8))
            default:
                notes.append("\(name): shapes[\(k)] (\(kind) \"\(label)\", \(points.count) points) skipped: not a fluid polygon, a two-point hint line or an anchor point")
            }
        }
        guard !polygons.isEmpty || !hints.isEmpty else {
            throw FluidError("\(name): no usable shape: label polygons for the fluid and draw two-point lines for the hints")
        }
        guard !polygons.isEmpty else { throw FluidError("\(name): no polygon for the fluid region") }
        guard !hints.isEmpty else { throw FluidError("\(name): no two-point line for a hint") }
    }

    static func number(_ value: Any?, _ field: String) throws -> Double? {
        guard let value, !(value is NSNull) else { return nil }
        guard let n = value as? NSNumber, !(value is String), n.doubleValue.isFinite else { throw FluidError("\(field): a number is expected") }
        return n.doubleValue
    }

    static func point(_ value: Any?, _ field: String) throws -> SIMD2<Double>? {
        guard let value else { return nil }
        guard let pair = value as? [Any], pair.count == 2, let x = try number(pair[0], field), let y = try number(pair[1], field) else {
            throw FluidError("\(field): a point [x, y] is expected")
        }
        return SIMD2(x, y)
    }

    static func polygon(_ value: Any?, _ field: String) throws -> [SIMD2<Double>] {
        guard let list = value as? [Any] else { throw FluidError("\(field): a list of points is expected") }
        return try list.enumerated().map { k, p in try point(p, "\(field)[\(k)]")! }
    }

    static func polygons(_ value: Any?, _ field: String) throws -> [[SIMD2<Double>]] {
        guard let value else { return [] }
        guard let list = value as? [Any] else { throw FluidError("\(field): a list of polygons is expected") }
        return try list.enumerated().map { k, ring in
            let points = try polygon(ring, "\(field)[\(k)]")
            guard points.count >= 3 else { throw FluidError("\(field)[\(k)]: a polygon needs 3 points or more, it has \(points.count)") }
            return points
        }
    }
}
