import Foundation
import StrataCore
import StrataIO
import XCTest

/// Runs the built `strata` binary in a fresh folder: the helpers the command tests share.
class CommandTestCase: XCTestCase {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    var binary: URL {
        let products = Bundle.main.bundleURL.pathExtension == "xctest"
            ? Bundle.main.bundleURL.deletingLastPathComponent() : Bundle.main.bundleURL
        return products.appendingPathComponent("strata")
    }

    var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("strata-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
    }

    @discardableResult
    func strata(_ arguments: String...) throws -> Result { try strata(arguments) }

    @discardableResult
    func strata(_ arguments: [String]) throws -> Result {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        process.currentDirectoryURL = folder
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                      stderr: String(decoding: stderr, as: UTF8.self))
    }

    /// The repository's root, where Pipelines/ and samples/ are.
    /// A pipeline of the repository's Pipelines/ folder.
    func pipeline(_ name: String) -> String { repository.appendingPathComponent("Pipelines/\(name)").path }

    /// Files directly in `sub` of the test's folder (hidden ones included), sorted.
    func files(_ sub: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent(sub).path)) ?? []).sorted()
    }

    var repository: URL { URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent() }

    /// A frame whose bars spell its index, as in the IO tests.
    func indexFrame(_ index: Int) -> Image {
        Image(width: 64, height: 48, channels: 3) { _, _, x in (index >> (7 - x / 8)) & 1 == 1 ? 0.9 : 0.1 }
    }

    func readIndex(_ image: Image) -> Int {
        (0..<8).reduce(0) { value, bit in image[1, 24, (7 - bit) * 8 + 4] > 0.5 ? value | 1 << bit : value }
    }

    func makeVideo(_ name: String = "clip.mp4", frames: Int = 20) throws -> URL {
        let url = folder.appendingPathComponent(name)
        let writer = try VideoWriter(url: url, width: 64, height: 48, options: .init(frameRate: 10, keyframeInterval: 5))
        for i in 0..<frames { try writer.append(indexFrame(i)) }
        try writer.finish()
        return url
    }
}
