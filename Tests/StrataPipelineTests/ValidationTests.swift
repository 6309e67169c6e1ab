import Foundation
import XCTest
@testable import StrataPipeline

final class ValidationTests: XCTestCase {
    let registry = StageRegistry([
        StageDescriptor(name: "video.decode", kind: .source, doc: "Frames of a video.",
                        inputs: [PortSpec("source", .video)], outputs: [PortSpec("image", .image)],
                        params: [ParamSpec("step", .integer(min: 1, max: nil), default: .number(1), doc: "Take every step-th frame.")]),
        StageDescriptor(name: "image.resize", kind: .perFrame, doc: "Resize.",
                        inputs: [PortSpec("image", .image)], outputs: [PortSpec("image", .image)],
                        params: [ParamSpec("width", .integer(min: 1, max: 65536), doc: "Width."),
                                 ParamSpec("filter", .choice(["nearest", "bilinear", "bicubic", "area"]), default: .string("bilinear"), doc: "Filter."),
                                 ParamSpec("scale", .number(min: 0, max: 8), unit: "×", doc: "Scale."),
                                 ParamSpec("antialias", .boolean, default: .bool(true), doc: "Antialias.")]),
        StageDescriptor(name: "depth.estimate", kind: .perFrame, doc: "Depth.",
                        inputs: [PortSpec("image", .image)], outputs: [PortSpec("depth", .depth), PortSpec("confidence", .mask)]),
        StageDescriptor(name: "image.write", kind: .sink, doc: "Write images.",
                        inputs: [PortSpec("image", .image)], params: [ParamSpec("pattern", .string, doc: "printf pattern.")]),
    ])

    func check(_ json: String, file: StaticString = #filePath, line: UInt = #line) -> [Diagnostic] {
        PipelineValidator(registry: registry).validate(data: Data(json.utf8)).diagnostics
    }

    func assertOnly(_ json: String, _ code: Diagnostic.Code, at pointer: String, containing text: String,
                    also: [Diagnostic.Code] = [], file: StaticString = #filePath, line: UInt = #line) {
        let errors = check(json).filter { $0.severity == .error }
        XCTAssertEqual(errors.map(\.code), [code] + also, "\(errors)", file: file, line: line)
        XCTAssertEqual(errors.first?.pointer, pointer, file: file, line: line)
        XCTAssertTrue(errors.first?.message.contains(text) ?? false, "\(errors.first?.message ?? "")", file: file, line: line)
    }

    /// A valid pipeline with one node replaced by `node` (JSON), at index 1.
    func pipeline(resize: String = #"{ "id": "small", "stage": "image.resize", "inputs": { "image": "frames.image" }, "params": { "width": 320 } }"#,
                  write: String = #"{ "id": "save", "stage": "image.write", "inputs": { "image": "small.image" }, "params": { "pattern": "%05d.png" } }"#) -> String {
        """
        { "version": 1, "name": "t", "inputs": { "video": { "type": "video" } },
          "nodes": [
            { "id": "frames", "stage": "video.decode", "inputs": { "source": "$inputs.video" }, "params": { "step": 2 } },
            \(resize),
            \(write)
          ] }
        """
    }

    func testAValidPipelineHasNoDiagnostics() {
        XCTAssertEqual(check(pipeline()), [])
    }

    func testEveryValidationCodeWithItsPointer() {
        assertOnly(pipeline(resize: #"{ "id": "small", "stage": "image.resise", "inputs": { "image": "frames.image" } }"#),
                   .unknownStage, at: "/nodes/1/stage", containing: "did you mean \"image.resize\"")
        assertOnly(pipeline(write: #"{ "id": "frames", "stage": "image.write", "inputs": { "image": "small.image" } }"#),
                   .duplicateID, at: "/nodes/2/id", containing: "already used by /nodes/0")
        assertOnly(pipeline(write: #"{ "id": "save", "stage": "image.write", "inputs": { "image": "small.img" } }"#),
                   .unknownPort, at: "/nodes/2/inputs/image", containing: "node \"small\" has no output \"img\" (available: image)")
        assertOnly(pipeline(write: #"{ "id": "save", "stage": "image.write", "inputs": { "picture": "small.image" } }"#),
                   .unknownPort, at: "/nodes/2/inputs/picture", containing: "no input \"picture\" (available: image)", also: [.missingInput])
        assertOnly(pipeline(write: #"{ "id": "save", "stage": "image.write", "inputs": { "image": "smal.image" } }"#),
                   .unknownNode, at: "/nodes/2/inputs/image", containing: "did you mean \"small\"")
        assertOnly(pipeline(write: #"{ "id": "save", "stage": "image.write", "inputs": { "image": "$inputs.movie" } }"#),
                   .unknownInput, at: "/nodes/2/inputs/image", containing: "no input \"movie\" (declared: video)")
        assertOnly(pipeline(write: #"{ "id": "save", "stage": "image.write", "inputs": { "image": "small" } }"#),
                   .invalidEdge, at: "/nodes/2/inputs/image", containing: "expected \"node.port\"")
        assertOnly(pipeline(write: #"{ "id": "save", "stage": "image.write", "inputs": { } }"#),
                   .missingInput, at: "/nodes/2/inputs", containing: "needs its \"image\" input (image)")
        assertOnly(pipeline(write: #"{ "id": "save", "stage": "image.write", "inputs": { "image": "$inputs.video" } }"#),
                   .typeMismatch, at: "/nodes/2/inputs/image", containing: "carries video, but input \"image\" of image.write takes image")
        assertOnly(pipeline(resize: #"{ "id": "small", "stage": "image.resize", "inputs": { "image": "frames.image" }, "params": { "width": 0 } }"#),
                   .paramInvalid, at: "/nodes/1/params/width", containing: "0 is below the minimum 1")
        assertOnly(pipeline(resize: #"{ "id": "small", "stage": "image.resize", "inputs": { "image": "frames.image" }, "params": { "width": 2.5 } }"#),
                   .paramInvalid, at: "/nodes/1/params/width", containing: "expected an integer")
        assertOnly(pipeline(resize: #"{ "id": "small", "stage": "image.resize", "inputs": { "image": "frames.image" }, "params": { "filter": "lanczos" } }"#),
                   .paramInvalid, at: "/nodes/1/params/filter", containing: "not one of nearest, bilinear, bicubic, area")
        assertOnly(pipeline(resize: #"{ "id": "small", "stage": "image.resize", "inputs": { "image": "frames.image" }, "params": { "antialias": "yes" } }"#),
                   .paramInvalid, at: "/nodes/1/params/antialias", containing: "expected a boolean, got string")
        assertOnly(pipeline(resize: #"{ "id": "small", "stage": "image.resize", "inputs": { "image": "frames.image" }, "params": { "scale": 9 } }"#),
                   .paramInvalid, at: "/nodes/1/params/scale", containing: "above the maximum 8")
        assertOnly(pipeline(resize: #"{ "id": "small", "stage": "image.resize", "inputs": { "image": "frames.image" }, "params": { "widht": 320 } }"#),
                   .unknownParam, at: "/nodes/1/params/widht", containing: "did you mean \"width\"")
        assertOnly(pipeline(resize: #"{ "id": "small", "stage": "image.resize", "inputs": { "image": "save.image" } }"#,
                            write: #"{ "id": "save", "stage": "image.resize", "inputs": { "image": "small.image" } }"#),
                   .cycleDetected, at: "/nodes", containing: "save → small → save", also: [.noSink])
        assertOnly(#"{ "version": 1, "nodes": [ { "id": "a", "stage": "image.resize", "inputs": { "image": "b.image" } }, { "id": "b", "stage": "image.resize", "inputs": { "image": "a.image" } } ] }"#,
                   .cycleDetected, at: "/nodes", containing: "a → b → a", also: [.noSink])
        assertOnly(#"{ "version": 2, "nodes": [ { "id": "s", "stage": "image.write", "inputs": { "image": "$inputs.i" } } ], "inputs": { "i": { "type": "image" } } }"#,
                   .unsupportedVersion, at: "/version", containing: "version 2 is not supported")
        assertOnly(#"{ "version": 1, "inputs": { "v": { "type": "video" } }, "nodes": [ { "id": "f", "stage": "video.decode", "inputs": { "source": "$inputs.v" } } ] }"#,
                   .noSink, at: "/nodes", containing: "nothing writes an output")
    }

    func testEveryProblemIsCollectedAtOnce() {
        let json = pipeline(resize: #"{ "id": "small", "stage": "image.resize", "inputs": { "image": "frames.img" }, "params": { "width": -1, "hue": 3 } }"#,
                            write: #"{ "id": "small", "stage": "image.writ", "inputs": { } }"#)
        let codes = Set(check(json).filter { $0.severity == .error }.map(\.code))
        XCTAssertEqual(codes, [.unknownPort, .paramInvalid, .unknownParam, .duplicateID, .unknownStage])
    }

    func testUnusedOutputsAreWarnings() {
        let json = pipeline(resize: #"{ "id": "depth", "stage": "depth.estimate", "inputs": { "image": "frames.image" } }"#,
                            write: #"{ "id": "save", "stage": "image.write", "inputs": { "image": "frames.image" } }"#)
        let diagnostics = check(json)
        XCTAssertEqual(diagnostics.filter { $0.severity == .error }, [])
        XCTAssertEqual(diagnostics.map(\.code), [.unusedOutput, .unusedOutput])
        XCTAssertEqual(diagnostics.first?.formatted(file: "p.json"), #"p.json:/nodes/1: warning[unused_output]: output "depth" of node "depth" is not used"#)
    }

    func testDecodingProblemsBecomeDiagnosticsWithPointers() {
        let syntax = check("{ \"version\": 1,\n  \"nodes\": [ { \"id\": \"a\" \"stage\": \"x\" } ] }")
        XCTAssertEqual(syntax.map(\.code), [.invalidJSON])
        XCTAssertTrue(syntax[0].message.hasPrefix("invalid JSON at line 2, column 26"), syntax[0].message)
        let wrongType = check(#"{ "version": 1, "nodes": [ { "id": 7, "stage": "image.write" } ] }"#)
        XCTAssertEqual(wrongType.map(\.code), [.invalidType])
        XCTAssertEqual(wrongType.first?.pointer, "/nodes/0/id")
        let missing = check(#"{ "version": 1, "nodes": [ { "id": "a" } ] }"#)
        XCTAssertEqual(missing.map(\.code), [.missingField])
        XCTAssertEqual(missing.first?.pointer, "/nodes/0/stage")
    }

    func testPointersEscapeSlashAndTilde() {
        XCTAssertEqual(Pointer.path(["nodes", 0, "params", "a/b~c"]), "/nodes/0/params/a~1b~0c")
    }
}
