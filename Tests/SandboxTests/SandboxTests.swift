import Foundation
import Testing

@testable import Sandbox

/// The sandbox needs bubblewrap (`make test` installs it); without it these tests say so and skip.
let sandboxWorks: Bool = {
    switch Sandbox.availability() {
    case .success: return true
    case .failure(let error):
        print("SandboxTests skipped: \(error)")
        return false
    }
}()

func freshFolder() throws -> URL {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("emlab-sandbox-test-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    return folder
}

@Suite(.serialized, .enabled(if: sandboxWorks))
struct SandboxTests {
    @Test func everyProbeHolds() throws {
        let results = try SandboxProbes.run()
        #expect(results.count == SandboxProbes.all.count)
        for result in results {
            #expect(result.held, "\(result.name): \(result.observed)")
        }
    }

    @Test func outputAndStatusComeBack() throws {
        let folder = try freshFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let sandbox = try Sandbox(limits: SandboxLimits(wallSeconds: 10))
        let result = try sandbox.run([Sandbox.python, "-c", "import sys; print(sys.stdin.read().upper()); sys.stderr.write('e'); sys.exit(3)"],
                                     in: folder, stdin: Data("hello".utf8))
        #expect(result.outcome == .exited(3))
        #expect(result.stdoutText == "HELLO\n")
        #expect(result.stderrText == "e")
    }

    @Test func workFolderIsSharedAndReadOnlyBindsAreNot() throws {
        let folder = try freshFolder()
        let shared = try freshFolder()
        defer {
            try? FileManager.default.removeItem(at: folder)
            try? FileManager.default.removeItem(at: shared)
        }
        try Data("given".utf8).write(to: folder.appendingPathComponent("in.txt"))
        try Data("harness".utf8).write(to: shared.appendingPathComponent("h.txt"))
        let sandbox = try Sandbox(limits: SandboxLimits(wallSeconds: 10))
        let code = """
        print(open("in.txt").read(), open("/harness/h.txt").read())
        open("out.txt", "w").write("made")
        try:
            open("/harness/x", "w")
            print("WROTE")
        except OSError as e:
            print("refused", e.errno)
        """
        let result = try sandbox.run([Sandbox.python, "-c", code], in: folder,
                                     readOnly: [SandboxBind(source: shared.path, target: "/harness")])
        #expect(result.succeeded, "\(result.stderrText)")
        #expect(result.stdoutText == "given harness\nrefused 30\n")
        #expect(try String(contentsOf: folder.appendingPathComponent("out.txt"), encoding: .utf8) == "made")
        #expect(!FileManager.default.fileExists(atPath: shared.appendingPathComponent("x").path))
    }

    /// A process the command leaves behind dies with the sandbox: the PID namespace goes when bwrap does.
    @Test func nothingOutlivesTheCommand() throws {
        let folder = try freshFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        // A sleep whose argument no other process has.
        let marker = "300.\(Int.random(in: 100_000...999_999))"
        let sandbox = try Sandbox(limits: SandboxLimits(wallSeconds: 10))
        let result = try sandbox.run(["sh", "-c", "sleep \(marker) & sleep 0.3; tr '\\0' ' ' < /proc/$!/cmdline"], in: folder)
        #expect(result.succeeded)
        #expect(result.stdoutText == "sleep \(marker) ", "the orphan was started")
        Thread.sleep(forTimeInterval: 0.5)
        let processes = try FileManager.default.contentsOfDirectory(atPath: "/proc").filter { $0.allSatisfy(\.isNumber) }
        let survivors = processes.filter { pid in
            ((try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? "") == "sleep\0\(marker)\0"
        }
        #expect(survivors.isEmpty)
    }

    @Test func limitsParse() throws {
        let limits = try SandboxLimits.parse("cpu=3,memory=256M,processes=8,wall=2.5,output=64K,files=1G")
        #expect(limits == SandboxLimits(cpuSeconds: 3, memoryBytes: 256 << 20, processes: 8, wallSeconds: 2.5, outputBytes: 64 << 10,
                                        fileBytes: 1 << 30))
        #expect(throws: SandboxError.self) { try SandboxLimits.parse("cpu=0") }
        #expect(throws: SandboxError.self) { try SandboxLimits.parse("memory=lots") }
        #expect(throws: SandboxError.self) { try SandboxLimits.parse("disk=1G") }
        #expect(throws: SandboxError.self) { try SandboxLimits.parse("cpu") }
    }
}

extension SandboxTests {
    /// A descriptor emlab holds open (a model file, the results store) does not reach the sandbox.
    @Test func openDescriptorsStayOutside() throws {
        let folder = try freshFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let held = open("/etc/hostname", O_RDONLY)
        defer { close(held) }
        #expect(held > 2)
        let sandbox = try Sandbox(limits: SandboxLimits(wallSeconds: 10))
        let result = try sandbox.run([Sandbox.python, "-c", "import os; print(sorted(int(f) for f in os.listdir('/proc/self/fd')))"], in: folder)
        #expect(result.succeeded)
        // 0–2 and the descriptor listdir itself opens.
        let listed = result.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(listed == "[0, 1, 2, 3]", "\(listed)")
    }
}

extension SandboxTests {
    /// Input the command never reads (it has already exited) is dropped, not a SIGPIPE for emlab.
    @Test func unreadInputIsDropped() throws {
        let folder = try freshFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let sandbox = try Sandbox(limits: SandboxLimits(wallSeconds: 10))
        let result = try sandbox.run(["true"], in: folder, stdin: Data(repeating: 65, count: 1 << 20))
        #expect(result.succeeded)
    }
}
