import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import StrataCore
import StrataIO

@main
struct Strata: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "strata",
        abstract: "Depth and layered scenes from images and video.",
        discussion: "Exit codes follow sysexits: 64 usage, 65 bad data, 66 missing or unreadable input, 73 cannot create output.",
        version: "0.1.0",
        subcommands: [Run.self, Validate.self, Stages.self, Schema.self, Info.self, Convert.self, Synth.self, EvalDepth.self, NN.self]
    )

    static func main() {
        // A parent may start us with a standard stream closed; the first file opened would
        // then become "stderr" and messages would be written into it. /dev/null takes the place.
        for fd in Int32(0)...2 where fcntl(fd, F_GETFD) == -1 { _ = open("/dev/null", O_RDWR) }
        Interruption.install()  // before any other thread starts
        main(nil)
    }
}

/// Runs a command body, turning Strata's typed errors into a message on stderr and a sysexits code.
func reportingErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as MediaError {
        printError(error.description)
        throw ExitCode(error.exitCode)
    } catch let error as FrameRangeError {
        printError(error.description)
        throw ExitCode(64)
    } catch let error as UsageError {
        printError(error.message)
        throw ExitCode(64)
    }
}

/// A command line that asks for something impossible.
struct UsageError: Error {
    var message: String
}

func printError(_ message: String) {
    FileHandleStream.standardError.write("strata: error: \(message)\n")
}
