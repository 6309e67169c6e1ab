import StrataCore

/// Why a spherical conversion cannot run on the data it was given.
public enum SphereError: Error, Equatable, CustomStringConvertible, ExitCodeProviding {
    /// A cubemap needs exactly six faces.
    case faceCount(Int)
    /// A face differs from the first in size or channels, or is not square.
    case faceMismatch(face: String, found: String, expected: String)
    /// A dictionary of faces lacks some keys.
    case missingFaces([String])
    /// A layout other than dice or horizon was asked of a single image.
    case notSingleImage(String)
    /// An image's size does not fit the layout.
    case layoutSize(layout: String, width: Int, height: Int)
    /// A parameter is out of range.
    case invalid(String)

    public var description: String {
        switch self {
        case .faceCount(let n): return "a cubemap has 6 faces (F R B L U D), got \(n)"
        case .faceMismatch(let face, let found, let expected): return "cube face \(face) is \(found), expected \(expected)"
        case .missingFaces(let faces): return "cube faces missing: \(faces.joined(separator: ", "))"
        case .notSingleImage(let layout): return "layout \(layout) is not a single image (dice or horizon)"
        case .layoutSize(let layout, let w, let h):
            return "a \(w)x\(h) image is not a \(layout) cubemap (dice is 4x3 square faces, horizon 6x1)"
        case .invalid(let what): return what
        }
    }

    /// 65: the data does not fit.
    public var exitCode: Int32 { 65 }
}
