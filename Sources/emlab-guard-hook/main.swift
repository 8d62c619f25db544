// emlab-guard-hook: Claude Code's PreToolUse hook, rules only, in a binary that links the guard's
// rules and nothing else (no Foundation, no NIO, no model code), so that it starts in a few
// milliseconds. Where the policy sends a decision to the model monitor, it hands the event to
// `emlab guard hook` beside it. It never runs what it judges.
//
//   emlab-guard-hook [--policy FILE] [--log FILE] [--no-log]
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Guard

func write(_ text: String, to fd: Int32) {
    var bytes = Array(text.utf8)
    var offset = 0
    while offset < bytes.count {
        let n = bytes.withUnsafeMutableBufferPointer { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
        if n <= 0 { break }
        offset += n
    }
    bytes.removeAll()
}

/// Blocks the tool call: exit 2 with the reason on stderr (what Claude Code takes as a block).
func block(_ message: String) -> Never {
    write("emlab guard: \(message); the tool call is blocked\n", to: 2)
    exit(2)
}

func readStdin() -> [UInt8] {
    var data: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = buffer.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
        if n < 0, errno == EINTR { continue }
        if n <= 0 { break }
        data += buffer[0..<n]
        if data.count > 64 << 20 { block("hook input larger than 64 MiB") }
    }
    return data
}

var policyArgument: String? = nil
var logArgument: String? = nil
var logging = true
var arguments = CommandLine.arguments.dropFirst().makeIterator()
while let a = arguments.next() {
    switch a {
    case "--policy": policyArgument = arguments.next() ?? { block("--policy needs a file") }()
    case "--log": logArgument = arguments.next() ?? { block("--log needs a file") }()
    case "--no-log": logging = false
    case "-h", "--help":
        write("usage: emlab-guard-hook [--policy FILE] [--log FILE] [--no-log]\nClaude Code PreToolUse hook: the event on stdin, the decision on stdout.\n", to: 1)
        exit(0)
    default: block("unknown argument '\(a)' (usage: emlab-guard-hook [--policy FILE] [--log FILE] [--no-log])")
    }
}

let environment = ProcessInfo.processInfo.environment
let input = readStdin()
let policy: Policy
do {
    policy = try GuardSetup.loadPolicy(defaultPath: GuardSetup.defaultPolicyPath(environment: environment),
                                       userPath: GuardSetup.userPolicyPath(explicit: policyArgument, environment: environment),
                                       environment: environment)
} catch {
    block("policy: \(error.description)")
}

let action: GuardAction
do {
    action = try ClaudeCodeHook.parse(input)
} catch {
    let (message, status) = ClaudeCodeHook.malformed(error)
    write(message, to: 2)
    exit(status)
}

var log: DecisionLog? = nil
if logging {
    let path = logArgument ?? DecisionLog.defaultPath(policy: policy, environment: environment)
    do { log = try DecisionLog(path: path) } catch { write("emlab guard: warning: \(error.description)\n", to: 2) }
}

let engine = GuardEngine(policy: policy, environment: environment)
let decision = engine.evaluate(action, history: log)

if policy.monitor.model != nil, policy.monitor.reviews.contains(decision.decision) {
    // The model monitor lives in `emlab`: hand it the event (on stdin, from an unlinked file).
    let emlab = GuardSetup.executableDirectory() + "/emlab"
    if access(emlab, X_OK) == 0 {
        var template = Array("/tmp/emlab-guard-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        if fd >= 0 {
            unlink(String(cString: template))
            var offset = 0
            while offset < input.count {
                let n = input.withUnsafeBufferPointer { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
                if n <= 0 { break }
                offset += n
            }
            lseek(fd, 0, SEEK_SET)
            dup2(fd, 0)
            close(fd)
            var args = ["emlab", "guard", "hook"]
            if let p = policyArgument { args += ["--policy", p] }
            if let l = logArgument { args += ["--log", l] }
            if !logging { args.append("--no-log") }
            var cArgs = args.map { strdup($0) } + [nil]
            execv(emlab, &cArgs)
        }
    }
    // No monitor to ask: the rules' decision stands (an `ask` stays an ask).
}

if let log {
    do { try log.record(action, decision, interface: "hook") } catch { write("emlab guard: warning: \(error.description)\n", to: 2) }
}
let (stdout, stderr, status) = ClaudeCodeHook.response(decision, policy: policy)
if let stdout { write(stdout, to: 1) }
if let stderr { write(stderr, to: 2) }
exit(status)
