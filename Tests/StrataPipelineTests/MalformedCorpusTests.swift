import Foundation
import StrataStages
import XCTest
@testable import StrataPipeline

/// Every file in Fixtures/malformed (made by Tools/make_malformed_pipelines.py) breaks one
/// thing in a valid pipeline; the validator must report exactly that code at that pointer.
final class MalformedCorpusTests: XCTestCase {
    func testEveryMalformedPipelineGetsItsExactDiagnostic() throws {
        let folder = Bundle.module.url(forResource: "malformed", withExtension: nil, subdirectory: "Fixtures")!
        struct Expected: Decodable { var code: String; var pointer: String }
        let expected = try JSONDecoder().decode([String: Expected].self,
                                                from: Data(contentsOf: folder.appendingPathComponent("expected.json")))
        XCTAssertGreaterThanOrEqual(expected.count, 40)
        let validator = PipelineValidator(registry: StageLibrary.registry)
        var codes = Set<String>()
        for (name, want) in expected.sorted(by: { $0.key < $1.key }) {
            let data = try Data(contentsOf: folder.appendingPathComponent(name))
            let errors = validator.validate(data: data).diagnostics.filter { $0.severity == .error }
            XCTAssertEqual(errors.first?.code.rawValue, want.code, "\(name): \(errors)")
            XCTAssertEqual(errors.first?.pointer, want.pointer, "\(name): \(errors)")
            XCTAssertFalse(errors.first?.message.isEmpty ?? true, name)
            codes.insert(want.code)
        }
        // Every error code the validator has is exercised by some file.
        let errorCodes = Set(Diagnostic.Code.allCases.map(\.rawValue)).subtracting(["unused_output"])
        XCTAssertEqual(codes, errorCodes)
        // The valid base still validates cleanly.
        let base = #"{ "version": 1, "name": "base", "inputs": { "video": { "type": "video" } }, "nodes": [ { "id": "frames", "stage": "video.decode", "inputs": { "source": "$inputs.video" }, "params": { "step": 2 } }, { "id": "small", "stage": "image.resize", "inputs": { "image": "frames.image" }, "params": { "width": 320, "height": 180 } }, { "id": "save", "stage": "image.write", "inputs": { "image": "small.image" }, "params": { "pattern": "f/%05d.png" } } ] }"#
        XCTAssertEqual(validator.validate(data: Data(base.utf8)).diagnostics, [])
    }
}
