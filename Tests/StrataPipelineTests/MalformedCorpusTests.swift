import Foundation
import StrataCore
import StrataIO
import StrataPipeline
import StrataStages
import XCTest

/// Every file in Fixtures/malformed (made by Tools/make_malformed_pipelines.py) breaks one
/// thing in a valid pipeline or in the command line that runs it; building the run must
/// report exactly that code at that pointer, with that exit code, and never crash.
final class MalformedCorpusTests: XCTestCase {
    struct Expected: Decodable {
        struct Args: Decodable {
            var inputs: [String: String]
            var set: [String]?
            var outputDir: String?
            var frames: String?
            var finalize: Bool?
        }
        var code: String
        var pointer: String
        var exit: Int32
        var args: Args
    }

    /// Files the placeholders in args stand for.
    struct Places {
        let root: URL
        var video: URL { root.appendingPathComponent("clip.mp4") }
        var text: URL { root.appendingPathComponent("notes.mp4") }

        init() throws {
            root = FileManager.default.temporaryDirectory.appendingPathComponent("strata-corpus-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
            let writer = try VideoWriter(url: root.appendingPathComponent("clip.mp4"), width: 32, height: 24, options: .init(frameRate: 10))
            for i in 0..<12 { try writer.append(Image(width: 32, height: 24, channels: 3) { _, y, x in Float((x + y + i) % 7) / 7 }) }
            try writer.finish()
            try Data("not a video\n".utf8).write(to: root.appendingPathComponent("notes.mp4"))
        }

        func substitute(_ text: String) -> String {
            text.replacingOccurrences(of: "$video", with: video.path)
                .replacingOccurrences(of: "$text", with: text == "$text" ? self.text.path : text)
                .replacingOccurrences(of: "$folder", with: root.path)
                .replacingOccurrences(of: "$missing", with: root.appendingPathComponent("missing").path)
                .replacingOccurrences(of: "$underFile", with: self.text.path + "/out")
        }
    }

    static var corpus: URL { Bundle.module.url(forResource: "malformed", withExtension: nil, subdirectory: "Fixtures")! }

    func testEveryMalformedPipelineGetsItsExactDiagnosticAndExitCode() throws {
        let folder = Self.corpus
        let expected = try JSONDecoder().decode([String: Expected].self, from: Data(contentsOf: folder.appendingPathComponent("expected.json")))
        XCTAssertGreaterThanOrEqual(expected.count, 60)
        let places = try Places()
        defer { try? FileManager.default.removeItem(at: places.root) }
        var codes = Set<String>()
        for (name, want) in expected.sorted(by: { $0.key < $1.key }) {
            let data = try Data(contentsOf: folder.appendingPathComponent(name))
            var options = RunOptions(outputDirectory: URL(fileURLWithPath: want.args.outputDir.map(places.substitute)
                                                          ?? places.root.appendingPathComponent("out-\(name)").path))
            options.baseDirectory = folder
            options.inputs = want.args.inputs.mapValues(places.substitute)
            options.overrides = want.args.set ?? []
            if let frames = want.args.frames { options.frames = try FrameRange(parsing: frames) }
            options.finalize = want.args.finalize ?? false
            do {
                _ = try PipelineRun(data: data, registry: StageLibrary.registry, options: options)
                XCTFail("\(name): the run was built")
            } catch let error as PipelineError {
                let errors = error.diagnostics.filter { $0.severity == .error }
                XCTAssertEqual(errors.first?.code.rawValue, want.code, "\(name): \(errors)")
                XCTAssertEqual(errors.first?.pointer, want.pointer, "\(name): \(errors)")
                XCTAssertFalse(errors.first?.message.isEmpty ?? true, name)
                XCTAssertEqual(error.exitCode, want.exit, "\(name): \(errors)")
            }
            codes.insert(want.code)
            // Nothing was created for a run that never started.
            XCTAssertFalse(FileManager.default.fileExists(atPath: places.root.appendingPathComponent("out-\(name)").path), name)
        }
        // Every error code is exercised by some file (resume_unsupported and not_shardable need a
        // sink or stage no built-in one is; RunnerTests has them).
        let errorCodes = Set(Diagnostic.Code.allCases.map(\.rawValue)).subtracting(["unused_output", "resume_unsupported", "not_shardable"])
        XCTAssertEqual(codes, errorCodes)
    }

    func testTheBaseOfTheCorpusRuns() throws {
        let base = #"{ "version": 1, "name": "base", "inputs": { "video": { "type": "video" } }, "nodes": [ { "id": "frames", "stage": "video.decode", "inputs": { "source": "$inputs.video" }, "params": { "step": 2 } }, { "id": "small", "stage": "image.resize", "inputs": { "image": "frames.image" }, "params": { "width": 320, "height": 180 } }, { "id": "save", "stage": "image.write", "inputs": { "image": "small.image" }, "params": { "pattern": "f/%05d.png" } } ] }"#
        XCTAssertEqual(PipelineValidator(registry: StageLibrary.registry).validate(data: Data(base.utf8)).diagnostics, [])
        let places = try Places()
        defer { try? FileManager.default.removeItem(at: places.root) }
        var options = RunOptions(outputDirectory: places.root.appendingPathComponent("out"))
        options.inputs = ["video": places.video.path]
        let summary = try PipelineRun(data: Data(base.utf8), registry: StageLibrary.registry, options: options).run()
        XCTAssertEqual(summary.processed, 6)
        XCTAssertEqual(try ImageFile.info(places.root.appendingPathComponent("out/f/00006.png")).width, 320)
    }
}
