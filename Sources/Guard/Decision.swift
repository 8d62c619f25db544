#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What the guard says about an action, least to most severe.
public enum Verdict: String, Sendable, Codable, Comparable, CaseIterable {
    case allow, ask, deny

    var rank: Int {
        switch self {
        case .allow: return 0
        case .ask: return 1
        case .deny: return 2
        }
    }
    public static func < (a: Verdict, b: Verdict) -> Bool { a.rank < b.rank }
}

/// One rule that matched, with its reason as the agent is shown it.
public struct Finding: Sendable, Codable, Equatable {
    public var rule: String
    public var decision: Verdict
    public var reason: String
    /// What matched: the command part, the path as resolved.
    public var detail: String

    public init(rule: String, decision: Verdict, reason: String, detail: String) {
        self.rule = rule
        self.decision = decision
        self.reason = reason
        self.detail = detail
    }
}

/// An action an agent is about to take: a tool call as the agent's harness describes it.
public struct GuardAction: Sendable, Equatable {
    /// `Bash`, `Write`, `Edit`, `MultiEdit`, `Read`, … (Claude Code's tool names).
    public var tool: String
    public var input: JSONValue
    /// The directory the agent works in (relative paths are resolved against it).
    public var cwd: String
    /// The project root; nil: the nearest folder above `cwd` with a `.git`, else `cwd`.
    public var workspace: String?
    public var session: String?
    public var transcriptPath: String?
    /// What the user asked for, when the caller knows (the model monitor reads it).
    public var task: String?

    public init(tool: String, input: JSONValue, cwd: String, workspace: String? = nil, session: String? = nil,
                transcriptPath: String? = nil, task: String? = nil) {
        self.tool = tool
        self.input = input
        self.cwd = cwd
        self.workspace = workspace
        self.session = session
        self.transcriptPath = transcriptPath
        self.task = task
    }

    /// A one-line summary for logs and reports: the command, or the tool and its file.
    public var summary: String {
        if let c = input["command"]?.string { return c }
        for key in ["file_path", "notebook_path", "path", "url", "pattern"] {
            if let p = input[key]?.string { return "\(tool) \(p)" }
        }
        return "\(tool) \(input.jsonText.prefix(300))"
    }
}

/// The guard's answer.
public struct GuardDecision: Sendable, Codable, Equatable {
    public var decision: Verdict
    /// Shown to the agent (and to the user where the decision is `ask`).
    public var reason: String
    /// The rule behind the decision (the most severe finding), `monitor`, or nil.
    public var rule: String?
    public var findings: [Finding]
    /// `rules`, `monitor`, `default` (no rule matched), `error` (the guard failed and chose for safety).
    public var source: String
    /// Facts about the action kept in the log: `secret-read`, `egress`, `upload`.
    public var tags: [String]
    /// The monitor's verdict and reasoning, where it was asked.
    public var monitor: MonitorNote?
    public var latencyMicros: Int

    public init(decision: Verdict, reason: String, rule: String?, findings: [Finding], source: String,
                tags: [String] = [], monitor: MonitorNote? = nil, latencyMicros: Int = 0) {
        self.decision = decision
        self.reason = reason
        self.rule = rule
        self.findings = findings
        self.source = source
        self.tags = tags
        self.monitor = monitor
        self.latencyMicros = latencyMicros
    }

    enum CodingKeys: String, CodingKey {
        case decision, reason, rule, findings, source, tags, monitor
        case latencyMicros = "latency_us"
    }
}

/// What the model monitor said about an action the rules left as `ask`.
public struct MonitorNote: Sendable, Codable, Equatable {
    public var model: String
    /// ALLOW, ASK or DENY as the judge wrote it; nil when it failed.
    public var verdict: Verdict?
    public var reasoning: String
    /// Why the monitor gave no verdict (an error, a time-out, an unreadable answer).
    public var error: String?
    public var latencyMicros: Int

    public init(model: String, verdict: Verdict?, reasoning: String, error: String?, latencyMicros: Int) {
        self.model = model
        self.verdict = verdict
        self.reasoning = reasoning
        self.error = error
        self.latencyMicros = latencyMicros
    }

    enum CodingKeys: String, CodingKey {
        case model, verdict, reasoning, error
        case latencyMicros = "latency_us"
    }
}
