import Foundation
import StrataCore

/// The recovered motion in the formats other tools read: a TUM RGB-D trajectory, a COLMAP
/// text model and a PLY point cloud. Each is text or bytes; the caller writes the files.
extension CameraMotion {
    /// The TUM RGB-D benchmark's trajectory format: one line per placed frame,
    /// `timestamp tx ty tz qx qy qz qw`, the camera's pose in the world (camera to world:
    /// its centre, and the rotation from its axes to the world's). Frames are stamped
    /// `index / fps` seconds.
    public func tumTrajectory(fps: Double) -> String { Self.tumTrajectory(poses, fps: fps) }

    /// Any frames' poses (world to camera; nil where unknown) as a TUM trajectory.
    public static func tumTrajectory(_ poses: [CameraPose?], fps: Double) -> String {
        var text = "# timestamp tx ty tz qx qy qz qw (camera to world; Strata, \(poses.compactMap { $0 }.count) of \(poses.count) frames)\n"
        for (f, pose) in poses.enumerated() {
            guard let pose else { continue }
            let c = pose.centre, q = pose.inverse.quaternion
            text += String(format: "%.6f %.9f %.9f %.9f %.9f %.9f %.9f %.9f\n", Double(f) / fps, c.x, c.y, c.z, q.x, q.y, q.z, q.w)
        }
        return text
    }

    /// A COLMAP text model (what `colmap model_converter` and COLMAP's GUI open): one
    /// PINHOLE camera, each placed frame as an image named by `name(frame)` with the track
    /// observations of the points it sees, and the points with their colours, mean
    /// reprojection error and tracks. Image ids are frame index + 1, point ids index + 1.
    /// - Throws: ``MotionError`` for a 360° camera's motion: COLMAP 3.8 has no spherical camera.
    public func colmapModel(name: (Int) -> String) throws -> (cameras: String, images: String, points: String) {
        guard projection == .pinhole else { throw MotionError("a 360° camera's motion has no COLMAP model: COLMAP has no spherical camera") }
        let k = intrinsics
        let cameras = """
            # Camera list with one line of data per camera:
            #   CAMERA_ID, MODEL, WIDTH, HEIGHT, PARAMS[]
            # Number of cameras: 1
            1 PINHOLE \(k.width) \(k.height) \(k.fx) \(k.fy) \(k.cx) \(k.cy)

            """
        let pointOf = Dictionary(uniqueKeysWithValues: pointTracks.enumerated().map { ($1, $0) })
        // Each point's track: (image id, index of the observation in that image's list), and
        // its reprojection errors.
        var trackLists = [[(image: Int, index: Int)]](repeating: [], count: points.count)
        var errors = [Double](repeating: 0, count: points.count)
        var images = "", observed = 0
        for (f, pose) in poses.enumerated() {
            guard let pose else { continue }
            let frame = tracks.frames[f]
            var line: [String] = []
            for (i, id) in frame.ids.enumerated() {
                guard let p = pointOf[id] else { continue }
                let xy = frame.points[i]
                trackLists[p].append((f + 1, line.count))
                line.append(String(format: "%.3f %.3f %d", xy.x, xy.y, p + 1))
                if let seen = project(points[p], frame: f) {
                    errors[p] += ((seen - SIMD2(Double(xy.x), Double(xy.y))) * (seen - SIMD2(Double(xy.x), Double(xy.y)))).sum().squareRoot()
                }
            }
            observed += line.count
            let q = pose.quaternion, t = pose.translation
            images += String(format: "%d %.12f %.12f %.12f %.12f %.9f %.9f %.9f 1 ", f + 1, q.w, q.x, q.y, q.z, t.x, t.y, t.z) + name(f) + "\n"
            images += line.joined(separator: " ") + "\n"
        }
        let placed = poses.compactMap { $0 }.count
        let imagesHeader = """
            # Image list with two lines of data per image:
            #   IMAGE_ID, QW, QX, QY, QZ, TX, TY, TZ, CAMERA_ID, NAME
            #   POINTS2D[] as (X, Y, POINT3D_ID)
            # Number of images: \(placed), mean observations per image: \(placed > 0 ? Double(observed) / Double(placed) : 0)

            """
        var pointsText = """
            # 3D point list with one line of data per point:
            #   POINT3D_ID, X, Y, Z, R, G, B, ERROR, TRACK[] as (IMAGE_ID, POINT2D_IDX)
            # Number of points: \(points.count), mean track length: \(points.isEmpty ? 0 : Double(observed) / Double(points.count))

            """
        for (p, x) in points.enumerated() {
            let c = pointColors[p], track = trackLists[p]
            pointsText += String(format: "%d %.9f %.9f %.9f %d %d %d %.6f", p + 1, x.x, x.y, x.z, Int(c.x), Int(c.y), Int(c.z),
                                 track.isEmpty ? 0 : errors[p] / Double(track.count))
            pointsText += track.map { " \($0.image) \($0.index)" }.joined() + "\n"
        }
        return (cameras, imagesHeader + images, pointsText)
    }

    /// The sparse points as a binary little-endian PLY with 8-bit colours (MeshLab, Open3D,
    /// Blender and CloudCompare read it).
    public func ply() -> Data {
        var data = Data("""
            ply
            format binary_little_endian 1.0
            comment Strata: the sparse points of a camera's motion
            element vertex \(points.count)
            property float x
            property float y
            property float z
            property uchar red
            property uchar green
            property uchar blue
            end_header

            """.utf8)
        data.reserveCapacity(data.count + 15 * points.count)
        for (x, c) in zip(points, pointColors) {
            for v in [Float(x.x), Float(x.y), Float(x.z)] { withUnsafeBytes(of: v.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
            data.append(contentsOf: [c.x, c.y, c.z])
        }
        return data
    }
}
