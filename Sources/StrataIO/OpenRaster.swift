import Foundation
import StrataCore

/// OpenRaster (`.ora`), the layered image format Krita, GIMP and MyPaint open: a ZIP with
/// `mimetype` first and stored, `stack.xml` naming the layers top first, each layer a PNG,
/// a flattened `mergedimage.png` and a thumbnail of at most 256 pixels a side.
public enum OpenRaster {
    /// Writes `layers` (RGBA, straight alpha, all `merged`'s size; the first is the top)
    /// with their names, and `merged` (the image they composite to), atomically.
    public static func write(layers: [(name: String, image: Image)], merged: Image, to url: URL) throws {
        var zip = ZipArchive()
        zip.add("mimetype", Data("image/openraster".utf8))
        var stack = """
        <?xml version="1.0" encoding="UTF-8"?>
        <image version="0.0.5" w="\(merged.width)" h="\(merged.height)">
         <stack>

        """
        for (k, layer) in layers.enumerated() {
            guard layer.image.width == merged.width, layer.image.height == merged.height else {
                throw MediaError(path: url.path, .unsupported("layer \"\(layer.name)\" is \(layer.image.width)x\(layer.image.height), the image \(merged.width)x\(merged.height)"))
            }
            let file = "data/layer\(k).png"
            stack += "  <layer name=\"\(escaped(layer.name))\" src=\"\(file)\" x=\"0\" y=\"0\" opacity=\"1.0\" visibility=\"visible\" composite-op=\"svg:src-over\"/>\n"
            zip.add(file, try PNG.encode(layer.image, path: url.path))
        }
        stack += " </stack>\n</image>\n"
        zip.add("stack.xml", Data(stack.utf8))
        zip.add("mergedimage.png", try PNG.encode(merged, path: url.path))
        let scale = min(1, 256 / Double(max(merged.width, merged.height)))
        let thumbnail = merged.resized(width: max(1, Int((Double(merged.width) * scale).rounded())),
                                       height: max(1, Int((Double(merged.height) * scale).rounded())), filter: .area)
        zip.add("Thumbnails/thumbnail.png", try PNG.encode(thumbnail, path: url.path))
        try AtomicFile.write(try zip.encoded(), to: url)
    }

    static func escaped(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "\"", with: "&quot;")
            .replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
