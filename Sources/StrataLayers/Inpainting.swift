import StrataCore

/// Fills a hole in an image from the rest of it: exemplar patches (``ExemplarFill``: an
/// onion peel with PatchMatch search, then refinement with voting) taken from `source`,
/// and with `disparity` only from the target's depth or behind; where no whole patch fits
/// in the source, each channel as a membrane over the hole. Layers fill what nearer layers
/// hide with it; fluids, the clean plate under the moving water.
public enum Inpainting {
    /// `image` (its channels 0…3 at most are filled) with every `hole` pixel replaced.
    /// Deterministic for a given seed, on any number of threads.
    public static func fill(_ image: Image, hole: [Bool], source: [Bool], disparity: [Float]? = nil, wrap: Bool, seed: UInt64 = 1) -> Image {
        let (w, h) = (image.width, image.height)
        let count = w * h
        guard hole.contains(true) else { return image }
        let exemplar = ExemplarFill(seed: seed)
        if let patched = exemplar.fill(image, hole: hole, source: source, disparity: disparity ?? [Float](repeating: 0, count: count), wrap: wrap) {
            return patched
        }
        var out = image
        for c in 0..<min(image.channels, 4) {
            let plane = Array(image.pixels[(c * count)..<((c + 1) * count)])
            let smooth = MembraneFill.fill(plane, known: source, region: hole, width: w, height: h, wrap: wrap)
            out.pixels.replaceSubrange((c * count)..<((c + 1) * count), with: smooth)
        }
        return out
    }
}
