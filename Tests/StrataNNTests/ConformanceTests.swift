import Foundation
import SwiftProtobuf
import XCTest
@testable import StrataNN

/// The ONNX project's own node tests (Debian's libonnx-testdata): a model of one operator
/// (or its expansion into others), inputs and the expected outputs. Every test whose
/// operators and types the engine takes must match at rtol 1e-4 / atol 1e-5; the tests it
/// refuses at load are counted, with the reason, and must be refused for an honest reason
/// (an operator or attribute the engine does not implement), never for a crash.
final class ConformanceTests: XCTestCase {
    static let root = URL(fileURLWithPath: "/usr/share/libonnx-testdata/data/node")

    struct Tally { var ran = 0, passed = 0, refused = 0 }

    func testONNXNodeTests() throws {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: Self.root.path) else {
            XCTFail("libonnx-testdata is not installed (apt-get install libonnx-testdata): \(Self.root.path) is missing")
            return
        }
        var tally: [String: Tally] = [:]
        var refusals: [String: Int] = [:]
        var failures: [String] = []
        for name in names.sorted() where name.hasPrefix("test_") {
            let folder = Self.root.appendingPathComponent(name)
            let model: Model
            do {
                model = try Model(contentsOf: folder.appendingPathComponent("model.onnx"))
            } catch let error as NNError {
                let key = Self.key(forFolder: folder) ?? name
                tally[key, default: Tally()].refused += 1
                refusals[Self.reason(error), default: 0] += 1
                continue
            }
            let key = Self.key(for: model)
            let sets = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).filter { $0.hasPrefix("test_data_set_") }.sorted()
            var inputsUnreadable = false
            var ok = true
            var why = ""
            for set in sets {
                let data = folder.appendingPathComponent(set)
                let feeds: [String: Tensor], expected: [Tensor]
                do {
                    (feeds, expected) = try Self.load(data, model: model)
                } catch {
                    inputsUnreadable = true
                    why = "\(error)"
                    break
                }
                do {
                    // As the file declares it, and prepared for these inputs' shapes with every
                    // inferred shape checked against what each node makes.
                    let fixed = try Session(model: model, inputShapes: feeds.mapValues(\.shape))
                    fixed.verifiesShapes = true
                    for (label, session) in [("", try Session(model: model)), (" (shapes fixed)", fixed)] {
                        let outputs = try session.run(feeds)
                        let expected = Self.closedFormWindow(name, feeds: feeds) ?? expected
                        for (k, want) in expected.enumerated() {
                            guard let got = outputs[model.outputs[k].name] else { ok = false; why = "output \(k) missing\(label)"; break }
                            if let problem = Self.mismatch(got, want) { ok = false; why = "\(set) output \(k)\(label): \(problem)"; break }
                        }
                        if !ok { break }
                    }
                } catch {
                    ok = false
                    why = "\(set): \(error)"
                }
                if !ok { break }
            }
            if inputsUnreadable {
                // Element types the engine does not hold (strings, float16, …) in the data.
                tally[key, default: Tally()].refused += 1
                refusals["data of an element type the engine does not hold", default: 0] += 1
                continue
            }
            tally[key, default: Tally()].ran += 1
            if ok { tally[key, default: Tally()].passed += 1 } else { failures.append("\(name): \(why)") }
        }
        let ran = tally.values.reduce(0) { $0 + $1.ran }, passed = tally.values.reduce(0) { $0 + $1.passed }
        let refused = tally.values.reduce(0) { $0 + $1.refused }
        var report = "ONNX node tests: \(ran) ran, \(passed) passed, \(refused) refused at load\n"
        for (key, t) in tally.sorted(by: { $0.key < $1.key }) where t.ran > 0 {
            report += "  \(key): \(t.passed)/\(t.ran) passed\(t.refused > 0 ? ", \(t.refused) refused" : "")\n"
        }
        report += "refused, by reason:\n"
        for (reason, n) in refusals.sorted(by: { ($0.value, $1.key) > ($1.value, $0.key) }) { report += "  \(n)× \(reason)\n" }
        print(report)
        XCTAssertGreaterThan(ran, 300, "far fewer node tests ran than the engine's operators cover")
        XCTAssertEqual(failures, [], "\(failures.count) node tests of supported operators failed")
    }

    /// For the expanded window-function tests, the window from its closed form instead of
    /// the stored output. The stored outputs of these six tests are not the window their
    /// own graph computes: they are not even symmetric (hann, size 10: w[2] = 0.3454739 but
    /// w[8] = 0.34556198, where both are 0.5 − 0.5·cos(0.4π) = 0.3454915). The engine's result
    /// must then match a0 − a1·cos(2πn/N) + a2·cos(4πn/N) computed in Double.
    static func closedFormWindow(_ name: String, feeds: [String: Tensor]) -> [Tensor]? {
        let kinds: [String: (Double, Double, Double)] = ["hann": (0.5, 0.5, 0), "hamming": (25.0 / 46, 21.0 / 46, 0), "blackman": (0.42, 0.5, 0.08)]
        guard name.hasSuffix("window_expanded") || name.hasSuffix("window_symmetric_expanded"),
              let kind = kinds.first(where: { name.hasPrefix("test_\($0.key)window") })?.value,
              let size = feeds.values.first?.int64s?.first else { return nil }
        let n = Int(size)
        let period = Double(name.contains("symmetric") ? n - 1 : n)
        let window = (0..<n).map { i -> Float in
            let x = 2 * Double.pi * Double(i) / period
            return Float(kind.0 - kind.1 * cos(x) + kind.2 * cos(2 * x))
        }
        return [Tensor(shape: [n], floats: window)]
    }

    /// The operators a model uses, as the tally's key.
    static func key(for model: Model) -> String {
        let ops = Set(model.nodes.map(\.opType)).sorted()
        return ops.count <= 3 ? ops.joined(separator: "+") : "\(ops.count) ops (expanded functions)"
    }

    /// The key from the raw file when the model does not load (its op types, parsed alone).
    static func key(forFolder folder: URL) -> String? {
        guard let data = try? Data(contentsOf: folder.appendingPathComponent("model.onnx")),
              let proto = try? Onnx_ModelProto(serializedBytes: data) else { return nil }
        let ops = Set(proto.graph.node.map(\.opType)).sorted()
        return ops.count <= 3 ? ops.joined(separator: "+") : "\(ops.count) ops (expanded functions)"
    }

    /// A refusal's reason without the node names, so refusals group.
    static func reason(_ error: NNError) -> String {
        switch error {
        case .unsupportedOperators(_, let list):
            return list.map { $0.split(separator: ":", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) } ?? $0 }
                .sorted().first ?? "unsupported"
        case .invalidModel(_, let why): return why.replacingOccurrences(of: #"\"[^\"]*\""#, with: "…", options: .regularExpression)
        default: return error.description
        }
    }

    /// The inputs (by graph input name) and expected outputs of one data set.
    static func load(_ folder: URL, model: Model) throws -> ([String: Tensor], [Tensor]) {
        func tensors(_ prefix: String) throws -> [(String, Tensor)] {
            var result: [(String, Tensor)] = []
            var i = 0
            while true {
                let url = folder.appendingPathComponent("\(prefix)_\(i).pb")
                guard let data = try? Data(contentsOf: url) else { break }
                let proto = try Onnx_TensorProto(serializedBytes: data)
                result.append((proto.name, try Tensor(proto: proto, folder: nil)))
                i += 1
            }
            return result
        }
        var feeds: [String: Tensor] = [:]
        for (i, (name, tensor)) in try tensors("input").enumerated() {
            let declared = i < model.inputs.count ? model.inputs[i].name : name
            feeds[name.isEmpty ? declared : name] = tensor
        }
        return (feeds, try tensors("output").map(\.1))
    }

    /// Why `got` differs from `want` beyond rtol 1e-4 / atol 1e-5, or nil.
    static func mismatch(_ got: Tensor, _ want: Tensor) -> String? {
        guard got.shape == want.shape else { return "shape \(got.shape), expected \(want.shape)" }
        switch (got.storage, want.storage) {
        case (.float(let a), .float(let b)):
            for i in a.indices {
                if a[i].isNaN && b[i].isNaN { continue }
                if a[i] == b[i] { continue }  // equal infinities
                if !(abs(a[i] - b[i]) <= 1e-5 + 1e-4 * abs(b[i])) { return "element \(i): \(a[i]), expected \(b[i])" }
            }
        case (.int64(let a), .int64(let b)):
            if let i = a.indices.first(where: { a[$0] != b[$0] }) { return "element \(i): \(a[i]), expected \(b[i])" }
        case (.bool(let a), .bool(let b)):
            if let i = a.indices.first(where: { a[$0] != b[$0] }) { return "element \(i): \(a[i]), expected \(b[i])" }
        default:
            return "type \(got.dataType), expected \(want.dataType)"
        }
        return nil
    }
}
