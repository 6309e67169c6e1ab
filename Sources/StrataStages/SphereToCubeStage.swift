import StrataCore
import StrataPipeline
import StrataSphere

/// `sphere.toCube`: an equirect panorama as six cube faces, optionally padded from the sphere.
final class SphereToCubeStage: FrameProcessor {
    static let descriptor = StageDescriptor(
        name: "sphere.toCube", kind: .perFrame, doc: "Equirect panorama → six cube faces F R B L U D, padded from the sphere if asked.",
        inputs: [PortSpec("image", .image, doc: "An equirect panorama (any channel count).")],
        outputs: [PortSpec("faces", .cube)],
        params: [ParamSpec("faceSize", .integer(min: 1, max: 16384), unit: "px", doc: "Pixels across a face (default: a quarter of the panorama's width)."),
                 ParamSpec("padding", .integer(min: 0, max: 4096), default: .number(0), unit: "px", doc: "Pixels of the sphere beyond each face edge (image-level cube padding)."),
                 interpolationParam])

    private let faceSize: Int?
    private let padding: Int
    private let interpolation: Interpolation

    init(_ context: StageContext) throws {
        faceSize = try context.optionalInt("faceSize")
        padding = try context.int("padding")
        interpolation = try context.interpolation()
        if let faceSize, padding > faceSize { throw context.invalid("padding", "\(padding) is more than the face size \(faceSize)") }
    }

    func process(_ inputs: consuming PortValues, frame: FrameInfo) throws -> PortValues {
        let image: Image = try inputs.get("image")
        let n = faceSize ?? max(1, image.width / 4)
        guard padding <= n else { throw StageError("padding \(padding) is more than the face size \(n)", exitCode: 65) }
        return PortValues(["faces": image.equirectToCube(faceSize: n, padding: padding, interpolation: interpolation)])
    }
}
