import ArgumentParser
import Foundation
import Sandbox

/// `emlab sandbox`: the isolation model-written code runs in.
struct SandboxCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sandbox",
        abstract: "Check that isolation works on this host, or run one command inside it.",
        discussion: """
        The sandbox is bubblewrap: no network, a read-only system holding only /usr, a private work \
        folder at /work and a private /tmp, an empty environment, and limits on CPU time, memory, \
        processes, wall clock, output and file size. Without a working sandbox emlab runs no model-written code.
        """,
        subcommands: [Check.self, Run.self])

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run hostile probes (network, writes outside the work folder, fork bomb, endless loop, memory hog, floods) and show whether each was contained.")

        func run() throws {
            let results = try SandboxProbes.run()
            let width = results.map(\.name.count).max() ?? 0
            for result in results {
                let padded = result.name.padding(toLength: width, withPad: " ", startingAt: 0)
                print("\(result.held ? "held  " : "FAILED") \(padded)  \(result.observed)")
                if !result.held { print("       expected: \(result.expectation)") }
            }
            let failed = results.filter { !$0.held }.count
            print(failed == 0 ? "sandbox: all \(results.count) probes held" : "sandbox: \(failed) of \(results.count) probes FAILED")
            if failed > 0 { throw ExitCode(1) }
        }
    }

    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run one command in the sandbox and report how it ended.",
            discussion: """
            Example: emlab sandbox run --limits cpu=2,memory=256M -- python3 -c 'print(1)'. \
            Limits (key=value, comma-separated): cpu (s), memory, processes, wall (s), output, files; \
            sizes take K, M or G. The work folder is a fresh empty one unless --dir names one (then it is \
            given to the sandbox's user when emlab runs as root). The command's own output is passed through; \
            the exit status is the command's, or 125 when a limit or a signal stopped it.
            """)

        @Option(help: "Limits over the defaults, e.g. cpu=5,memory=256M,processes=32,wall=10,output=64K,files=8M.")
        var limits: String?

        @Option(help: "The host folder to use as /work (default: a fresh temporary folder, removed afterwards).")
        var dir: String?

        @Argument(parsing: .captureForPassthrough, help: "The command and its arguments (after --).")
        var command: [String] = []

        func run() throws {
            var words = command
            if words.first == "--" { words.removeFirst() }
            guard !words.isEmpty else { throw ValidationError("give the command after --, e.g. emlab sandbox run -- python3 -c 'print(1)'") }
            let parsed = try limits.map { try SandboxLimits.parse($0) } ?? SandboxLimits()
            let sandbox = try Sandbox(limits: parsed)
            let manager = FileManager.default
            let folder: URL
            if let dir {
                folder = URL(fileURLWithPath: dir)
                var isDirectory: ObjCBool = false
                guard manager.fileExists(atPath: dir, isDirectory: &isDirectory), isDirectory.boolValue else {
                    throw ValidationError("--dir \(dir) is not a folder")
                }
            } else {
                folder = manager.temporaryDirectory.appendingPathComponent("emlab-sandbox-\(UUID().uuidString)")
                try manager.createDirectory(at: folder, withIntermediateDirectories: true)
            }
            defer { if dir == nil { try? manager.removeItem(at: folder) } }
            let result = try sandbox.run(words, in: folder)
            FileHandle.standardOutput.write(result.stdout)
            FileHandle.standardError.write(result.stderr)
            FileHandle.standardError.write(Data("sandbox: \(result.outcome) after \(String(format: "%.2f", result.wallSeconds)) s (\(parsed))\n".utf8))
            switch result.outcome {
            case .exited(let code): if code != 0 { throw ExitCode(code) }
            case .signalled, .stopped: throw ExitCode(125)
            }
        }
    }
}
