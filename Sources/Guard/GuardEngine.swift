#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What earlier decisions of a session said (the decision log answers it).
public protocol SessionHistory {
    /// A description of the first secret the session read (path and time), or nil.
    func earlierSecretRead(session: String) -> String?
}

/// The rules: a policy applied to one action at a time. Never runs what it judges.
public struct GuardEngine: Sendable {
    public let policy: Policy
    public let environment: [String: String]
    public let home: String

    /// Tools whose input the rules read.
    public static let checkedTools: Set<String> = ["Bash", "Write", "Edit", "MultiEdit", "NotebookEdit", "Read", "Grep", "Glob", "LS", "WebFetch"]

    public init(policy: Policy, environment: [String: String]) {
        self.policy = policy
        self.environment = environment
        self.home = Paths.home(environment: environment)
    }

    /// The workspace an action is in: given, else the agent's project folder, else the git root around `cwd`, else `cwd`.
    public func workspace(for action: GuardAction) -> String {
        if let w = action.workspace, w.hasPrefix("/") { return Paths.resolve(w, cwd: "/") }
        if let p = environment["CLAUDE_PROJECT_DIR"], p.hasPrefix("/") { return Paths.resolve(p, cwd: "/") }
        let cwd = Paths.resolve(action.cwd, cwd: "/")
        return Paths.gitRoot(from: cwd, home: home) ?? cwd
    }

    public func pathContext(for action: GuardAction) -> PathContext {
        PathContext(home: home, workspace: workspace(for: action), policy: policy, environment: environment)
    }

    public func evaluate(_ action: GuardAction, history: (any SessionHistory)? = nil) -> GuardDecision {
        let start = ContinuousClock.now
        var decision = rulesDecision(action, history: history)
        let elapsed = ContinuousClock.now - start
        decision.latencyMicros = Int(elapsed.components.seconds * 1_000_000 + elapsed.components.attoseconds / 1_000_000_000_000)
        return decision
    }

    func rulesDecision(_ action: GuardAction, history: (any SessionHistory)?) -> GuardDecision {
        let context = pathContext(for: action)
        let analyzer = Analyzer(policy: policy, context: context, environment: environment)
        let cwd = Paths.resolve(action.cwd, cwd: "/")
        var unknownTool = false

        for rule in policy.custom where rule.commands.isEmpty && rule.paths.isEmpty && rule.tools.contains(where: { Paths.fnmatch($0, action.tool) }) {
            analyzer.addCustom(rule, action.tool)
        }

        func path(_ key: String) -> String? {
            guard let p = action.input[key]?.string, !p.isEmpty else { return nil }
            var text = p
            if text == "~" { text = home } else if text.hasPrefix("~/") { text = home + text.dropFirst() }
            return Paths.resolve(text, cwd: cwd)
        }

        switch action.tool {
        case "Bash":
            let command = action.input["command"]?.string ?? ""
            var variables = environment
            variables["PWD"] = nil
            variables["OLDPWD"] = nil
            var state = ShellState(variables: variables, cwd: cwd)
            analyzer.analyzeText(command, &state, origin: "command")
        case "Write", "Edit", "MultiEdit", "NotebookEdit":
            if let p = path("file_path") ?? path("notebook_path") {
                analyzer.checkWritePath(p, via: "\(action.tool) \(p)", append: false)
                analyzer.checkCustomPath(p, tool: action.tool)
            }
        case "Read", "Grep":
            if let p = path("file_path") ?? path("path") {
                analyzer.noteRead(p, via: action.tool)
                analyzer.checkCustomPath(p, tool: action.tool)
            }
        case "Glob", "LS":
            if let p = path("path") { analyzer.checkCustomPath(p, tool: action.tool) }
        case "WebFetch":
            analyzer.noteEgress("WebFetch", upload: false, "WebFetch \(action.input["url"]?.string ?? "")")
        default:
            if !policy.allowedTools.contains(action.tool) { unknownTool = true }
        }

        // Secrets and the network together.
        if !analyzer.egress.isEmpty {
            let sending = analyzer.egress.first { $0.upload } ?? analyzer.egress[0]
            if let secret = analyzer.secretReads.first {
                analyzer.add("exfiltrate-secret", "\(secret) → \(sending.detail)", path: secret)
            } else if let session = action.session, let history, let earlier = history.earlierSecretRead(session: session) {
                analyzer.add(sending.upload ? "upload-after-secret" : "egress-after-secret", "\(sending.detail) (earlier: \(earlier))", path: earlier)
            }
        }

        var findings = analyzer.findings
        if unknownTool {
            findings.append(Finding(rule: "unknown-tool", decision: policy.unknownTools,
                                    reason: "the guard's policy does not know the tool '\(action.tool)'", detail: action.tool))
        }
        // A custom `allow` rule that matches overrides the built-in rules' `ask` (never a `deny`).
        let allowIDs = Set(policy.custom.filter { $0.decision == .allow }.map(\.id))
        if findings.contains(where: { allowIDs.contains($0.rule) }) {
            findings.removeAll { $0.decision == .ask && !allowIDs.contains($0.rule) }
        }
        findings.sort { $0.decision > $1.decision }
        let tags = analyzer.tags.sorted()
        guard let top = findings.first else {
            return GuardDecision(decision: .allow, reason: "no rule matched", rule: nil, findings: [], source: "default", tags: tags)
        }
        if top.decision == .allow {
            return GuardDecision(decision: .allow, reason: "emlab guard [\(top.rule)]: \(top.reason)", rule: top.rule, findings: findings, source: "rules", tags: tags)
        }
        return GuardDecision(decision: top.decision, reason: GuardEngine.reasonText(findings), rule: top.rule,
                             findings: findings, source: "rules", tags: tags)
    }

    /// The reason shown to the agent: the most severe finding first, then up to two more.
    static func reasonText(_ findings: [Finding]) -> String {
        guard let top = findings.first else { return "no rule matched" }
        var text = "emlab guard [\(top.rule)]: \(top.reason) (\(top.detail))"
        let more = findings.dropFirst().filter { $0.rule != top.rule }.prefix(2)
        for f in more { text += " Also [\(f.rule)]: \(f.reason)" }
        return text
    }
}
