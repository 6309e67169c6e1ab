/// An error that is a message and the sysexits code to exit with (65, bad data, unless
/// said otherwise): what depth estimators and pipeline stages raise (`DepthError`,
/// `StageError`), where the message already names the file, frame, node or field.
public struct CodedError: Error, Sendable, Equatable, CustomStringConvertible, ExitCodeProviding {
    public var message: String
    public var exitCode: Int32

    public init(_ message: String, exitCode: Int32 = 65) {
        self.message = message
        self.exitCode = exitCode
    }

    public var description: String { message }
}
