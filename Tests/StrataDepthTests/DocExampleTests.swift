import Foundation
import StrataCore
import StrataSynth
import XCTest
import StrataDepth

/// The StrataDepth DocC page's sequence example, as written there, on a rendered walk.
final class DocExampleTests: XCTestCase {
    func testTheSequenceExampleRuns() throws {
        let frames = (0..<3).map { k in
            Renderer.render(.indoorRoom, camera: Camera(model: .equirectangular(width: 128, height: 64), position: Vector3(0, 1.5, Double(k) * 0.05)),
                            supersampling: 1).color
        }
        let estimator: any DepthEstimator = PriorDepthEstimator()   // or NetworkDepthEstimator(model:preset:)
        var aligner = TemporalAligner()
        var flicker = FlickerMeter()
        for frame in frames {                                       // [Image], RGB in 0…1
            let estimate = try estimator.estimate(frame, projection: .equirectangular)
            let steady = try aligner.align(estimate.depth, confidence: estimate.confidence)
            flicker.add(steady, image: frame)
        }
        XCTAssertEqual(flicker.framePairs, 2)
        // The prior's room box is refitted per frame on these 128×64 frames, so some flicker
        // stays (the pipeline test bounds it on the sample walk-through).
        XCTAssertLessThan(try XCTUnwrap(flicker.flicker), 0.25)
    }
}
