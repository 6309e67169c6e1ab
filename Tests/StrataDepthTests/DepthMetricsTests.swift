import Foundation
import StrataCore
import XCTest
@testable import StrataDepth

final class DepthMetricsTests: XCTestCase {
    func map(_ values: [Float], width: Int? = nil, kind: DepthKind = .metric) -> DepthMap {
        DepthMap(values: Image(width: width ?? values.count, height: values.count / (width ?? values.count), channels: 1, pixels: values),
                 kind: kind)
    }

    func testHandComputedValues() {
        // g = 1, 2, 4, 5 and p = 1, 2.5, 3, 5: differences 0, 0.5, −1, 0.
        let m = DepthEvaluation.evaluate(map([1, 2.5, 3, 5]), against: map([1, 2, 4, 5]))
        XCTAssertEqual(m.absRel, 0.125, accuracy: 1e-12)
        XCTAssertEqual(m.sqRel, 0.09375, accuracy: 1e-12)
        XCTAssertEqual(m.rmse, 0.3125.squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(m.mae, 0.375, accuracy: 1e-12)
        XCTAssertEqual(m.rmseLog, ((pow(log(1.25), 2) + pow(log(0.75), 2)) / 4).squareRoot(), accuracy: 1e-7)
        XCTAssertEqual(m.delta1, 0.5, "a ratio of exactly 1.25 is not below 1.25")
        XCTAssertEqual(m.delta2, 1)
        XCTAssertEqual(m.delta3, 1)
        XCTAssertEqual(m.validPixels, 4)
    }

    func testPerfectPredictionScoresZeroErrorAndFullDelta() {
        let truth = map([0.5, 1, 2, 7.25, 9])
        let m = DepthEvaluation.evaluate(truth, against: truth)
        XCTAssertEqual([m.absRel, m.sqRel, m.rmse, m.rmseLog, m.mae], [0, 0, 0, 0, 0])
        XCTAssertEqual(m.delta1, 1)
    }

    func testScaleAndShiftInDisparityAreRecoveredExactly() {
        let truth: [Float] = (0..<50).map { 1 + Float($0 * 37 % 91) / 10 }
        // A disparity prediction that is 1/g under a scale of 2 and shift of 0.05.
        let disparity = truth.map { (1 / $0 - 0.05) / 2 }
        let m = DepthEvaluation.evaluate(map(disparity, kind: .inverseRelative), against: map(truth),
                                         options: DepthEvaluationOptions(alignment: .scaleShift, maxDepth: 20))
        XCTAssertEqual(m.scale, 2, accuracy: 1e-6)
        XCTAssertEqual(m.shift, 0.05, accuracy: 1e-7)
        XCTAssertEqual(m.absRel, 0, accuracy: 1e-6)
        XCTAssertEqual(m.delta1, 1)
    }

    func testMedianScalingRecoversScale() {
        let truth: [Float] = [1, 3, 2, 8, 5]
        let m = DepthEvaluation.evaluate(map(truth.map { $0 * 0.25 }, kind: .relative), against: map(truth),
                                         options: DepthEvaluationOptions(alignment: .median))
        XCTAssertEqual(m.scale, 4, accuracy: 1e-12)
        XCTAssertEqual(m.absRel, 0, accuracy: 1e-7)
    }

    func testAlignedPredictionsAreClippedToTheDepthCap() {
        // Ground truth 1…4; after alignment a far outlier would be 100 m, capped at 10.
        let truth: [Float] = [1, 2, 3, 4, 5]
        let prediction: [Float] = [1, 0.5, 1 / 3, 0.25, 0.01]
        let capped = DepthEvaluation.evaluate(map(prediction, kind: .inverseRelative), against: map(truth),
                                              options: DepthEvaluationOptions(alignment: .none, maxDepth: 10))
        XCTAssertEqual(capped.validPixels, 5)
        let aligned = DepthEvaluation.evaluate(map(prediction, kind: .inverseRelative), against: map(truth),
                                               options: DepthEvaluationOptions(alignment: .scaleShift, maxDepth: 10))
        XCTAssertLessThanOrEqual(aligned.rmse, (pow(10 - 5, 2) / 5).squareRoot() + 1e-9)
    }

    func testValidityAndMaskExcludePixels() {
        let truth = map([1, .nan, 2, 0, 4])
        let prediction = map([1, 5, 3, 1, 100])
        var mask = Image(width: 5, height: 1, channels: 1, fill: 1)
        mask[0, 0, 4] = 0
        let m = DepthEvaluation.evaluate(prediction, against: truth, mask: mask)
        XCTAssertEqual(m.validPixels, 2, "NaN and zero ground truth and the masked pixel are skipped")
        XCTAssertEqual(m.absRel, 0.25, accuracy: 1e-12)
    }

    func testLatitudeWeightsFollowCosine() {
        // One column, four rows at latitudes 67.5°, 22.5°, −22.5°, −67.5°; only the top row is wrong.
        let truth = map([1, 1, 1, 1], width: 1)
        let prediction = map([2, 1, 1, 1], width: 1)
        XCTAssertEqual(DepthEvaluation.evaluate(prediction, against: truth).absRel, 0.25, accuracy: 1e-12)
        let weighted = DepthEvaluation.evaluate(prediction, against: truth, options: DepthEvaluationOptions(latitudeWeighted: true))
        let (polar, equatorial) = (cos(67.5 * Double.pi / 180), cos(22.5 * Double.pi / 180))
        XCTAssertEqual(weighted.absRel, polar / (2 * polar + 2 * equatorial), accuracy: 1e-12)
    }

    func testWrapSeam() {
        // Rows 2 wide: (1, 3) and (2, 2); median of all values 2; mean |d0 − dW−1| = 1.
        XCTAssertEqual(SeamMetrics.wrapSeam(map([1, 3, 2, 2], width: 2)), 0.5, accuracy: 1e-12)
        XCTAssertEqual(SeamMetrics.wrapSeam(map([2, 5, 2, 2, 7, 2], width: 3)), 0)
    }

    func testBoundaryGradientRatio() {
        let (w, h) = (16, 6)
        // A vertical ramp in log depth (gradient 0.01 everywhere): boundaries invisible, ratio 1.
        let ramp = DepthMap(values: Image(width: w, height: h, channels: 1) { _, y, _ in exp(0.01 * Float(y)) }, kind: .metric)
        let boundaries = Image(width: w, height: h, channels: 1) { _, _, x in x == 0 || x == 8 ? 1 : 0 }
        XCTAssertEqual(SeamMetrics.boundaryGradientRatio(ramp, boundaries: boundaries), 1, accuracy: 1e-4)
        // Steps of log 2 at x = 7→8 and at the wrap 15→0, both within 2 px of a boundary.
        let stepped = DepthMap(values: Image(width: w, height: h, channels: 1) { _, y, x in
            exp(0.01 * Float(y)) * (x >= 8 ? 2 : 1)
        }, kind: .metric)
        let expected = ((8 * 0.01 + 2 * (log(2.0) * log(2.0) + 0.0001).squareRoot()) / 10) / 0.01
        XCTAssertEqual(SeamMetrics.boundaryGradientRatio(stepped, boundaries: boundaries), expected, accuracy: 1e-3)
    }
}
