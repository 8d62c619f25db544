import Foundation

/// The `emlab` binary that `swift build --build-tests` puts beside the test bundle, run as a user runs it.
public enum EmlabCLI {
    public static var url: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("emlab")
    }

    public static var built: Bool { FileManager.default.isExecutableFile(atPath: url.path) }

    /// Runs `emlab args` to the end; `environment` entries are set on top of this process's environment.
    /// Standard error is read on its own thread, so neither pipe can fill up and stall the child.
    public static func run(_ args: [String], environment: [String: String] = [:]) throws -> (status: Int32, stdout: String, stderr: String) {
        let p = Process()
        p.executableURL = url
        p.arguments = args
        if !environment.isEmpty {
            p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let errorText = ErrorText()
        let reader = Thread { errorText.data = err.fileHandleForReading.readDataToEndOfFile(); errorText.done.signal() }
        reader.start()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        errorText.done.wait()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: errorText.data, as: UTF8.self))
    }

    /// `run` on a dispatch thread, off the cooperative pool, so that a server in the test process keeps serving.
    public static func runDetached(_ args: [String], environment: [String: String] = [:]) async throws -> (status: Int32, stdout: String, stderr: String) {
        try await withCheckedThrowingContinuation { c in
            DispatchQueue.global().async { c.resume(with: Result { try run(args, environment: environment) }) }
        }
    }

    private final class ErrorText: @unchecked Sendable {
        var data = Data()
        let done = DispatchSemaphore(value: 0)
    }
}
