import Foundation
import StrataCore
import StrataPipeline
import XCTest

/// The example of StrataPipeline's DocC page, run as written (prints collected instead).
final class DocExampleTests: XCTestCase {
    final class Count: FrameSource {
        let frameCount: Int
        init(_ n: Int) { frameCount = n }
        func read(_ index: Int) throws -> PortValues { PortValues(["value": index]) }
    }

    final class Show: FrameSink {
        let seen = Mutex<[Int: Int]>([:])
        func outputs(for frame: FrameInfo) -> [URL]? { [] }
        func write(_ inputs: consuming PortValues, frame: FrameInfo) throws {
            let value = try inputs.get("value", as: Int.self)
            seen.withLock { $0[frame.number] = value }
        }
    }

    func testTheDocCExampleRunsAsDescribed() throws {
        let show = Show()
        var registry = StageRegistry()
        registry.register(StageDescriptor(name: "demo.count", kind: .source, doc: "0, 1, 2, …",
                                          outputs: [PortSpec("value", .number)],
                                          params: [ParamSpec("frames", .integer(min: 1, max: nil), default: .number(10), doc: "How many.")])) {
            .source(Count(try $0.int("frames")))
        }
        registry.register(StageDescriptor(name: "demo.show", kind: .sink, doc: "Prints.",
                                          inputs: [PortSpec("value", .number)])) { _ in .sink(show) }
        let json = #"{ "version": 1, "nodes": [ { "id": "n", "stage": "demo.count" }, { "id": "s", "stage": "demo.show", "inputs": { "value": "n.value" } } ] }"#
        var options = RunOptions(outputDirectory: FileManager.default.temporaryDirectory.appendingPathComponent("strata-doc-\(UUID().uuidString)"))
        options.frames = try FrameRange(parsing: "2-8x2")
        defer { try? FileManager.default.removeItem(at: options.outputDirectory) }
        let counts = Mutex<[Int]>([])
        let run = try PipelineRun(data: Data(json.utf8), registry: registry, options: options)
        let summary = try run.run { progress in counts.withLock { $0.append(progress.done) } }
        XCTAssertEqual(summary.processed, 4)
        XCTAssertEqual(show.seen.withLock { $0 }, [1: 2, 2: 4, 3: 6, 4: 8])
        XCTAssertEqual(counts.withLock { $0 }, [1, 2, 3, 4])

        let broken = json.replacingOccurrences(of: "n.value", with: "n.valeu")
        XCTAssertThrowsError(try PipelineRun(data: Data(broken.utf8), registry: registry, options: options)) { error in
            XCTAssertEqual((error as? PipelineError)?.diagnostics.first?.formatted(file: "p.json"),
                           #"p.json:/nodes/1/inputs/value: error[unknown_port]: node "n" has no output "valeu" (available: value)"#)
        }
    }
}
