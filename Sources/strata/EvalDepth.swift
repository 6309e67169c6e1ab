import ArgumentParser
import Foundation
import StrataCore
import StrataDepth
import StrataIO

struct EvalDepth: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval-depth",
        abstract: "Score a predicted depth map against ground truth (AbsRel, SqRel, RMSE, RMSE log, MAE, δ).",
        discussion: """
        Each file is read with the depth.json beside it (kind, scale); PNGs without one are \
        millimetres. An inverse-relative prediction is taken as disparity.

        Examples:
          strata eval-depth pred/000001.png gt/000001.png
          strata eval-depth pred.npy gt.png --align scale-shift --max-depth 10 --json
          strata eval-depth pano-pred.pfm pano-gt.png --latitude-weighted \\
              --pred-kind inverse-relative
        """
    )

    @Argument(help: "The predicted depth (.png, .pfm or .npy).")
    var prediction: String

    @Argument(help: "The ground-truth depth (.png, .pfm or .npy).")
    var groundTruth: String

    @Option(help: "Alignment before scoring: none, median, scale-shift (least squares in disparity).")
    var align: String = "none"

    @Option(help: "Ignore ground truth beyond this depth and cap aligned predictions at it (metres).")
    var maxDepth: Double?

    @Option(help: "Ignore ground truth below this depth (metres).")
    var minDepth: Double = 1e-3

    @Flag(help: "Weight rows by cos(latitude), for equirectangular maps.")
    var latitudeWeighted = false

    @Option(help: "A mask image: only pixels above 0.5 are scored.")
    var mask: String?

    @Option(help: "Override the prediction's kind: metric, relative, inverse-relative.")
    var predKind: String?

    @Flag(help: "Print JSON on stdout instead of text.")
    var json = false

    func validate() throws {
        guard DepthAlignment(rawValue: align) != nil else { throw ValidationError("--align must be none, median or scale-shift") }
        if let predKind, DepthKind(rawValue: predKind) == nil {
            throw ValidationError("--pred-kind must be metric, relative or inverse-relative")
        }
        if let maxDepth { guard maxDepth > minDepth else { throw ValidationError("--max-depth must exceed --min-depth") } }
    }

    func run() throws {
        try reportingErrors {
            var predicted = try DepthFile.read(URL(fileURLWithPath: prediction))
            if let predKind, let kind = DepthKind(rawValue: predKind) { predicted.kind = kind }
            let truth = try DepthFile.read(URL(fileURLWithPath: groundTruth))
            guard predicted.width == truth.width, predicted.height == truth.height else {
                throw MediaError(path: prediction, .unsupported(
                    "the prediction is \(predicted.width)x\(predicted.height), the ground truth \(truth.width)x\(truth.height)"))
            }
            let maskImage = try mask.map { try ImageFile.read(URL(fileURLWithPath: $0)).grayscale() }
            if let maskImage, maskImage.width != truth.width || maskImage.height != truth.height {
                throw MediaError(path: mask!, .unsupported("the mask is \(maskImage.width)x\(maskImage.height), the depth \(truth.width)x\(truth.height)"))
            }
            let options = DepthEvaluationOptions(alignment: DepthAlignment(rawValue: align) ?? .none, minDepth: minDepth,
                                                 maxDepth: maxDepth ?? .infinity, latitudeWeighted: latitudeWeighted)
            let metrics = DepthEvaluation.evaluate(predicted, against: truth, mask: maskImage, options: options)
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
                print(String(decoding: try encoder.encode(metrics), as: UTF8.self))
                return
            }
            let rows: [(String, Double)] = [("AbsRel", metrics.absRel), ("SqRel", metrics.sqRel), ("RMSE", metrics.rmse),
                                            ("RMSE log", metrics.rmseLog), ("MAE", metrics.mae), ("δ<1.25", metrics.delta1),
                                            ("δ<1.25²", metrics.delta2), ("δ<1.25³", metrics.delta3)]
            for (name, value) in rows { print(name.padding(toLength: 9, withPad: " ", startingAt: 0) + String(format: "%.4f", value)) }
            print("pixels   \(metrics.validPixels)")
            if options.alignment != .none { print(String(format: "scale    %.6g\nshift    %.6g", metrics.scale, metrics.shift)) }
        }
    }
}
