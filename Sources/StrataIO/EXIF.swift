/// The few EXIF fields Strata reads and writes.
public enum EXIF {
    /// The orientation tag (0x0112, values 1–8) in a TIFF-structured EXIF block, or nil.
    ///
    /// `block` is the APP1 payload after "Exif\0\0". Every offset is bounds-checked, so a
    /// damaged block yields nil rather than a crash.
    public static func orientation(in block: [UInt8]) -> Int? {
        guard let tiff = TIFF(block), let ifd0 = tiff.u32(4), let value = tiff.value(of: 0x0112, inIFD: ifd0) else { return nil }
        return (1...8).contains(value) ? value : nil
    }

    /// The focal length in 35 mm film terms (tag 0xA405 of the Exif sub-IFD, in mm), or
    /// nil: what phones and most cameras record, and what gives a photo's field of view
    /// without knowing its sensor. Bounds-checked as `orientation(in:)` is.
    public static func focalLength35mm(in block: [UInt8]) -> Int? {
        guard let tiff = TIFF(block), let ifd0 = tiff.u32(4),
              let exif = tiff.value(of: 0x8769, inIFD: ifd0), let value = tiff.value(of: 0xA405, inIFD: exif) else { return nil }
        return value > 0 ? value : nil
    }

    /// A TIFF structure's byte order and bounds-checked reads.
    private struct TIFF {
        let block: [UInt8]
        let little: Bool

        init?(_ block: [UInt8]) {
            guard block.count >= 8 else { return nil }
            switch (block[0], block[1]) {
            case (0x49, 0x49): little = true
            case (0x4D, 0x4D): little = false
            default: return nil
            }
            self.block = block
            guard u16(2) == 42 else { return nil }
        }

        func u16(_ at: Int) -> Int? {
            guard at >= 0, at + 2 <= block.count else { return nil }
            let a = Int(block[at]), b = Int(block[at + 1])
            return little ? a | b << 8 : a << 8 | b
        }

        func u32(_ at: Int) -> Int? {
            guard let lo = u16(little ? at : at + 2), let hi = u16(little ? at + 2 : at) else { return nil }
            return lo | hi << 16
        }

        /// A SHORT or LONG entry's value in the IFD at `ifd`.
        func value(of tag: Int, inIFD ifd: Int) -> Int? {
            guard let count = u16(ifd) else { return nil }
            for entry in 0..<count {
                let at = ifd + 2 + entry * 12
                guard let found = u16(at), let type = u16(at + 2) else { return nil }
                guard found == tag else { continue }
                switch type {
                case 3: return u16(at + 8)
                case 4: return u32(at + 8)
                default: return nil
                }
            }
            return nil
        }
    }

    /// A minimal big-endian EXIF block holding only an orientation tag.
    public static func block(orientation: Int) -> [UInt8] {
        precondition((1...8).contains(orientation), "EXIF orientation is 1 to 8")
        return [0x4D, 0x4D, 0x00, 0x2A, 0x00, 0x00, 0x00, 0x08,  // TIFF header, IFD0 at offset 8
                0x00, 0x01,                                      // one entry
                0x01, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01,  // orientation, SHORT, count 1
                0x00, UInt8(orientation), 0x00, 0x00,
                0x00, 0x00, 0x00, 0x00]                          // no next IFD
    }
}
