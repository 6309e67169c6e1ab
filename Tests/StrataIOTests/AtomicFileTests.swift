import Foundation
import XCTest
@testable import StrataCore
@testable import StrataIO

final class AtomicFileTests: XCTestCase {
    func testTemporaryNamesAreHiddenBesideTheTargetAndNameHostAndProcess() throws {
        let folder = try temporaryFolder(self)
        let temporary = try AtomicFile.temporaryURL(for: folder.appendingPathComponent("00001.png"))
        XCTAssertEqual(temporary.deletingLastPathComponent().path, folder.path)
        XCTAssertTrue(temporary.lastPathComponent.hasPrefix(".00001.png.strata-\(TemporaryName.hostName)-\(getpid())-"), temporary.lastPathComponent)
        XCTAssertTrue(temporary.lastPathComponent.hasSuffix(".tmp"))
    }

    func testOnlyTemporaryFilesOfDeadProcessesOnThisMachineAreRemoved() throws {
        let folder = try temporaryFolder(self)
        // A process that has certainly exited.
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/true")
        try child.run()
        child.waitUntilExit()
        let dead = child.processIdentifier
        let host = TemporaryName.hostName
        let names = [
            ".00001.png.strata-\(host)-\(dead)-12345.tmp",        // killed writer here: removed
            ".00002.png.strata-\(host)-\(getpid())-12345.tmp",    // this live process: kept
            ".00003.png.strata-otherbox-\(dead)-12345.tmp",       // another machine on a shared folder: kept
            "00004.png",                                          // an output: kept
            ".notes.tmp",                                         // not Strata's: kept
        ]
        for name in names { try Data([1]).write(to: folder.appendingPathComponent(name)) }
        XCTAssertEqual(AtomicFile.removeAbandoned(in: folder), 1)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted(), names.dropFirst().sorted())
    }
}
