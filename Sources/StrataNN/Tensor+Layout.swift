import Foundation
import StrataCore

// Element moves shared by the operators: reshape, transpose, concatenate, slice, gather,
// cast. Each works on any element type.

extension Tensor {
    /// The same elements under another shape with as many elements.
    func reshaped(_ shape: [Int]) throws -> Tensor {
        guard shape.allSatisfy({ $0 >= 0 }), shape.reduce(1, *) == count else {
            throw NNError.invalidTensor("cannot reshape \(self.shape) (\(count) elements) to \(shape)")
        }
        var t = self
        t.shape = shape
        return t
    }

    /// Applies `body` to the storage's elements whatever their type.
    @inline(__always)
    func mapStorage(shape: [Int], _ float: ([Float]) -> [Float], _ int: ([Int64]) -> [Int64], _ bool: ([Bool]) -> [Bool]) -> Tensor {
        switch storage {
        case .float(let v): return Tensor(shape: shape, floats: float(v))
        case .int64(let v): return Tensor(shape: shape, int64: int(v))
        case .bool(let v): return Tensor(shape: shape, bools: bool(v))
        }
    }

    /// A tensor of `shape` whose element i is this tensor's element `index[i]`.
    func gathered(shape: [Int], from index: [Int]) -> Tensor {
        mapStorage(shape: shape, { v in index.map { v[$0] } }, { v in index.map { v[$0] } }, { v in index.map { v[$0] } })
    }

    /// A tensor of `shape` made of the runs of `length` elements starting at `starts`, in order.
    func copyingRuns(shape: [Int], starts: [Int], length: Int) -> Tensor {
        func copy<T>(_ v: [T]) -> [T] {
            var out: [T] = []
            out.reserveCapacity(starts.count * length)
            v.withUnsafeBufferPointer { p in
                for start in starts { out.append(contentsOf: UnsafeBufferPointer(rebasing: p[start..<(start + length)])) }
            }
            return out
        }
        return mapStorage(shape: shape, copy, copy, copy)
    }

    /// The source index of every element of a tensor of `shape`, computed from its coordinate.
    static func indices(_ shape: [Int], _ source: ([Int]) -> Int) -> [Int] {
        let n = shape.reduce(1, *)
        var result = [Int](repeating: 0, count: n)
        var coordinate = [Int](repeating: 0, count: shape.count)
        for i in 0..<n {
            result[i] = source(coordinate)
            var axis = shape.count - 1
            while axis >= 0 {
                coordinate[axis] += 1
                if coordinate[axis] < shape[axis] { break }
                coordinate[axis] = 0
                axis -= 1
            }
        }
        return result
    }

    /// Axes permuted: output axis i is input axis `perm[i]`.
    func transposed(_ perm: [Int]) -> Tensor {
        let shape = perm.map { self.shape[$0] }
        let sourceStrides = Tensor.strides(self.shape)
        let strides = perm.map { sourceStrides[$0] }
        return mapStorage(shape: shape, { Tensor.permute($0, shape: shape, strides: strides) },
                          { Tensor.permute($0, shape: shape, strides: strides) }, { Tensor.permute($0, shape: shape, strides: strides) })
    }

    /// Copies `source` read with `strides` into a dense array of `shape`, innermost axis in a
    /// tight loop; float tensors (the attention's head splits and merges, megabytes each)
    /// on every core.
    static func permute<T>(_ source: [T], shape: [Int], strides: [Int]) -> [T] {
        let n = shape.reduce(1, *)
        guard n > 0 else { return [] }
        guard let inner = shape.last else { return source }
        let rows = n / inner
        return [T](unsafeUninitializedCapacity: n) { out, initialized in
            source.withUnsafeBufferPointer { src in
                if T.self == Float.self {
                    let (s, o) = (UncheckedSendable(src), UncheckedSendable(out))
                    Parallel.forEachBand(rows, minimumBand: max(1, (1 << 15) / inner)) { band in
                        permuteRows(band, s.value, o.value, shape: shape, strides: strides)
                    }
                } else {
                    permuteRows(0..<rows, src, out, shape: shape, strides: strides)
                }
            }
            initialized = n
        }
    }

    /// Rows `rows` of `permute`'s output (a row: the innermost axis), initialized in `out`.
    private static func permuteRows<T>(_ rows: Range<Int>, _ src: UnsafeBufferPointer<T>, _ out: UnsafeMutableBufferPointer<T>,
                                       shape: [Int], strides: [Int]) {
        let inner = shape.last!, step = strides.last!
        // The odometer over every axis but the innermost, started at the first row.
        var coordinate = [Int](repeating: 0, count: shape.count)
        var offset = 0, rest = rows.lowerBound
        for axis in stride(from: shape.count - 2, through: 0, by: -1) {
            coordinate[axis] = rest % shape[axis]
            rest /= shape[axis]
            offset += coordinate[axis] * strides[axis]
        }
        for row in rows {
            let to = out.baseAddress! + row * inner
            if step == 1 {
                to.initialize(from: src.baseAddress! + offset, count: inner)
            } else {
                var s = offset
                for j in 0..<inner {
                    (to + j).initialize(to: src[s])
                    s += step
                }
            }
            var axis = shape.count - 2
            while axis >= 0 {
                coordinate[axis] += 1
                offset += strides[axis]
                if coordinate[axis] < shape[axis] { break }
                offset -= strides[axis] * shape[axis]
                coordinate[axis] = 0
                axis -= 1
            }
        }
    }

    /// Tensors joined along `axis`; all other extents must match.
    static func concatenate(_ parts: [Tensor], axis: Int) throws -> Tensor {
        guard let first = parts.first else { throw NNError.invalidTensor("Concat of nothing") }
        let a = try normalizedAxis(axis, rank: first.rank)
        for p in parts {
            guard p.rank == first.rank, p.dataType == first.dataType,
                  p.shape.indices.allSatisfy({ $0 == a || p.shape[$0] == first.shape[$0] }) else {
                throw NNError.invalidTensor("cannot concatenate \(parts.map { "\($0.dataType) \($0.shape)" }.joined(separator: ", ")) along axis \(axis)")
            }
        }
        var shape = first.shape
        shape[a] = parts.reduce(0) { $0 + $1.shape[a] }
        let outer = first.shape[..<a].reduce(1, *), inner = first.shape[(a + 1)...].reduce(1, *)
        func join<T>(_ arrays: [[T]]) -> [T] {
            var out: [T] = []
            out.reserveCapacity(shape.reduce(1, *))
            for o in 0..<outer {
                for (k, v) in arrays.enumerated() {
                    let block = parts[k].shape[a] * inner
                    out.append(contentsOf: v[(o * block)..<((o + 1) * block)])
                }
            }
            return out
        }
        switch first.storage {
        case .float: return Tensor(shape: shape, floats: join(parts.map { $0.floats! }))
        case .int64: return Tensor(shape: shape, int64: join(parts.map { $0.int64s! }))
        case .bool: return Tensor(shape: shape, bools: join(parts.map { $0.bools! }))
        }
    }

    /// The elements with `axis` restricted to `range` (step 1).
    func sliced(axis: Int, range: Range<Int>) -> Tensor {
        var shape = self.shape
        shape[axis] = range.count
        let outer = self.shape[..<axis].reduce(1, *), inner = self.shape[(axis + 1)...].reduce(1, *)
        let extent = self.shape[axis]
        func cut<T>(_ v: [T]) -> [T] {
            var out: [T] = []
            out.reserveCapacity(outer * range.count * inner)
            for o in 0..<outer {
                let base = o * extent * inner
                out.append(contentsOf: v[(base + range.lowerBound * inner)..<(base + range.upperBound * inner)])
            }
            return out
        }
        return mapStorage(shape: shape, cut, cut, cut)
    }

    /// The elements converted to `type`: floats to integers truncate toward zero (C's cast),
    /// anything to bool is "not zero".
    func cast(to type: DataType) -> Tensor {
        switch (storage, type) {
        case (.float, .float), (.int64, .int64), (.bool, .bool): return self
        case (.float(let v), .int64): return Tensor(shape: shape, int64: v.map { $0.isFinite ? Int64(exactly: $0.rounded(.towardZero)) ?? ($0 < 0 ? .min : .max) : 0 })
        case (.float(let v), .bool): return Tensor(shape: shape, bools: v.map { $0 != 0 })
        case (.int64(let v), .float): return Tensor(shape: shape, floats: v.map { Float($0) })
        case (.int64(let v), .bool): return Tensor(shape: shape, bools: v.map { $0 != 0 })
        case (.bool(let v), .float): return Tensor(shape: shape, floats: v.map { $0 ? 1 : 0 })
        case (.bool(let v), .int64): return Tensor(shape: shape, int64: v.map { $0 ? 1 : 0 })
        }
    }
}
