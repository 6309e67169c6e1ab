import StrataCore
import StrataPipeline

/// `image.resize`: OpenCV-compatible resampling; give one side to keep the aspect ratio.
final class ImageResizeStage: FrameProcessor {
    static let descriptor = StageDescriptor(
        name: "image.resize", kind: .perFrame, doc: "Resample to a new size (OpenCV-compatible filters).",
        inputs: [PortSpec("image", .image)], outputs: [PortSpec("image", .image)],
        params: [ParamSpec("width", .integer(min: 1, max: 65536), unit: "px", doc: "Output width (default: from height, aspect kept)."),
                 ParamSpec("height", .integer(min: 1, max: 65536), unit: "px", doc: "Output height (default: from width, aspect kept)."),
                 ParamSpec("filter", .choice(ResizeFilter.allCases.map(\.rawValue)), default: .string("area"), doc: "Resampling filter.")])

    private let width: Int?
    private let height: Int?
    private let filter: ResizeFilter

    init(_ context: StageContext) throws {
        width = try context.optionalInt("width")
        height = try context.optionalInt("height")
        guard width != nil || height != nil else { throw context.invalid("width", "give width, height or both") }
        filter = ResizeFilter(rawValue: try context.string("filter"))!
    }

    func process(_ inputs: consuming PortValues, frame: FrameInfo) throws -> PortValues {
        let image: Image = try inputs.get("image")
        let w = width ?? max(1, Int((Double(image.width) * Double(height!) / Double(image.height)).rounded()))
        let h = height ?? max(1, Int((Double(image.height) * Double(width!) / Double(image.width)).rounded()))
        return PortValues(["image": image.resized(width: w, height: h, filter: filter)])
    }
}
