import Foundation
import XCTest

/// Every command's help read at 80 columns: discussions are paragraphs that ArgumentParser
/// wraps once, so no sentence breaks early and no example line wraps.
final class HelpTextTests: CommandTestCase {
    static let commands = [[], ["info"], ["convert"], ["run"], ["synth"], ["eval-depth"], ["validate"], ["stages"],
                           ["stages", "list"], ["stages", "describe"], ["schema"], ["nn"], ["nn", "info"], ["nn", "run"]]

    func help(_ command: [String]) throws -> String {
        let process = Process()
        process.executableURL = binary
        process.arguments = command + ["--help"]
        process.environment = ProcessInfo.processInfo.environment.merging(["COLUMNS": "80"]) { $1 }
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, command.joined(separator: " "))
        return String(decoding: data, as: UTF8.self)
    }

    /// Problems with the text above USAGE: lines past 80 columns, a line that had room for
    /// the next word (text wrapped twice), a wrapped example.
    static func problems(in text: String) -> [String] {
        let lines = text.components(separatedBy: "\n").prefix { !$0.hasPrefix("USAGE:") }.map { String($0) }
        var found: [String] = []
        for (i, line) in lines.enumerated() {
            if line.count > 80 { found.append("over 80 columns: \(line)") }
            guard i + 1 < lines.count, !line.isEmpty else { continue }
            let next = lines[i + 1]
            guard !next.isEmpty, !next.hasPrefix(" ") else { continue }
            if line.hasPrefix(" ") {
                found.append("an example wrapped: \(line) / \(next)")
            } else if let word = next.split(separator: " ").first, line.count + 1 + word.count < 80 {
                // ArgumentParser fills lines to at most 79 columns.
                found.append("broken mid-paragraph: \(line) / \(next)")
            }
        }
        return found
    }

    func testEveryCommandsHelpReadsWellAt80Columns() throws {
        // Every command the root lists is checked here.
        let root = try help([])
        let listed = root.components(separatedBy: "SUBCOMMANDS:").last!.components(separatedBy: "\n\n").first!.split(separator: "\n")
            .compactMap { $0.hasPrefix("  ") && !$0.hasPrefix("   ") ? $0.split(separator: " ").first.map(String.init) : nil }
        XCTAssertEqual(Set(listed).subtracting(["help"]), Set(Self.commands.compactMap(\.first)), "a command is missing from this test")
        for command in Self.commands {
            XCTAssertEqual(Self.problems(in: try help(command)), [], "strata \(command.joined(separator: " ")) --help")
        }
    }

    func testTheCheckFindsTextWrappedTwice() {
        // What `strata run --help` printed before: hard-wrapped lines wrapped again.
        let broken = """
        OVERVIEW: Run a pipeline.

        --shard i/n takes every n-th chunk of --shard-chunk frames starting with chunk
        i (i from 0), so n batch jobs (a Slurm array, a Kubernetes indexed job) given
        the same output folder together write exactly what one run would. every
        n-th chunk
        Examples:
          strata convert 'frames/%05d.png' clip.mp4 --fps 24     # sequence to H.264
        MP4
        """
        XCTAssertEqual(Self.problems(in: broken).count, 3, "\(Self.problems(in: broken))")
    }
}
