/// What a video file holds, as its container and stream headers say.
public struct VideoInfo: Sendable, Equatable, Codable {
    /// Frame width as displayed (after the rotation metadata is applied).
    public var width: Int
    /// Frame height as displayed.
    public var height: Int
    /// Width as coded in the stream.
    public var codedWidth: Int
    /// Height as coded in the stream.
    public var codedHeight: Int
    /// Frames in the stream: from the container when it records them, otherwise estimated
    /// from duration × frame rate (see `frameCountIsEstimate`).
    public var frameCount: Int
    public var frameCountIsEstimate: Bool
    /// Frames per second (the stream's average rate).
    public var frameRate: Double
    /// Seconds.
    public var duration: Double
    /// Clockwise rotation in degrees (0, 90, 180, 270) that the display matrix asks for.
    public var rotation: Int
    /// The codec's short name (h264, hevc, vp9, av1, mjpeg…).
    public var codec: String
    /// The container's short name(s) as FFmpeg reports them.
    public var container: String
    /// The decoded pixel format (yuv420p, yuv420p10le…).
    public var pixelFormat: String
    /// Bits per sample of the pixel format's first component (8, 10, 12, 16).
    public var bitDepth: Int
    /// Bits per second, or 0 when unknown.
    public var bitRate: Int
    /// The 360° projection the container declares, if any.
    public var spherical: SphericalMapping?
    /// How the two eyes of a stereo video are packed, if the container says.
    public var stereo: StereoLayout?
}
