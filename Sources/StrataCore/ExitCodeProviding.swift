/// An error that knows the sysexits code a command-line tool should exit with
/// (64 usage, 65 bad data, 66 missing input, 70 internal, 73 cannot create, 74 I/O).
public protocol ExitCodeProviding: Error {
    var exitCode: Int32 { get }
}
