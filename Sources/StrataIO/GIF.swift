import Foundation
import StrataCore

/// Animated GIF (GIF89a) that loops forever: what a surface-fluid loop is shared as. One
/// palette of at most 256 colours serves every frame (median cut over the frames' pixels,
/// so a loop does not flicker between palettes); each pixel takes the nearest palette
/// colour through a 32 × 32 × 32 table; the indices are LZW-compressed.
public enum GIF {
    /// The file for `frames` (RGB or more channels, 0…1, one size), shown `delay`
    /// hundredths of a second each.
    public static func encode(_ frames: [Image], delay: Int) -> Data {
        precondition(!frames.isEmpty)
        let (w, h) = (frames[0].width, frames[0].height)
        let bytes = frames.map { rgb8($0) }
        let palette = medianCut(bytes, colours: 256)
        let table = nearestTable(palette)
        var out = Data("GIF89a".utf8)
        func u16(_ v: Int) { out.append(UInt8(v & 0xFF)); out.append(UInt8(v >> 8 & 0xFF)) }
        // Logical screen: a global colour table of 256 entries (size field 7: 2^(7+1)).
        u16(w); u16(h)
        out.append(contentsOf: [0xF7, 0, 0])
        for k in 0..<256 {
            let c = k < palette.count ? palette[k] : SIMD3<UInt8>(0, 0, 0)
            out.append(contentsOf: [c.x, c.y, c.z])
        }
        // NETSCAPE2.0: loop forever.
        out.append(contentsOf: [0x21, 0xFF, 0x0B] + Array("NETSCAPE2.0".utf8) + [0x03, 0x01, 0x00, 0x00, 0x00])
        for frame in bytes {
            // Graphic control: no transparency, the delay.
            out.append(contentsOf: [0x21, 0xF9, 0x04, 0x00])
            u16(delay)
            out.append(contentsOf: [0x00, 0x00])
            // Image descriptor: the whole screen, the global table.
            out.append(0x2C)
            u16(0); u16(0); u16(w); u16(h)
            out.append(0)
            var indices = [UInt8](repeating: 0, count: w * h)
            for i in 0..<(w * h) {
                let (r, g, b) = (Int(frame[3 * i]) >> 3, Int(frame[3 * i + 1]) >> 3, Int(frame[3 * i + 2]) >> 3)
                indices[i] = table[r << 10 | g << 5 | b]
            }
            out.append(8)  // LZW minimum code size
            let compressed = lzw(indices)
            var start = 0
            while start < compressed.count {
                let n = min(255, compressed.count - start)
                out.append(UInt8(n))
                out.append(contentsOf: compressed[start..<(start + n)])
                start += n
            }
            out.append(0)
        }
        out.append(0x3B)
        return out
    }

    /// Writes the GIF atomically; `fps` sets the delay (GIF counts hundredths of a second).
    public static func write(_ frames: [Image], fps: Double, to url: URL) throws {
        try AtomicFile.write(encode(frames, delay: max(1, Int((100 / fps).rounded()))), to: url)
    }

    /// Interleaved 8-bit RGB (a grey image repeated in all three).
    static func rgb8(_ image: Image) -> [UInt8] {
        let plane = image.width * image.height
        var out = [UInt8](repeating: 0, count: 3 * plane)
        for c in 0..<3 {
            let source = min(c, image.channels - 1)
            for i in 0..<plane {
                out[3 * i + c] = UInt8(max(0, min(255, (image.pixels[source * plane + i] * 255).rounded())))
            }
        }
        return out
    }

    /// At most `colours` colours for the pixels of every frame: boxes of colours split at
    /// the median of their widest channel, the most populous wide box first; each colour
    /// the mean of its box. Samples a fixed number of pixels spread over the frames.
    static func medianCut(_ frames: [[UInt8]], colours: Int) -> [SIMD3<UInt8>] {
        let total = frames.reduce(0) { $0 + $1.count / 3 }
        let stride = max(1, total / 200_000)
        var samples: [SIMD3<UInt8>] = []
        var n = 0
        for frame in frames {
            for i in Swift.stride(from: 0, to: frame.count / 3, by: 1) {
                if n % stride == 0 { samples.append(SIMD3(frame[3 * i], frame[3 * i + 1], frame[3 * i + 2])) }
                n += 1
            }
        }
        /// A box's widest channel and its range there.
        func widest(_ box: ArraySlice<SIMD3<UInt8>>) -> (channel: Int, range: Int) {
            var low = SIMD3<UInt8>(255, 255, 255), high = SIMD3<UInt8>(0, 0, 0)
            for c in box { low = pointwiseMin(low, c); high = pointwiseMax(high, c) }
            let range = [Int(high.x) - Int(low.x), Int(high.y) - Int(low.y), Int(high.z) - Int(low.z)]
            let channel = range[0] >= range[1] && range[0] >= range[2] ? 0 : (range[1] >= range[2] ? 1 : 2)
            return (channel, range[channel])
        }
        var boxes: [(colours: ArraySlice<SIMD3<UInt8>>, channel: Int, range: Int)] = []
        func add(_ box: ArraySlice<SIMD3<UInt8>>) { let (channel, range) = widest(box); boxes.append((box, channel, range)) }
        add(samples[...])
        while boxes.count < colours {
            // The box to split: the largest range weighted by its pixels.
            var best = -1, bestScore = 0
            for (k, box) in boxes.enumerated() where box.colours.count > 1 && box.range * box.colours.count > bestScore {
                (best, bestScore) = (k, box.range * box.colours.count)
            }
            guard best >= 0 else { break }
            let channel = boxes[best].channel
            let sorted = boxes[best].colours.sorted { $0[channel] < $1[channel] }
            let middle = sorted.count / 2
            boxes.remove(at: best)
            add(sorted[..<middle])
            add(sorted[middle...])
        }
        return boxes.map(\.colours).map { box in
            var sum = SIMD3<Int>(0, 0, 0)
            for c in box { sum &+= SIMD3<Int>(Int(c.x), Int(c.y), Int(c.z)) }
            let mean = (sum &+ SIMD3(repeating: box.count / 2)) / SIMD3(repeating: max(1, box.count))
            return SIMD3<UInt8>(UInt8(mean.x), UInt8(mean.y), UInt8(mean.z))
        }
    }

    /// Per cell of a 32-level RGB cube (5 bits a channel), the nearest palette colour to its centre.
    static func nearestTable(_ palette: [SIMD3<UInt8>]) -> [UInt8] {
        var table = [UInt8](repeating: 0, count: 32 * 32 * 32)
        let (r, g, b) = (palette.map { Int($0.x) }, palette.map { Int($0.y) }, palette.map { Int($0.z) })
        for cell in 0..<table.count {
            let (cr, cg, cb) = ((cell >> 10) << 3 | 4, ((cell >> 5) & 31) << 3 | 4, (cell & 31) << 3 | 4)
            var best = 0, bestDistance = Int.max
            for k in 0..<palette.count {
                let (dr, dg, db) = (r[k] - cr, g[k] - cg, b[k] - cb)
                let distance = dr * dr + dg * dg + db * db
                if distance < bestDistance { (best, bestDistance) = (k, distance) }
            }
            table[cell] = UInt8(best)
        }
        return table
    }

    /// GIF's variable-width LZW over 8-bit indices: codes from 9 bits up to 12, a clear code
    /// when the table is full, packed least significant bit first.
    static func lzw(_ indices: [UInt8]) -> [UInt8] {
        let clear = 256, end = 257
        // next[prefix · 256 + byte]: the code for prefix + byte, valid when its stamp is the
        // table's generation (so a clear costs nothing).
        var next = [Int16](repeating: 0, count: 4096 * 256)
        var stamp = [UInt32](repeating: 0, count: 4096 * 256)
        var generation: UInt32 = 1
        var out: [UInt8] = []
        out.reserveCapacity(indices.count / 2)
        var buffer = 0, bits = 0
        var width = 9, available = 258
        func emit(_ code: Int) {
            buffer |= code << bits
            bits += width
            while bits >= 8 {
                out.append(UInt8(buffer & 0xFF))
                buffer >>= 8
                bits -= 8
            }
        }
        emit(clear)
        guard var prefix = indices.first.map(Int.init) else {
            emit(end)
            if bits > 0 { out.append(UInt8(buffer & 0xFF)) }
            return out
        }
        // Whether the next code is the first after a clear (for which the decoder adds no entry).
        var first = true
        for byte in indices.dropFirst() {
            let key = prefix << 8 | Int(byte)
            if stamp[key] == generation {
                prefix = Int(next[key])
                continue
            }
            emit(prefix)
            first = false
            if available < 4096 {
                (next[key], stamp[key]) = (Int16(available), generation)
                // The decoder widens one code later than the encoder adds it.
                if available == 1 << width && width < 12 { width += 1 }
                available += 1
            } else {
                emit(clear)
                generation += 1
                (width, available, first) = (9, 258, true)
            }
            prefix = Int(byte)
        }
        emit(prefix)
        // Reading that last code, the decoder adds the entry the encoder added one code
        // before, and may widen before the end code.
        if !first && available == 1 << width && width < 12 { width += 1 }
        emit(end)
        if bits > 0 { out.append(UInt8(buffer & 0xFF)) }
        return out
    }
}
