/// A raster of Float32 samples in planar order (channel, row, column).
///
/// The layout is that of an NCHW tensor with N = 1, so images pass to and from the
/// inference engine without shuffling. Colour values are 0…1 as decoded (sRGB-encoded);
/// depth and other quantities use whatever unit their wrapper says.
public struct Image: Sendable, Equatable {
    /// Columns.
    public let width: Int
    /// Rows.
    public let height: Int
    /// Planes: 1 gray or depth, 2 gray+alpha, 3 RGB, 4 RGBA, or any count for features.
    public let channels: Int
    /// `channels × height × width` samples, plane after plane, row after row.
    public var pixels: [Float]

    /// An image filled with one value.
    public init(width: Int, height: Int, channels: Int, fill: Float = 0) {
        precondition(width >= 0 && height >= 0 && channels >= 1, "invalid image size \(width)x\(height)x\(channels)")
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = [Float](largeRepeating: fill, count: width * height * channels)
    }

    /// An image over existing planar samples; `pixels.count` must be `width × height × channels`.
    public init(width: Int, height: Int, channels: Int, pixels: [Float]) {
        precondition(pixels.count == width * height * channels,
                     "\(pixels.count) samples for a \(width)x\(height)x\(channels) image")
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }

    /// An image whose sample at (channel, y, x) is `value(c, y, x)`.
    public init(width: Int, height: Int, channels: Int, _ value: (Int, Int, Int) -> Float) {
        self.init(width: width, height: height, channels: channels)
        var i = 0
        for c in 0..<channels {
            for y in 0..<height {
                for x in 0..<width {
                    pixels[i] = value(c, y, x)
                    i += 1
                }
            }
        }
    }

    /// Samples in one plane.
    @inlinable public var planeSize: Int { width * height }

    /// The sample at channel `c`, row `y`, column `x`.
    @inlinable public subscript(c: Int, y: Int, x: Int) -> Float {
        get { pixels[(c * height + y) * width + x] }
        set { pixels[(c * height + y) * width + x] = newValue }
    }

    /// One channel as a single-channel image.
    public func channel(_ c: Int) -> Image {
        precondition(c >= 0 && c < channels, "channel \(c) of \(channels)")
        let start = c * planeSize
        return Image(width: width, height: height, channels: 1, pixels: Array(pixels[start..<(start + planeSize)]))
    }

    /// The given channels, in the given order, as a new image.
    public func channels(_ list: [Int]) -> Image {
        var out = Image(width: width, height: height, channels: list.count)
        for (k, c) in list.enumerated() {
            precondition(c >= 0 && c < channels, "channel \(c) of \(channels)")
            out.pixels.replaceSubrange((k * planeSize)..<((k + 1) * planeSize),
                                       with: pixels[(c * planeSize)..<((c + 1) * planeSize)])
        }
        return out
    }

    /// Planes stacked: every image must have the same width and height.
    public static func stacking(_ images: [Image]) -> Image {
        precondition(!images.isEmpty, "nothing to stack")
        let w = images[0].width, h = images[0].height
        var pixels: [Float] = []
        pixels.reserveCapacity(images.reduce(0) { $0 + $1.pixels.count })
        for image in images {
            precondition(image.width == w && image.height == h, "stacking images of different sizes")
            pixels += image.pixels
        }
        return Image(width: w, height: h, channels: images.reduce(0) { $0 + $1.channels }, pixels: pixels)
    }

    /// A copy of the rectangle at (x, y) of the given size; it must lie inside the image.
    public func cropped(x: Int, y: Int, width w: Int, height h: Int) -> Image {
        precondition(x >= 0 && y >= 0 && w >= 0 && h >= 0 && x + w <= width && y + h <= height, "crop outside image")
        var out = Image(width: w, height: h, channels: channels)
        for c in 0..<channels {
            for row in 0..<h {
                let src = (c * height + y + row) * width + x
                let dst = (c * h + row) * w
                out.pixels.replaceSubrange(dst..<(dst + w), with: pixels[src..<(src + w)])
            }
        }
        return out
    }
}
