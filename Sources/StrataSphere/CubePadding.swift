import StrataCore

/// How ``Cubemap/padded(by:mode:)`` fills the strips around each face.
public enum CubePaddingMode: Sendable, Equatable {
    /// Cube padding as networks do it between layers: each strip is a copy of the adjacent
    /// face's pixels next to the shared edge, turned to match, so a p-pixel strip holds the
    /// neighbour's p nearest rows or columns exactly. Corners (where no face is adjacent)
    /// take the nearest pixel along their ray. Exact copies, but for p > 1 the strip is the
    /// neighbour unfolded flat rather than seen through the face's plane, so it drifts from
    /// the image-level padding by up to about p²/N pixels.
    case copy
    /// Every padded pixel samples the sphere along its own ray, as the image-level padding
    /// of ``StrataCore/Image/equirectToCube(faceSize:padding:interpolation:)`` does, read
    /// from the faces instead of the panorama.
    case resample(Interpolation)
}

extension Cubemap {
    /// The faces extended by `p` pixels on every side from their neighbours (tensor-level
    /// cube padding, for C × N × N faces of any channel count). Existing padding is
    /// dropped first; `p` may be at most the face size.
    public func padded(by p: Int, mode: CubePaddingMode = .copy) throws -> Cubemap {
        guard p >= 0, p <= faceSize else { throw SphereError.invalid("cube padding \(p) must be between 0 and the face size \(faceSize)") }
        let inner = unpadded
        guard p > 0 else { return inner }
        let n = faceSize
        let side = n + 2 * p
        let scale = 2 / Double(n)
        let map: ResampleMap
        switch mode {
        case .copy:
            map = Self.copyMap(faceSize: n, padding: p)
        case .resample(let interpolation):
            map = MapCache.map(.cubePadding(faceSize: n, padding: p, interpolation)) {
                ResampleMap(width: side, height: 6 * side, grid: .cube(faceSize: n, padding: 0), interpolation: interpolation) { x, y in
                    let face = CubeFace(rawValue: y / side)!
                    let (i, j) = (x - p, y % side - p)
                    let (other, a, b) = CubeFace.locate(face.direction(a: (Double(i) + 0.5) * scale - 1, b: (Double(j) + 0.5) * scale - 1))
                    return SamplePosition(face: other.rawValue, x: (a + 1) / scale - 0.5, y: (b + 1) / scale - 0.5)
                }
            }
        }
        return Cubemap(stacked: inner.stacked.resampled(map), faceSize: n, padding: p)
    }

    /// The nearest-pixel map of copy-mode cube padding: padded pixel (x, y) of each face
    /// reads the neighbour's pixel reached by folding the extended plane over the shared edge
    /// (so a strip p pixels wide holds the neighbour's p nearest rows or columns, turned to
    /// match); a corner, where no face is adjacent, reads the pixel its ray meets.
    static func copyMap(faceSize n: Int, padding p: Int) -> ResampleMap {
        let side = n + 2 * p, scale = 2 / Double(n)
        return MapCache.map(.cubePadding(faceSize: n, padding: p, nil)) {
            ResampleMap(width: side, height: 6 * side, grid: .cube(faceSize: n, padding: 0), interpolation: .nearest) { x, y in
                let face = CubeFace(rawValue: y / side)!
                let (i, j) = (x - p, y % side - p)
                let outsideX = i < 0 || i >= n, outsideY = j < 0 || j >= n
                guard outsideX != outsideY else { return SamplePosition(face: face.rawValue, x: Double(i), y: Double(j)) }
                var a = (Double(i) + 0.5) * scale - 1, b = (Double(j) + 0.5) * scale - 1
                let depth: Double
                if outsideX { depth = abs(a) - 1; a = a > 0 ? 1 : -1 } else { depth = abs(b) - 1; b = b > 0 ? 1 : -1 }
                let folded = face.direction(a: a, b: b) - depth * face.direction(a: 0, b: 0)
                let (other, a2, b2) = CubeFace.locate(folded)
                return SamplePosition(face: other.rawValue, x: ((a2 + 1) / scale - 0.5).rounded(), y: ((b2 + 1) / scale - 0.5).rounded())
            }
        }
    }

    /// The source of every pixel of six n × n faces padded by `p` in copy mode: entry
    /// `(f × (n + 2p) + y) × (n + 2p) + x` is `f′ × n² + y′ × n + x′`, the pixel of the
    /// unpadded faces (F R B L U D) that padded pixel (x, y) of face f copies — read from the
    /// very map ``padded(by:mode:)`` applies. StrataNN's cube padding gathers with it
    /// (`StrataNN.CubePadding`), so every convolution pads a face from its neighbours exactly
    /// as the image-level copy padding does.
    public static func copyPaddingSources(faceSize n: Int, padding p: Int) -> [Int32] {
        copyMap(faceSize: n, padding: p).nearestSources
    }

    /// ``copyPaddingSources(faceSize:padding:)`` for faces cut wider than the cube, as the
    /// cube strategy's image-level padding does: each face is a square view `extent` times
    /// the cube face's half-width (tan of its half field of view), `n` pixels across. A
    /// padded pixel takes the nearest pixel of the face whose own square (the cube's)
    /// holds its ray, in that face's widened image — a view of the same sphere, so the
    /// strip continues the picture exactly wherever the faces agree. With `extent` 1 this
    /// is the copy table.
    public static func paddingSources(faceSize n: Int, padding p: Int, extent: Double) -> [Int32] {
        guard extent > 1 else { return copyPaddingSources(faceSize: n, padding: p) }
        let side = n + 2 * p, scale = 2 / Double(n)
        var out = [Int32](repeating: 0, count: 6 * side * side)
        for face in CubeFace.allCases {
            for y in 0..<side {
                for x in 0..<side {
                    let (i, j) = (x - p, y - p)
                    let source: (CubeFace, Int, Int)
                    if i >= 0, i < n, j >= 0, j < n {
                        source = (face, i, j)
                    } else {
                        let a = ((Double(i) + 0.5) * scale - 1) * extent, b = ((Double(j) + 0.5) * scale - 1) * extent
                        let (other, a2, b2) = CubeFace.locate(face.direction(a: a, b: b))
                        func pixel(_ t: Double) -> Int { min(max(Int(((t / extent + 1) / scale - 0.5).rounded()), 0), n - 1) }
                        source = (other, pixel(a2), pixel(b2))
                    }
                    out[(face.rawValue * side + y) * side + x] = Int32(source.0.rawValue * n * n + source.2 * n + source.1)
                }
            }
        }
        return out
    }
}
