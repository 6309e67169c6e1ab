import Foundation
import StrataCore
import StrataSphere

/// Depth from motion for an equirect (360°) video, through a rig of perspective views fixed
/// to the spherical camera, as cubemap SLAM systems do: the camera's path is recovered on
/// the spherical model (``CameraMotion/reconstruct(panorama:options:)``), every face of a
/// padded cubemap is then swept with that path turned into the face's axes
/// (``KeyframeStereo``: keyframes checked and reprojected), and the faces' depth meets
/// again on the sphere, each direction taken from the face it is most central in, as
/// distance along the ray. A cubemap has no image
/// border where the panorama has its seam, so the depth wraps across 0°/360°.
public final class PanoramaStereo: @unchecked Sendable {
    /// The recovered motion of the 360° camera (OpenCV's axes, the panorama's centre ahead).
    public let motion: CameraMotion
    /// The padded cube faces that are swept, in py360convert's order F R B L U D.
    public let faces: [PerspectiveView]
    /// The equirect size the depth comes at (the frames' size).
    public let width: Int, height: Int
    private let stereo: [KeyframeStereo]
    /// For each equirect pixel, the face it is taken from and the pixel there.
    private let owner: [(face: Int, pixel: Int, factor: Float)]

    /// Panoramas narrower than this (pixels across) are too coarse for depth from motion:
    /// at 512 the StrataSynth walks lost their path (18% of its length) or their depth
    /// (trusted δ1 0.80 on 5% of the pixels); at 1024 both held.
    public static let minimumWidth = 1024

    /// A forward view fixed to the 360° camera, for a panorama `equirectWidth` pixels wide:
    /// 110° across, 4:3, about as many pixels per degree as the panorama (at most
    /// `maximumWidth` across). Its camera has the 360° camera's axes, so a path recovered
    /// in it serves as the camera's own: the first method, before the spherical model; on a
    /// straight walk it drifted (7% of the path over 36 frames, BENCHMARKS.md).
    public static func trackingView(equirectWidth: Int, maximumWidth: Int) -> PerspectiveView {
        let w = min(maximumWidth, max(320, Int((Double(equirectWidth) * 110 / 360).rounded())))
        return PerspectiveView(yaw: 0, pitch: 0, fov: 110, width: w, height: w * 3 / 4)
    }

    /// Depth for the frames of the panorama video whose frames (grey or colour,
    /// `width` × `height`) `equirect` gives, with the 360° camera's `motion` (or that of a
    /// view with its axes, such as ``trackingView(equirectWidth:maximumWidth:)``).
    /// - Throws: ``MotionError`` when the motion has too few points to bound the sweeps.
    public init(motion: CameraMotion, width: Int, height: Int, options: KeyframeStereo.Options = KeyframeStereo.Options(),
                equirect: @escaping @Sendable (Int) -> Image?) throws {
        self.motion = motion
        (self.width, self.height) = (width, height)
        // Faces of a quarter of the panorama's width, padded by an eighth on every side so
        // the sweep's windows at a face's edge see past it.
        let side = max(16, width / 4)
        let faces = CubeFace.allCases.map { PerspectiveView(face: $0, faceSize: side, padding: side / 8) }
        self.faces = faces
        // One depth range for every face: the points' distances from the keyframes' centres.
        var distances: [Double] = []
        for k in motion.keyframes {
            guard let pose = motion.poses[k] else { continue }
            distances += motion.points.map { pose.transform($0).norm }
        }
        guard distances.count >= 10 else { throw MotionError("\(motion.points.count) sparse points: too few to bound a panorama's sweep") }
        distances.sort()
        var faceOptions = options
        faceOptions.sweep.bounds = PlaneSweep.DepthBounds(near: distances[distances.count / 50] * 0.5, median: distances[distances.count / 2],
                                                          far: distances[distances.count * 49 / 50] * 1.5)
        faceOptions.sweep.maximumWidth = max(options.sweep.maximumWidth, faces[0].width)
        let maps = faces.map { ResampleMap.equirectToView(width: width, height: height, view: $0, interpolation: .bilinear) }
        stereo = faces.indices.map { j in
            let view = faces[j], map = maps[j]
            return KeyframeStereo(motion: motion.rigged(axes: Self.axes(of: view), intrinsics: view.intrinsics), options: faceOptions) { n in
                equirect(n).map { frame in (frame.channels == 1 ? frame : frame.grayscale()).resampled(map) }
            }
        }
        // Each direction from the face it is most central in (py360convert's cube), at the
        // nearest pixel of that face's padded view.
        owner = (0..<(width * height)).map { i in
            let d = Equirect.direction(x: Double(i % width), y: Double(i / width), width: width, height: height)
            let face = CubeFace.locate(d).face.rawValue
            let view = faces[face]
            let (x, y) = view.position(of: d) ?? (0, 0)
            let (px, py) = (min(view.width - 1, max(0, Int(x.rounded()))), min(view.height - 1, max(0, Int(y.rounded()))))
            return (face, py * view.width + px, Float(view.rayFactor(x: px, y: py)))
        }
    }

    /// The view's axes in the rig's, in OpenCV's camera axes (x right, y down, z forward;
    /// StrataSphere's have y up), row-major.
    static func axes(of view: PerspectiveView) -> [Double] {
        let rotation = view.rotation
        let columns = [Vector3(1, 0, 0), Vector3(0, 1, 0), Vector3(0, 0, 1)].map { rotation.apply($0) }
        let flip = [1.0, -1, 1]
        return (0..<9).map { e in
            let (r, c) = (e / 3, e % 3)
            return flip[r] * columns[c][r] * flip[c]
        }
    }

    /// Frame `f`'s distance along each ray (the motion's unit) and its confidence, at the
    /// panorama's size; a face that could not be swept leaves its directions at NaN and 0.
    /// - Throws: ``MotionError`` when the frame has no pose.
    public func depth(frame f: Int) throws -> (distance: [Float], confidence: [Float]) {
        guard f >= 0, f < motion.poses.count, motion.poses[f] != nil else {
            throw MotionError("frame \(f) has no pose: no depth from motion there")
        }
        let swept = stereo.map { try? $0.depth(frame: f) }
        var distance = [Float](repeating: .nan, count: width * height), confidence = [Float](repeating: 0, count: width * height)
        for i in owner.indices {
            let (face, pixel, factor) = owner[i]
            guard let depth = swept[face] else { continue }
            distance[i] = depth.depth[pixel] * factor
            confidence[i] = depth.confidence[pixel]
        }
        return (distance, confidence)
    }
}
