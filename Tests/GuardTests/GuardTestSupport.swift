import Foundation
@testable import Guard
@testable import GuardMonitor
import TestSupport

/// The fixed machine the rule tests judge on: HOME /home/agent, workspace /home/agent/project.
enum GuardFixture {
    static let policy: Policy = try! GuardResources.policy(explicit: nil, environment: ValidationEnvironment.environment)
    static let engine = GuardEngine(policy: policy, environment: ValidationEnvironment.environment)

    static func bash(_ command: String, cwd: String = ValidationEnvironment.workspace) -> GuardAction {
        GuardAction(tool: "Bash", input: .object(["command": .string(command)]), cwd: cwd, workspace: ValidationEnvironment.workspace, session: "t")
    }

    static func decide(_ command: String, cwd: String = ValidationEnvironment.workspace) -> GuardDecision {
        engine.evaluate(bash(command, cwd: cwd))
    }

    /// The hook binary beside the test bundle.
    static var hookURL: URL { EmlabCLI.url.deletingLastPathComponent().appendingPathComponent("emlab-guard-hook") }

    /// Runs a built binary with `stdin` and extra environment; (status, stdout, stderr).
    static func run(_ url: URL, _ args: [String], stdin: String, environment: [String: String] = [:]) throws -> (Int32, String, String) {
        let p = Process()
        p.executableURL = url
        p.arguments = args
        p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let input = Pipe(), out = Pipe(), err = Pipe()
        p.standardInput = input
        p.standardOutput = out
        p.standardError = err
        try p.run()
        input.fileHandleForWriting.write(Data(stdin.utf8))
        try input.fileHandleForWriting.close()
        let errorData = Box()
        let done = DispatchSemaphore(value: 0)
        let reader = Thread { errorData.value = err.fileHandleForReading.readDataToEndOfFile(); done.signal() }
        reader.start()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        done.wait()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: errorData.value, as: UTF8.self))
    }

    final class Box: @unchecked Sendable {
        private let lock = NSLock()
        private var stored = Data()
        var value: Data {
            get { lock.withLock { stored } }
            set { lock.withLock { stored = newValue } }
        }
    }
}
