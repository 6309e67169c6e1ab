import StrataCore
import StrataPipeline
import StrataSphere

/// The interpolation param every sphere stage shares.
let interpolationParam = ParamSpec("interpolation", .choice(Interpolation.allCases.map(\.rawValue)), default: .string("bilinear"),
                                   doc: "Sampling: bilinear, bicubic, or nearest for ids and masks.")

extension StageContext {
    func interpolation() throws -> Interpolation { Interpolation(rawValue: try string("interpolation"))! }
}
