import CSandbox
import Core
import Foundation

/// What a sandboxed command may use. Every limit is enforced by the kernel (rlimits set inside the
/// sandbox) or by the parent (wall clock, output), never by the sandboxed code's good will.
public struct SandboxLimits: Sendable, Equatable, CustomStringConvertible {
    /// CPU seconds per process (RLIMIT_CPU; SIGXCPU at the limit, SIGKILL a second later).
    public var cpuSeconds: Int
    /// Address space per process, bytes (RLIMIT_AS).
    public var memoryBytes: Int
    /// Processes and threads alive at once inside the sandbox (RLIMIT_NPROC, counted in its own user namespace).
    public var processes: Int
    /// Wall-clock seconds for the whole command; then everything in the sandbox is killed.
    public var wallSeconds: Double
    /// Bytes of standard output and standard error together; past it everything is killed.
    public var outputBytes: Int
    /// Largest file the command may write, bytes (RLIMIT_FSIZE).
    public var fileBytes: Int

    public init(cpuSeconds: Int = 10, memoryBytes: Int = 512 << 20, processes: Int = 64, wallSeconds: Double = 30,
                outputBytes: Int = 1 << 20, fileBytes: Int = 16 << 20) {
        self.cpuSeconds = cpuSeconds
        self.memoryBytes = memoryBytes
        self.processes = processes
        self.wallSeconds = wallSeconds
        self.outputBytes = outputBytes
        self.fileBytes = fileBytes
    }

    public var description: String {
        "cpu \(cpuSeconds) s, memory \(memoryBytes >> 20) MiB, processes \(processes), wall \(Self.seconds(wallSeconds)), "
            + "output \(outputBytes >> 10) KiB, files \(fileBytes >> 20) MiB"
    }

    static func seconds(_ s: Double) -> String {
        s == s.rounded() ? "\(Int(s)) s" : String(format: "%.1f s", s)
    }

    /// Parses `cpu=5,memory=256M,processes=32,wall=10,output=64K,files=8M` (any subset, over the
    /// defaults). Sizes take K, M or G suffixes (powers of 1024); times are seconds.
    public static func parse(_ text: String, over base: SandboxLimits = SandboxLimits()) throws -> SandboxLimits {
        var limits = base
        for item in text.split(separator: ",") {
            let parts = item.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2 else { throw SandboxError.badLimits("'\(item)' is not key=value") }
            let (key, value) = (parts[0], parts[1])
            func size() throws -> Int {
                guard let n = Self.parseSize(value), n > 0 else { throw SandboxError.badLimits("\(key)=\(value) is not a size (e.g. 256M)") }
                return n
            }
            func count() throws -> Int {
                guard let n = Int(value), n > 0 else { throw SandboxError.badLimits("\(key)=\(value) is not a positive whole number") }
                return n
            }
            switch key {
            case "cpu": limits.cpuSeconds = try count()
            case "memory": limits.memoryBytes = try size()
            case "processes": limits.processes = try count()
            case "wall":
                guard let s = Double(value), s > 0 else { throw SandboxError.badLimits("wall=\(value) is not a positive number of seconds") }
                limits.wallSeconds = s
            case "output": limits.outputBytes = try size()
            case "files": limits.fileBytes = try size()
            default: throw SandboxError.badLimits("unknown limit '\(key)' (cpu, memory, processes, wall, output, files)")
            }
        }
        return limits
    }

    static func parseSize(_ text: String) -> Int? {
        let scale: [Character: Int] = ["K": 1 << 10, "k": 1 << 10, "M": 1 << 20, "m": 1 << 20, "G": 1 << 30, "g": 1 << 30]
        if let last = text.last, let factor = scale[last] {
            return Int(text.dropLast()).map { $0 * factor }
        }
        return Int(text)
    }
}

/// A limit the sandbox stopped a command at.
public enum SandboxLimit: String, Sendable, Equatable, CaseIterable {
    case cpu, memory, processes, wallClock = "wall-clock", output, fileSize = "file-size"
}

/// How a sandboxed command ended.
public enum SandboxOutcome: Sendable, Equatable, CustomStringConvertible {
    /// It exited by itself with this status.
    case exited(Int32)
    /// A signal ended it that no limit explains.
    case signalled(Int32)
    /// A limit stopped it (for memory and processes: the command failed with the kernel's refusal).
    case stopped(SandboxLimit)

    public var description: String {
        switch self {
        case .exited(let code): "exited \(code)"
        case .signalled(let signal): "killed by signal \(signal)"
        case .stopped(let limit): "stopped: \(limit.rawValue) limit"
        }
    }
}

/// One command's result: how it ended, its output (cut at the output limit) and its time.
public struct SandboxResult: Sendable {
    public var outcome: SandboxOutcome
    public var stdout: Data
    public var stderr: Data
    public var wallSeconds: Double

    public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    public var stderrText: String { String(decoding: stderr, as: UTF8.self) }
    /// True when it exited 0 by itself.
    public var succeeded: Bool { outcome == .exited(0) }
}

public enum SandboxError: Error, CustomStringConvertible, Equatable {
    /// The sandbox cannot run on this host; emlab then refuses to run model-written code.
    case unavailable(String)
    case badLimits(String)
    case emptyCommand
    case cannotPrepare(String)

    public var description: String {
        switch self {
        case .unavailable(let why):
            "the sandbox is not available on this host (\(why)); emlab does not run model-written code without it. "
                + "Install Debian's bubblewrap (make deps does), then `emlab sandbox check`."
        case .badLimits(let why): "sandbox limits: \(why)"
        case .emptyCommand: "no command to run in the sandbox"
        case .cannotPrepare(let why): "cannot prepare the sandbox's work folder: \(why)"
        }
    }
}

/// A host path shown read-only inside the sandbox at `target`.
public struct SandboxBind: Sendable, Equatable {
    public var source: String
    public var target: String
    public init(source: String, target: String) {
        self.source = source
        self.target = target
    }
}

/// Runs commands isolated with bubblewrap: new user, PID, network, IPC, UTS and cgroup namespaces
/// (no network at all, not even the host's loopback), a read-only root holding only `/usr`, the work
/// folder (read-write, at `/work`), a private `/tmp`, fresh `/proc` and `/dev`, an emptied environment
/// and rlimits set inside the sandbox. When emlab runs as root the sandbox runs as `nobody`
/// (uid 65534), so that the kernel enforces the process limit and root-only files stay unreadable;
/// the work folder is handed to that user.
public struct Sandbox: Sendable {
    public static let workPath = "/work"
    static let nobody: UInt32 = 65534

    public var limits: SandboxLimits
    /// The Python the sandbox runs (Debian's, under `/usr`, the only tree the sandbox sees).
    public static let python = "/usr/bin/python3"

    let bwrap: String
    let prlimit: String
    let setpriv: String?

    /// A sandbox with these limits, or `SandboxError.unavailable` when bubblewrap is missing or
    /// cannot create its namespaces here.
    public init(limits: SandboxLimits = SandboxLimits()) throws {
        self.limits = limits
        let found = try Self.tools.get()
        bwrap = found.bwrap
        prlimit = found.prlimit
        setpriv = found.setpriv
    }

    /// Whether a sandbox works on this host, and if not why; probed once per process.
    public static func availability() -> Result<Void, SandboxError> {
        tools.map { _ in () }
    }

    struct Tools: Sendable {
        var bwrap: String
        var prlimit: String
        var setpriv: String?
    }

    static let tools: Result<Tools, SandboxError> = {
        func find(_ name: String) -> String? {
            let dirs = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init) + ["/usr/bin", "/bin"]
            return dirs.map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
        }
        guard let bwrap = find("bwrap") else { return .failure(.unavailable("bwrap not found")) }
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/prlimit") else {
            return .failure(.unavailable("/usr/bin/prlimit (util-linux) not found"))
        }
        var setpriv: String?
        if getuid() == 0 {
            guard let found = find("setpriv") else { return .failure(.unavailable("running as root needs setpriv (util-linux) to drop to nobody")) }
            setpriv = found
        }
        let tools = Tools(bwrap: bwrap, prlimit: "/usr/bin/prlimit", setpriv: setpriv)
        // A trial run: namespaces may be forbidden (containers without user namespaces).
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("emlab-sandbox-probe-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let probe = Sandbox(limits: SandboxLimits(wallSeconds: 20), tools: tools)
            let result = try probe.run(["/usr/bin/true"], in: folder)
            guard result.succeeded else {
                let why = result.stderrText.trimmingCharacters(in: .whitespacesAndNewlines)
                return .failure(.unavailable("bwrap could not start a sandbox: \(why.isEmpty ? result.outcome.description : why)"))
            }
        } catch let error as SandboxError {
            return .failure(error)
        } catch {
            return .failure(.unavailable("bwrap could not start: \(error)"))
        }
        return .success(tools)
    }()

    init(limits: SandboxLimits, tools: Tools) {
        self.limits = limits
        bwrap = tools.bwrap
        prlimit = tools.prlimit
        setpriv = tools.setpriv
    }

    /// The argument vector that starts `command` in the sandbox over `folder`.
    func arguments(_ command: [String], folder: URL, readOnly: [SandboxBind]) -> (executable: String, arguments: [String]) {
        var args: [String] = []
        var executable = bwrap
        if let setpriv {
            executable = setpriv
            args += ["--reuid=\(Self.nobody)", "--regid=\(Self.nobody)", "--clear-groups", "--inh-caps=-all", "--bounding-set=-all", "--", bwrap]
        }
        args += ["--unshare-all", "--die-with-parent", "--new-session", "--hostname", "sandbox",
                 "--clearenv", "--setenv", "PATH", "/usr/local/bin:/usr/bin:/bin", "--setenv", "HOME", Self.workPath,
                 "--setenv", "LANG", "C.UTF-8", "--setenv", "PYTHONDONTWRITEBYTECODE", "1", "--setenv", "TMPDIR", "/tmp",
                 "--ro-bind", "/usr", "/usr", "--symlink", "usr/bin", "/bin", "--symlink", "usr/lib", "/lib",
                 "--symlink", "usr/lib64", "/lib64", "--symlink", "usr/sbin", "/sbin",
                 "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp",
                 "--bind", folder.path, Self.workPath]
        for bind in readOnly { args += ["--ro-bind", bind.source, bind.target] }
        args += ["--chdir", Self.workPath, "--remount-ro", "/", "--",
                 prlimit, "--cpu=\(limits.cpuSeconds):\(limits.cpuSeconds + 1)", "--as=\(limits.memoryBytes)",
                 "--nproc=\(limits.processes)", "--fsize=\(limits.fileBytes)", "--core=0", "--nofile=256", "--"]
        args += command
        return (executable, args)
    }

    /// Runs `command` (argv; the first word looked up on the sandbox's PATH) with `folder` as its
    /// read-write work folder at `/work`, and `readOnly` host paths shown read-only. `stdin` is written
    /// to its standard input, then closed. Returns when everything it started has ended.
    public func run(_ command: [String], in folder: URL, readOnly: [SandboxBind] = [], stdin: Data? = nil) throws -> SandboxResult {
        guard !command.isEmpty else { throw SandboxError.emptyCommand }
        if setpriv != nil { try Self.handOver(folder) }
        let (executable, arguments) = arguments(command, folder: folder, readOnly: readOnly)
        let output = OutputCollector(limit: limits.outputBytes)
        let start = DispatchTime.now()
        let child = try SpawnedProcess(executable: executable, arguments: arguments, environment: ["PATH=/usr/bin:/bin"])
        output.onOverflow = { kill(child.pid, SIGKILL) }
        let readers = DispatchGroup()
        for (fd, isError) in [(child.stdout, false), (child.stderr, true)] {
            DispatchQueue.global().async(group: readers) {
                var buffer = [UInt8](repeating: 0, count: 65536)
                while true {
                    let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                    if n < 0 && errno == EINTR { continue }
                    if n <= 0 { break }
                    output.append(buffer[0..<n], isError: isError)
                }
            }
        }
        let stdinFD = child.stdin
        // A command that exits without reading its input must not take emlab down with SIGPIPE.
        signal(SIGPIPE, SIG_IGN)
        DispatchQueue.global().async {
            if let stdin {
                stdin.withUnsafeBytes { raw in
                    var offset = 0
                    while offset < raw.count {
                        let n = write(stdinFD, raw.baseAddress! + offset, raw.count - offset)
                        if n < 0 && errno == EINTR { continue }
                        if n <= 0 { break }
                        offset += n
                    }
                }
            }
            close(stdinFD)
        }
        let ended = DispatchSemaphore(value: 0)
        let waitStatus = Locked<Int32>(0)
        Thread.detachNewThread {
            var status: Int32 = 0
            while waitpid(child.pid, &status, 0) < 0 && errno == EINTR {}
            waitStatus.value = status
            ended.signal()
        }
        var timedOut = false
        if ended.wait(timeout: start + limits.wallSeconds) == .timedOut {
            timedOut = true
            kill(child.pid, SIGKILL)
            ended.wait()
        }
        // bwrap's death takes the whole PID namespace with it, so the pipes close; a short grace
        // covers the kernel's tear-down.
        _ = readers.wait(timeout: .now() + 5)
        close(child.stdout)
        close(child.stderr)
        let wall = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        let (stdout, stderr, overflowed) = output.collected()
        let raw = waitStatus.value
        let signal = raw & 0x7f
        let status = (raw >> 8) & 0xff
        let outcome: SandboxOutcome
        if timedOut {
            outcome = .stopped(.wallClock)
        } else if overflowed {
            outcome = .stopped(.output)
        } else if signal != 0 {
            outcome = Self.classify(signal: signal)
        } else if status > 128 && status < 128 + 65 {
            // bwrap reports a child killed by signal N as exit status 128 + N.
            outcome = Self.classify(signal: status - 128)
        } else if status != 0, let limit = Self.refusal(in: stderr) {
            outcome = .stopped(limit)
        } else {
            outcome = .exited(status)
        }
        return SandboxResult(outcome: outcome, stdout: stdout, stderr: stderr, wallSeconds: wall)
    }

    static func classify(signal: Int32) -> SandboxOutcome {
        switch signal {
        case SIGXCPU: .stopped(.cpu)
        case SIGXFSZ: .stopped(.fileSize)
        default: .signalled(signal)
        }
    }

    /// A failing command whose last words are the kernel refusing memory or a new process.
    static func refusal(in stderr: Data) -> SandboxLimit? {
        let tail = String(decoding: stderr.suffix(4096), as: UTF8.self)
        if tail.contains("MemoryError") || tail.contains("Cannot allocate memory") || tail.contains("std::bad_alloc")
            || tail.contains("out of memory") {
            return .memory
        }
        if tail.contains("Resource temporarily unavailable") || tail.contains("Cannot fork") || tail.contains("BlockingIOError")
            || tail.contains("can't start new thread") {
            return .processes
        }
        return nil
    }

    /// Gives the work folder, and everything in it, to the sandbox's user (root only).
    static func handOver(_ folder: URL) throws {
        let manager = FileManager.default
        var paths = [folder.path]
        if let walker = manager.enumerator(atPath: folder.path) {
            while let item = walker.nextObject() as? String { paths.append(folder.appendingPathComponent(item).path) }
        }
        for path in paths where lchown(path, nobody, nobody) != 0 {
            throw SandboxError.cannotPrepare("\(path): \(String(cString: strerror(errno)))")
        }
    }
}

/// A child started with posix_spawn: default signal dispositions and an empty signal mask (the
/// calling thread's blocked signals would otherwise be inherited, and SIGXCPU would not end a
/// runaway loop), no descriptor but the three pipes.
struct SpawnedProcess: Sendable {
    let pid: pid_t
    /// Our ends of the child's standard input, output and error.
    let stdin: Int32, stdout: Int32, stderr: Int32

    init(executable: String, arguments: [String], environment: [String]) throws {
        var inPipe: [Int32] = [0, 0], outPipe: [Int32] = [0, 0], errPipe: [Int32] = [0, 0]
        func closeOnExecPipe(_ fds: inout [Int32]) -> Bool {
            guard pipe(&fds) == 0 else { return false }
            return fds.allSatisfy { fcntl($0, F_SETFD, FD_CLOEXEC) == 0 }
        }
        guard closeOnExecPipe(&inPipe), closeOnExecPipe(&outPipe), closeOnExecPipe(&errPipe) else {
            throw SandboxError.cannotPrepare("pipe: \(String(cString: strerror(errno)))")
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, inPipe[0], 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
        // Nothing else emlab holds open (model files, the results store) crosses into the sandbox.
        csandbox_addclosefrom(&actions, 3)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t(), all = sigset_t()
        sigemptyset(&empty)
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup($0) } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let error = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        close(inPipe[0])
        close(outPipe[1])
        close(errPipe[1])
        guard error == 0 else {
            close(inPipe[1])
            close(outPipe[0])
            close(errPipe[0])
            throw SandboxError.unavailable("cannot start \(executable): \(String(cString: strerror(error)))")
        }
        self.pid = pid
        stdin = inPipe[1]
        stdout = outPipe[0]
        stderr = errPipe[0]
    }
}

/// Standard output and error as they arrive, cut at a shared limit.
final class OutputCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var out = Data(), err = Data()
    private var overflowed = false
    private let limit: Int
    var onOverflow: (@Sendable () -> Void)?

    init(limit: Int) { self.limit = limit }

    func append(_ bytes: ArraySlice<UInt8>, isError: Bool) {
        let fire: (@Sendable () -> Void)? = lock.withLock {
            let room = limit - out.count - err.count
            if bytes.count > room {
                if room > 0 { isError ? err.append(contentsOf: bytes.prefix(room)) : out.append(contentsOf: bytes.prefix(room)) }
                if !overflowed {
                    overflowed = true
                    return onOverflow
                }
                return nil
            }
            isError ? err.append(contentsOf: bytes) : out.append(contentsOf: bytes)
            return nil
        }
        fire?()
    }

    func collected() -> (Data, Data, Bool) { lock.withLock { (out, err, overflowed) } }
}
