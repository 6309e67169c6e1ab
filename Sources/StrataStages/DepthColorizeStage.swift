import StrataCore
import StrataIO
import StrataPipeline

/// `depth.colorize`: a colour preview of depth, near bright.
final class DepthColorizeStage: FrameProcessor {
    static let descriptor = StageDescriptor(
        name: "depth.colorize", kind: .perFrame, doc: "A colour preview of depth, near bright.",
        inputs: [PortSpec("depth", .depth)], outputs: [PortSpec("image", .image)],
        params: [ParamSpec("colormap", .choice(Colormap.allCases.map(\.rawValue)), default: .string("turbo"), doc: "Colour scale."),
                 ParamSpec("min", .number(min: nil, max: nil), unit: "m", doc: "Depth at the near end of the scale (default: per frame)."),
                 ParamSpec("max", .number(min: nil, max: nil), unit: "m", doc: "Depth at the far end of the scale (default: per frame).")])

    private let colormap: Colormap
    private let range: ClosedRange<Float>?

    init(_ context: StageContext) throws {
        colormap = Colormap(rawValue: try context.string("colormap"))!
        let lo = try context.optionalDouble("min"), hi = try context.optionalDouble("max")
        switch (lo, hi) {
        case (nil, nil): range = nil
        case (let lo?, let hi?):
            guard lo < hi else { throw context.invalid("max", "must be above min (\(lo))") }
            range = Float(lo)...Float(hi)
        default: throw context.invalid(lo == nil ? "min" : "max", "give min and max together, or neither for a per-frame scale")
        }
    }

    func process(_ inputs: consuming PortValues, frame: FrameInfo) throws -> PortValues {
        let depth: DepthMap = try inputs.get("depth")
        return PortValues(["image": DepthPreview.render(depth, colormap: colormap, range: range)])
    }
}
