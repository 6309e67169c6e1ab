import StrataCore

extension ResampleMap {
    /// The map from a `width × height` equirect to cube faces of `faceSize` pixels, each
    /// extended by `padding` pixels of the sphere beyond its edges.
    public static func equirectToCube(width: Int, height: Int, faceSize: Int, padding: Int = 0,
                                      interpolation: Interpolation = .bilinear) -> ResampleMap {
        MapCache.map(.equirectToCube(width: width, height: height, faceSize: faceSize, padding: padding, interpolation)) {
            let side = faceSize + 2 * padding
            let scale = 2 / Double(faceSize)
            return ResampleMap(width: side, height: 6 * side, grid: .equirect(width: width, height: height), interpolation: interpolation) { x, y in
                let face = CubeFace(rawValue: y / side)!
                let d = face.direction(a: (Double(x - padding) + 0.5) * scale - 1, b: (Double(y % side - padding) + 0.5) * scale - 1)
                let (px, py) = Equirect.position(of: d, width: width, height: height)
                return SamplePosition(x: px, y: py)
            }
        }
    }

    /// The map from cube faces (of `faceSize`, stored with `padding`) to a `width × height` equirect.
    public static func cubeToEquirect(faceSize: Int, padding: Int = 0, width: Int, height: Int,
                                      interpolation: Interpolation = .bilinear) -> ResampleMap {
        MapCache.map(.cubeToEquirect(faceSize: faceSize, padding: padding, width: width, height: height, interpolation)) {
            ResampleMap(width: width, height: height, grid: .cube(faceSize: faceSize, padding: padding), interpolation: interpolation) { x, y in
                let (face, a, b) = CubeFace.locate(Equirect.direction(x: Double(x), y: Double(y), width: width, height: height))
                let half = Double(faceSize) / 2
                return SamplePosition(face: face.rawValue, x: (a + 1) * half - 0.5, y: (b + 1) * half - 0.5)
            }
        }
    }

    /// The map from a `width × height` equirect to a perspective view.
    public static func equirectToView(width: Int, height: Int, view: PerspectiveView,
                                      interpolation: Interpolation = .bilinear) -> ResampleMap {
        MapCache.map(.equirectToView(width: width, height: height, view, interpolation)) {
            let rotation = view.rotation
            return ResampleMap(width: view.width, height: view.height, grid: .equirect(width: width, height: height), interpolation: interpolation) { x, y in
                let d = rotation.apply(view.localRay(x: Double(x), y: Double(y)))
                let (px, py) = Equirect.position(of: d, width: width, height: height)
                return SamplePosition(x: px, y: py)
            }
        }
    }

    /// The map from a perspective view back to a `width × height` equirect: pixels the view
    /// does not see have no source.
    public static func viewToEquirect(view: PerspectiveView, width: Int, height: Int,
                                      interpolation: Interpolation = .bilinear) -> ResampleMap {
        MapCache.map(.viewToEquirect(view, width: width, height: height, interpolation)) {
            let rotation = view.rotation
            return ResampleMap(width: width, height: height, grid: .plane(width: view.width, height: view.height), interpolation: interpolation) { x, y in
                let d = rotation.applyInverse(Equirect.direction(x: Double(x), y: Double(y), width: width, height: height))
                return view.position(ofLocal: d).map { SamplePosition(x: $0.x, y: $0.y) }
            }
        }
    }
}

extension Image {
    /// This image resampled through `map` (which must read a grid of this image's size).
    public func resampled(_ map: ResampleMap, fill: Float = 0) -> Image {
        let pixels = self.pixels.withUnsafeBufferPointer { map.apply(source: $0, channels: channels, fill: fill) }
        return Image(width: map.width, height: map.height, channels: channels, pixels: pixels)
    }

    /// This equirect panorama as six cube faces of `faceSize` pixels, each extended by
    /// `padding` pixels of the sphere beyond its edges (image-level cube padding).
    public func equirectToCube(faceSize: Int, padding: Int = 0, interpolation: Interpolation = .bilinear) -> Cubemap {
        let map = ResampleMap.equirectToCube(width: width, height: height, faceSize: faceSize, padding: padding, interpolation: interpolation)
        return Cubemap(stacked: resampled(map), faceSize: faceSize, padding: padding)
    }

    /// The perspective view `view` cut from this equirect panorama.
    public func equirectToPerspective(_ view: PerspectiveView, interpolation: Interpolation = .bilinear) -> Image {
        resampled(ResampleMap.equirectToView(width: width, height: height, view: view, interpolation: interpolation))
    }

    /// Perspective views (tangent patches, crops) cut from this equirect panorama.
    public func equirectToPerspective(_ views: [PerspectiveView], interpolation: Interpolation = .bilinear) -> [Image] {
        let maps = views.map { ResampleMap.equirectToView(width: width, height: height, view: $0, interpolation: interpolation) }
        let planes = pixels.withUnsafeBufferPointer { ResampleMap.apply(maps, source: $0, channels: channels) }
        return zip(maps, planes).map { Image(width: $0.width, height: $0.height, channels: channels, pixels: $1) }
    }

    /// This perspective image (seen as `view`) pasted onto a `width × height` equirect:
    /// pixels the view does not see are `fill` (NaN marks them for depth).
    public func perspectiveToEquirect(_ view: PerspectiveView, width: Int, height: Int,
                                      interpolation: Interpolation = .bilinear, fill: Float = 0) -> Image {
        precondition(self.width == view.width && self.height == view.height, "a \(self.width)x\(self.height) image for a \(view.width)x\(view.height) view")
        return resampled(ResampleMap.viewToEquirect(view: view, width: width, height: height, interpolation: interpolation), fill: fill)
    }
}

extension Cubemap {
    /// The cubemap as a `width × height` equirect panorama (default 4 × 2 faces). Taps
    /// that cross a face edge read the neighbouring face (or the padding when present).
    public func toEquirect(width: Int? = nil, height: Int? = nil, interpolation: Interpolation = .bilinear) -> Image {
        let w = width ?? 4 * faceSize, h = height ?? w / 2
        return stacked.resampled(ResampleMap.cubeToEquirect(faceSize: faceSize, padding: padding, width: w, height: h, interpolation: interpolation))
    }
}
