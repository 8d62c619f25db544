#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Input that is not what the protocol promises: names the field.
public struct GuardInputError: Error, Sendable, CustomStringConvertible, Equatable {
    public var field: String
    public var message: String
    public init(field: String, message: String) {
        self.field = field
        self.message = message
    }
    public var description: String { field.isEmpty ? message : "field '\(field)': \(message)" }
}

/// Claude Code's PreToolUse hook: the event on standard input, the answer on standard output.
public enum ClaudeCodeHook {
    /// The fields each tool's input must have (as strings, except where noted).
    static let requiredInput: [String: [String]] = [
        "Bash": ["command"],
        "Write": ["file_path", "content"],
        "Edit": ["file_path", "old_string", "new_string"],
        "MultiEdit": ["file_path"],
        "Read": ["file_path"],
        "NotebookEdit": ["notebook_path"],
        "WebFetch": ["url"],
    ]

    /// Reads a PreToolUse event.
    public static func parse(_ bytes: [UInt8]) throws(GuardInputError) -> GuardAction {
        let value: JSONValue
        do {
            value = try JSONValue.parse(bytes)
        } catch {
            if bytes.allSatisfy({ $0 == 32 || $0 == 10 || $0 == 13 || $0 == 9 }) {
                throw GuardInputError(field: "", message: "no input on stdin (expected Claude Code's PreToolUse JSON)")
            }
            throw GuardInputError(field: "", message: "stdin is not JSON (\(Self.shortError(error)))")
        }
        guard case .object(let o) = value else { throw GuardInputError(field: "", message: "the event must be a JSON object, not \(value.typeName)") }
        if let event = o["hook_event_name"] {
            guard event.string == "PreToolUse" else {
                throw GuardInputError(field: "hook_event_name", message: "expected \"PreToolUse\", got \(event.jsonText)")
            }
        }
        return try action(from: o, toolKey: "tool_name", inputKey: "tool_input", requireCwd: true)
    }

    /// An action from a JSON object (`tool_name`/`tool_input` for the hook, `tool`/`input` for `check`).
    public static func action(from o: [String: JSONValue], toolKey: String, inputKey: String, requireCwd: Bool) throws(GuardInputError) -> GuardAction {
        guard let toolValue = o[toolKey] else { throw GuardInputError(field: toolKey, message: "missing") }
        guard let tool = toolValue.string, !tool.isEmpty else { throw GuardInputError(field: toolKey, message: "must be a non-empty string, not \(toolValue.typeName)") }
        guard let input = o[inputKey] else { throw GuardInputError(field: inputKey, message: "missing") }
        guard case .object(let fields) = input else { throw GuardInputError(field: inputKey, message: "must be an object, not \(input.typeName)") }
        for key in requiredInput[tool] ?? [] {
            guard let v = fields[key] else { throw GuardInputError(field: "\(inputKey).\(key)", message: "missing (\(tool) needs it)") }
            guard v.string != nil else { throw GuardInputError(field: "\(inputKey).\(key)", message: "must be a string, not \(v.typeName)") }
        }
        if tool == "MultiEdit", let edits = fields["edits"], edits.array == nil {
            throw GuardInputError(field: "\(inputKey).edits", message: "must be an array, not \(edits.typeName)")
        }
        var cwd = "/"
        if let c = o["cwd"] {
            guard let s = c.string, s.hasPrefix("/") else { throw GuardInputError(field: "cwd", message: "must be an absolute path, not \(c.jsonText.prefix(80))") }
            cwd = s
        } else if requireCwd {
            throw GuardInputError(field: "cwd", message: "missing")
        }
        func optionalString(_ key: String) throws(GuardInputError) -> String? {
            guard let v = o[key], v != .null else { return nil }
            guard let s = v.string else { throw GuardInputError(field: key, message: "must be a string, not \(v.typeName)") }
            return s
        }
        var session = try optionalString("session_id")
        if session == nil { session = try optionalString("session") }
        return GuardAction(tool: tool, input: input, cwd: cwd, workspace: try optionalString("workspace"),
                           session: session,
                           transcriptPath: try optionalString("transcript_path"), task: try optionalString("task"))
    }

    static func shortError(_ error: any Error) -> String {
        let text = "\(error)"
        if let r = text.firstRange(of: "debugDescription: \"") {
            let rest = text[r.upperBound...]
            return String(rest.prefix { $0 != "\"" })
        }
        return String(text.prefix(160))
    }

    /// The answer: standard output, standard error and the exit status.
    public static func response(_ d: GuardDecision, policy: Policy) -> (stdout: String?, stderr: String?, status: Int32) {
        switch d.decision {
        case .allow where policy.hook.onAllow == "pass":
            return (nil, nil, 0)
        case .deny where policy.hook.denyWith == "exit2":
            return (nil, d.reason + "\n", 2)
        default:
            return (answerJSON(decision: d.decision, reason: d.reason), nil, 0)
        }
    }

    public static func answerJSON(decision: Verdict, reason: String) -> String {
        struct Output: Encodable {
            var hookEventName = "PreToolUse"
            var permissionDecision: String
            var permissionDecisionReason: String
        }
        struct Answer: Encodable { var hookSpecificOutput: Output }
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? e.encode(Answer(hookSpecificOutput: Output(permissionDecision: decision.rawValue, permissionDecisionReason: reason)))) ?? Data()
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    /// For input the guard cannot read: block (exit 2 is the only answer Claude Code takes as a block
    /// whatever the output), saying why on stderr.
    public static func malformed(_ error: GuardInputError) -> (stderr: String, status: Int32) {
        ("emlab guard: malformed hook input: \(error.description); the tool call is blocked\n", 2)
    }
}
