import StrataCore

/// An n-dimensional array: float32 for activations and weights, int64 for shapes and
/// indices, bool for masks, as ONNX graphs carry them. Row-major (C order).
public struct Tensor: Sendable, Equatable {
    /// The element type.
    public enum DataType: String, Sendable, Equatable, CustomStringConvertible {
        case float, int64, bool
        public var description: String { rawValue }
    }

    /// Where the elements are.
    public enum Storage: Sendable, Equatable {
        case float([Float])
        case int64([Int64])
        case bool([Bool])
    }

    /// Extent of each axis (empty for a scalar).
    public var shape: [Int]
    /// The elements, in row-major order.
    public var storage: Storage

    /// A float tensor; `values.count` must be the product of `shape`.
    public init(shape: [Int], floats values: [Float]) {
        precondition(values.count == shape.reduce(1, *), "\(values.count) values for shape \(shape)")
        (self.shape, storage) = (shape, .float(values))
    }

    /// An int64 tensor.
    public init(shape: [Int], int64 values: [Int64]) {
        precondition(values.count == shape.reduce(1, *), "\(values.count) values for shape \(shape)")
        (self.shape, storage) = (shape, .int64(values))
    }

    /// A bool tensor.
    public init(shape: [Int], bools values: [Bool]) {
        precondition(values.count == shape.reduce(1, *), "\(values.count) values for shape \(shape)")
        (self.shape, storage) = (shape, .bool(values))
    }

    /// A float tensor of `shape` filled with `value`.
    public init(shape: [Int], repeating value: Float) {
        self.init(shape: shape, floats: [Float](repeating: value, count: shape.reduce(1, *)))
    }

    /// Elements in all.
    public var count: Int { shape.reduce(1, *) }
    /// Bytes the elements take.
    public var byteCount: Int {
        switch storage {
        case .float(let v): return v.count * 4
        case .int64(let v): return v.count * 8
        case .bool(let v): return v.count
        }
    }
    /// Axes.
    public var rank: Int { shape.count }

    /// The element type.
    public var dataType: DataType {
        switch storage {
        case .float: return .float
        case .int64: return .int64
        case .bool: return .bool
        }
    }

    /// The float elements (nil for other types).
    public var floats: [Float]? { if case .float(let v) = storage { return v } else { return nil } }
    /// The int64 elements (nil for other types).
    public var int64s: [Int64]? { if case .int64(let v) = storage { return v } else { return nil } }
    /// The bool elements (nil for other types).
    public var bools: [Bool]? { if case .bool(let v) = storage { return v } else { return nil } }

    /// Row-major strides in elements.
    public static func strides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var step = 1
        for axis in shape.indices.reversed() {
            strides[axis] = step
            step *= shape[axis]
        }
        return strides
    }
}

extension Tensor {
    /// An image as a 1 × C × H × W tensor (Strata's planar layout is NCHW already).
    public init(_ image: Image) {
        self.init(shape: [1, image.channels, image.height, image.width], floats: image.pixels)
    }

    /// The tensor as an image: shape N × C × H × W with N = 1, C × H × W, or H × W.
    public func image() throws -> Image {
        guard let values = floats else { throw NNError.invalidTensor("a \(dataType) tensor is not an image") }
        switch shape.count {
        case 4 where shape[0] == 1: return Image(width: shape[3], height: shape[2], channels: shape[1], pixels: values)
        case 3: return Image(width: shape[2], height: shape[1], channels: shape[0], pixels: values)
        case 2: return Image(width: shape[1], height: shape[0], channels: 1, pixels: values)
        default: throw NNError.invalidTensor("a tensor of shape \(shape) is not an image (N×C×H×W with N = 1, C×H×W or H×W)")
        }
    }
}
