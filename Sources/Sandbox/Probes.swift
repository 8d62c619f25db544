import Foundation

/// One isolation check: a hostile little program run in the sandbox, and whether the sandbox held.
public struct SandboxProbe: Sendable {
    public var name: String
    /// What holding means, in words.
    public var expectation: String
    var limits: SandboxLimits
    var command: @Sendable (_ hostPort: Int, _ hostFolder: String) -> [String]
    var held: @Sendable (SandboxResult) -> Bool
}

/// A probe's result.
public struct SandboxProbeResult: Sendable {
    public var name: String
    public var expectation: String
    public var held: Bool
    /// How the command ended and what it said that matters.
    public var observed: String
}

public enum SandboxProbes {
    /// Short limits so that the probes finish in seconds.
    static let quick = SandboxLimits(cpuSeconds: 2, memoryBytes: 256 << 20, processes: 32, wallSeconds: 8, outputBytes: 64 << 10, fileBytes: 1 << 20)

    static func python(_ code: String) -> [String] { [Sandbox.python, "-c", code] }

    /// The probes `emlab sandbox check` runs, in order.
    public static let all: [SandboxProbe] = [
        SandboxProbe(name: "runs code", expectation: "Python runs and prints 42", limits: quick,
                     command: { _, _ in python("print(6 * 7)") },
                     held: { $0.succeeded && $0.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines) == "42" }),
        SandboxProbe(name: "no network", expectation: "the host's loopback, a public address and DNS are all unreachable", limits: quick,
                     command: { port, _ in python("""
                     import socket
                     for label, address in [("host loopback", ("127.0.0.1", \(port))), ("public address", ("1.1.1.1", 53))]:
                         try:
                             socket.create_connection(address, timeout=2).close()
                             print("REACHED", label)
                         except OSError as e:
                             print("blocked", label, "-", e.strerror or e)
                     try:
                         socket.getaddrinfo("example.com", 80)
                         print("REACHED dns")
                     except OSError as e:
                         print("blocked dns -", e.strerror or e)
                     """) },
                     held: { $0.succeeded && !$0.stdoutText.contains("REACHED") && $0.stdoutText.components(separatedBy: "blocked").count == 4 }),
        SandboxProbe(name: "writes stay in the work folder", expectation: "writing /usr, /etc, / and the host's folders fails; /work is writable",
                     limits: quick,
                     command: { _, host in python("""
                     import os
                     for path in ["/usr/emlab-probe", "/etc/emlab-probe", "/emlab-probe", "/root/emlab-probe", "/home/emlab-probe", \(pythonString(host + "/emlab-probe"))]:
                         try:
                             with open(path, "w") as f:
                                 f.write("x")
                             print("WROTE", path)
                         except OSError as e:
                             print("refused", path, "-", e.strerror)
                     with open("/work/emlab-probe", "w") as f:
                         f.write("ok")
                     print("work folder writable")
                     """) },
                     held: { $0.succeeded && !$0.stdoutText.contains("WROTE") && $0.stdoutText.contains("work folder writable") }),
        SandboxProbe(name: "clean environment", expectation: "no variable of emlab's environment (keys, tokens) reaches the command", limits: quick,
                     command: { _, _ in python("import os; print(' '.join(sorted(os.environ)))") },
                     held: { result in
                         let names = Set(result.stdoutText.split(whereSeparator: \.isWhitespace).map(String.init))
                         return result.succeeded && names.isSubset(of: ["PATH", "HOME", "LANG", "PYTHONDONTWRITEBYTECODE", "TMPDIR", "PWD"])
                     }),
        SandboxProbe(name: "fork bomb", expectation: "stopped at the process limit or the wall clock", limits: quick,
                     command: { _, _ in python("""
                     import os
                     while True:
                         os.fork()
                     """) },
                     held: { $0.outcome == .stopped(.processes) || $0.outcome == .stopped(.wallClock) }),
        SandboxProbe(name: "endless loop", expectation: "stopped at the CPU limit", limits: quick,
                     command: { _, _ in python("while True: pass") },
                     held: { $0.outcome == .stopped(.cpu) }),
        SandboxProbe(name: "memory hog", expectation: "stopped at the memory limit", limits: quick,
                     command: { _, _ in python("""
                     hoard = []
                     while True:
                         hoard.append(bytearray(16 << 20))
                     """) },
                     held: { $0.outcome == .stopped(.memory) }),
        SandboxProbe(name: "sleeps forever", expectation: "stopped at the wall clock", limits: SandboxLimits(cpuSeconds: 2, wallSeconds: 1),
                     command: { _, _ in ["sleep", "1000"] },
                     held: { $0.outcome == .stopped(.wallClock) }),
        SandboxProbe(name: "output flood", expectation: "stopped at the output limit", limits: quick,
                     command: { _, _ in ["yes", "flood"] },
                     held: { $0.outcome == .stopped(.output) && $0.stdout.count <= quick.outputBytes }),
        SandboxProbe(name: "disk filler", expectation: "stopped at the file-size limit", limits: quick,
                     command: { _, _ in ["sh", "-c", "head -c 100000000 /dev/zero > /work/filler"] },
                     held: { $0.outcome == .stopped(.fileSize) }),
    ]

    static func pythonString(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    /// Runs every probe (or those named) and returns each one's result; throws `SandboxError.unavailable`
    /// when no sandbox can start at all.
    public static func run(only names: Set<String>? = nil) throws -> [SandboxProbeResult] {
        _ = try Sandbox()
        let listener = try LoopbackListener()
        defer { listener.close() }
        let manager = FileManager.default
        let base = manager.temporaryDirectory.appendingPathComponent("emlab-sandbox-check-\(UUID().uuidString)")
        defer { try? manager.removeItem(at: base) }
        var results: [SandboxProbeResult] = []
        for probe in all where names?.contains(probe.name) ?? true {
            let folder = base.appendingPathComponent("work-\(results.count)")
            let hostFolder = base.appendingPathComponent("host-\(results.count)")
            try manager.createDirectory(at: folder, withIntermediateDirectories: true)
            try manager.createDirectory(at: hostFolder, withIntermediateDirectories: true)
            let sandbox = try Sandbox(limits: probe.limits)
            let result = try sandbox.run(probe.command(listener.port, hostFolder.path), in: folder)
            var held = probe.held(result)
            // Nothing may have landed in the host folder the probe aimed at.
            if manager.fileExists(atPath: hostFolder.appendingPathComponent("emlab-probe").path) { held = false }
            results.append(SandboxProbeResult(name: probe.name, expectation: probe.expectation, held: held, observed: observed(result)))
        }
        return results
    }

    /// How it ended, plus the last meaningful line of its output.
    static func observed(_ result: SandboxResult) -> String {
        let lines = (result.stdoutText + "\n" + result.stderrText).split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && $0 != "flood" }
        var text = "\(result.outcome) after \(String(format: "%.1f", result.wallSeconds)) s"
        if let last = lines.last { text += "; " + (last.count > 90 ? String(last.prefix(87)) + "..." : last) }
        return text
    }
}

/// A TCP listener on the host's 127.0.0.1 that the network probe tries to reach.
final class LoopbackListener {
    let fd: Int32
    let port: Int

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw SandboxError.cannotPrepare("socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 4) == 0 else {
            Glibc.close(fd)
            throw SandboxError.cannotPrepare("listen on 127.0.0.1: \(String(cString: strerror(errno)))")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        self.fd = fd
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    func close() { Glibc.close(fd) }
}
