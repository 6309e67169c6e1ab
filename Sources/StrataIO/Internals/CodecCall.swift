import CStrataCodecs

/// Runs a C codec call with a message buffer and turns its result code into a MediaError.
enum CodecCall {
    static func run(path: String, format: String, maxPixels: Int = 0,
                    _ body: (UnsafeMutablePointer<CChar>, Int) -> Int32) throws {
        var message = [CChar](repeating: 0, count: 512)
        let code = message.withUnsafeMutableBufferPointer { body($0.baseAddress!, $0.count) }
        guard code != Int32(STRATA_CODEC_OK) else { return }
        let text = message.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        switch Int(code) {
        case Int(STRATA_CODEC_NOT_THIS_FORMAT): throw MediaError(path: path, .unrecognizedFormat(text))
        case Int(STRATA_CODEC_TRUNCATED): throw MediaError(path: path, .truncated)
        case Int(STRATA_CODEC_TOO_LARGE):
            // The C side reports the size in its message; parse it back for the typed error.
            let dims = text.split(separator: " ").first?.split(separator: "x").compactMap { Int($0) } ?? []
            throw MediaError(path: path, .tooLarge(width: dims.first ?? 0, height: dims.count > 1 ? dims[1] : 0, limit: maxPixels))
        case Int(STRATA_CODEC_NO_MEMORY): throw MediaError(path: path, .corrupt("out of memory (\(text))"))
        case Int(STRATA_CODEC_BAD_ARGUMENT): throw MediaError(path: path, .unsupported(text))
        default: throw MediaError(path: path, .corrupt(text.isEmpty ? "\(format) decoder failed" : text))
        }
    }
}
