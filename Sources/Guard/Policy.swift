#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A malformed policy file: names the file, the line and the field.
public struct PolicyError: Error, Sendable, CustomStringConvertible, Equatable {
    public var file: String
    public var line: Int
    public var field: String
    public var message: String

    public var description: String {
        let place = line > 0 ? "\(file):\(line)" : file
        return field.isEmpty ? "\(place): \(message)" : "\(place): field '\(field)': \(message)"
    }
}

/// A rule's setting: its decision (nil: turned off) and the reason shown to the agent. The reason may
/// name `{path}`, `{detail}`, `{program}`, `{branch}`, `{home}` and `{workspace}`.
public struct RuleSetting: Sendable, Equatable {
    public var decision: Verdict?
    public var reason: String
}

/// A rule written in a policy file: a program with argument patterns, or tools with path patterns.
public struct CustomRule: Sendable, Equatable {
    public var id: String
    /// Program names after wrappers (`sudo`, `env`, …) are taken off; empty: any.
    public var commands: [String]
    /// Each pattern must match one of the arguments (shell glob, case-insensitive).
    public var args: [String]
    /// Tool names (`Write`, `Read`, …); empty: any tool the rule's other fields apply to.
    public var tools: [String]
    /// Path patterns (`~`, `**` allowed) matched against the paths the action reads or writes.
    public var paths: [String]
    public var decision: Verdict
    public var reason: String
}

public struct MonitorSettings: Sendable, Equatable {
    /// A model spec (`local:smollm2-135m`, `openai-compatible:URL#model`); nil: no monitor.
    public var model: String?
    /// The rule decisions the monitor reviews (default: `ask`).
    public var reviews: Set<Verdict> = [.ask]
    public var timeoutSeconds: Double = 30
    /// How many recent transcript entries the judge sees.
    public var transcriptEntries: Int = 8
    /// Whether the monitor's `allow` lets an action the rules held run. Off by default: the judge may
    /// deny or leave the ask to the user, not wave it through (on the held-out labelled set, Qwen2.5-Coder
    /// 0.5B and 1.5B allowed `git stash clear`, and 1.5B a read of ~/.ssh/id_rsa).
    public var mayAllow = false
}

public struct HookSettings: Sendable, Equatable {
    /// For `allow`: `pass` says nothing (Claude Code's own permission settings decide), `allow` answers
    /// `permissionDecision: allow` (which skips Claude Code's permission prompt).
    public var onAllow: String = "pass"
    /// For `deny`: `json` (permissionDecision deny, exit 0) or `exit2` (reason on stderr, exit 2).
    public var denyWith: String = "json"
}

/// The guard's policy: the default written for emlab, with the user's files laid over it.
public struct Policy: Sendable, Equatable {
    /// Decision for tools the policy does not name.
    public var unknownTools: Verdict = .ask
    /// Tools allowed without checks (`Glob`, `Grep`, …).
    public var allowedTools: Set<String> = []
    public var tempDirs: [String] = []
    public var systemDirs: [String] = []
    /// Reading these asks, and marks the session (network use afterwards is checked).
    public var secrets: [String] = []
    /// Reading these is allowed but marks the session.
    public var sessionSecrets: [String] = []
    /// Exceptions to both lists (`.env.example`).
    public var notSecrets: [String] = []
    /// Files outside the workspace that an agent must not overwrite or delete (dotfiles).
    public var protectedFiles: [String] = []
    /// Files and folders the guard itself depends on (its policy, its log, the agent's hook settings).
    public var guardFiles: [String] = []
    public var protectedBranches: [String] = []
    public var networkCommands: Set<String> = []
    public var shells: Set<String> = []
    public var interpreters: Set<String> = []
    public var rules: [String: RuleSetting] = [:]
    public var custom: [CustomRule] = []
    public var monitor = MonitorSettings()
    public var hook = HookSettings()
    /// The decision log (SQLite); nil: the default place.
    public var logPath: String?
    /// The files this policy was read from, in order.
    public var sources: [String] = []

    /// The rules the guard's code implements; a policy may set their decision and reason.
    public static let builtinRules: [String] = [
        "delete-root", "delete-system", "delete-home", "delete-workspace", "delete-git-dir", "delete-outside-workspace",
        "delete-file-outside-workspace", "delete-unknown-target", "no-preserve-root",
        "write-system", "write-dotfile", "write-outside-workspace", "write-git-internals", "guard-tamper",
        "device-write", "chmod-open-recursive", "chmod-system",
        "git-force-push", "git-force-push-protected", "git-push-delete", "git-push-mirror", "git-reset-hard",
        "git-discard-changes", "git-clean", "git-stash-drop", "git-branch-force-delete", "git-history-rewrite",
        "remote-code", "encoded-command", "pipe-to-shell", "eval-unknown",
        "read-secret", "exfiltrate-secret", "egress-after-secret", "upload-after-secret",
        "code-unknown-delete", "obfuscated-code",
        "fork-bomb", "kill-all", "shutdown", "crontab-remove",
        "unparseable", "unparseable-destructive", "windows-delete", "windows-format",
    ]

    public func setting(_ rule: String) -> RuleSetting {
        rules[rule] ?? RuleSetting(decision: .ask, reason: "rule \(rule) matched")
    }

    // MARK: Loading

    /// Reads a policy file over `base` (nil: start from nothing; the default policy is read so).
    public static func load(file: String, over base: Policy? = nil) throws(PolicyError) -> Policy {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw PolicyError(file: file, line: 0, field: "", message: "cannot read the policy file")
        }
        return try parse(String(decoding: data, as: UTF8.self), file: file, over: base)
    }

    public static func parse(_ text: String, file: String, over base: Policy? = nil) throws(PolicyError) -> Policy {
        let root: YAMLNode
        do {
            root = try YAML.parse(text)
        } catch {
            throw PolicyError(file: file, line: error.line, field: "", message: "YAML syntax: \(error.message) (column \(error.column))")
        }
        var reader = PolicyReader(file: file, policy: base ?? Policy(), isBase: base == nil)
        try reader.read(root)
        reader.policy.sources.append(file)
        return reader.policy
    }
}

struct PolicyReader {
    let file: String
    var policy: Policy
    /// The first file: lists are taken as given; later files add to them.
    let isBase: Bool

    func fail(_ node: YAMLNode, _ field: String, _ message: String) -> PolicyError {
        PolicyError(file: file, line: node.line, field: field, message: message)
    }

    func mapping(_ node: YAMLNode, _ field: String) throws(PolicyError) -> [(key: String, value: YAMLNode)] {
        if node.isNull { return [] }
        guard case .mapping(let pairs, _) = node else { throw fail(node, field, "must be a mapping, not \(node.kindName)") }
        return pairs
    }

    func string(_ node: YAMLNode, _ field: String) throws(PolicyError) -> String {
        guard case .scalar(let s, _, _) = node else { throw fail(node, field, "must be text, not \(node.kindName)") }
        return s
    }

    func strings(_ node: YAMLNode, _ field: String) throws(PolicyError) -> [String] {
        if node.isNull { return [] }
        if case .scalar(let s, _, _) = node { return [s] }
        guard case .sequence(let items, _) = node else { throw fail(node, field, "must be a list of text, not \(node.kindName)") }
        var out: [String] = []
        for (i, item) in items.enumerated() { out.append(try string(item, "\(field)[\(i)]")) }
        return out
    }

    func verdict(_ node: YAMLNode, _ field: String, allowOff: Bool = false) throws(PolicyError) -> Verdict? {
        let s = try string(node, field).lowercased()
        if let v = Verdict(rawValue: s) { return v }
        if allowOff, s == "off" || s == "false" { return nil }
        throw fail(node, field, "must be allow, ask or deny\(allowOff ? " (or off)" : ""), not '\(s)'")
    }

    func number(_ node: YAMLNode, _ field: String) throws(PolicyError) -> Double {
        let s = try string(node, field)
        guard let d = Double(s), d >= 0 else { throw fail(node, field, "must be a non-negative number, not '\(s)'") }
        return d
    }

    func merged(_ list: [String], _ node: YAMLNode, _ field: String) throws(PolicyError) -> [String] {
        let items = try strings(node, field)
        return isBase ? items : list + items.filter { !list.contains($0) }
    }

    mutating func read(_ root: YAMLNode) throws(PolicyError) {
        guard case .mapping(let pairs, _) = root else { throw fail(root, "", "a policy must be a mapping, not \(root.kindName)") }
        for (key, value) in pairs {
            switch key {
            case "version":
                let v = try string(value, key)
                guard v == "1" else { throw fail(value, key, "only version 1 is known, not '\(v)'") }
            case "unknown_tools":
                policy.unknownTools = try verdict(value, key)!
            case "allowed_tools":
                var list = Array(policy.allowedTools)
                list = try merged(list, value, key)
                policy.allowedTools = Set(list)
            case "paths":
                for (k, v) in try mapping(value, key) {
                    let field = "paths.\(k)"
                    switch k {
                    case "temp": policy.tempDirs = try merged(policy.tempDirs, v, field)
                    case "system": policy.systemDirs = try merged(policy.systemDirs, v, field)
                    case "secrets": policy.secrets = try merged(policy.secrets, v, field)
                    case "session_secrets": policy.sessionSecrets = try merged(policy.sessionSecrets, v, field)
                    case "not_secrets": policy.notSecrets = try merged(policy.notSecrets, v, field)
                    case "protected": policy.protectedFiles = try merged(policy.protectedFiles, v, field)
                    case "guard": policy.guardFiles = try merged(policy.guardFiles, v, field)
                    default: throw fail(v, field, "unknown key (known: temp, system, secrets, session_secrets, not_secrets, protected, guard)")
                    }
                }
            case "git":
                for (k, v) in try mapping(value, key) {
                    guard k == "protected_branches" else { throw fail(v, "git.\(k)", "unknown key (known: protected_branches)") }
                    policy.protectedBranches = try merged(policy.protectedBranches, v, "git.\(k)")
                }
            case "programs":
                for (k, v) in try mapping(value, key) {
                    let field = "programs.\(k)"
                    var list: [String]
                    switch k {
                    case "network": list = Array(policy.networkCommands)
                    case "shells": list = Array(policy.shells)
                    case "interpreters": list = Array(policy.interpreters)
                    default: throw fail(v, field, "unknown key (known: network, shells, interpreters)")
                    }
                    list = try merged(list, v, field)
                    switch k {
                    case "network": policy.networkCommands = Set(list)
                    case "shells": policy.shells = Set(list)
                    default: policy.interpreters = Set(list)
                    }
                }
            case "rules":
                for (id, v) in try mapping(value, key) {
                    let field = "rules.\(id)"
                    guard Policy.builtinRules.contains(id) else {
                        throw fail(v, field, "no such rule; write your own under 'custom:' (rules: \(Policy.builtinRules.joined(separator: ", ")))")
                    }
                    var setting = policy.rules[id] ?? RuleSetting(decision: .ask, reason: "")
                    if case .scalar = v {
                        setting.decision = try verdict(v, field, allowOff: true)
                    } else {
                        for (k, x) in try mapping(v, field) {
                            switch k {
                            case "decision": setting.decision = try verdict(x, "\(field).decision", allowOff: true)
                            case "reason": setting.reason = try string(x, "\(field).reason")
                            default: throw fail(x, "\(field).\(k)", "unknown key (known: decision, reason)")
                            }
                        }
                    }
                    if setting.reason.isEmpty { throw fail(v, "\(field).reason", "a rule needs a reason to show the agent") }
                    policy.rules[id] = setting
                }
            case "custom":
                guard case .sequence(let items, _) = value else {
                    if value.isNull { continue }
                    throw fail(value, key, "must be a list of rules, not \(value.kindName)")
                }
                for (i, item) in items.enumerated() {
                    let field = "custom[\(i)]"
                    var rule = CustomRule(id: "", commands: [], args: [], tools: [], paths: [], decision: .ask, reason: "")
                    var sawDecision = false
                    for (k, x) in try mapping(item, field) {
                        switch k {
                        case "id": rule.id = try string(x, "\(field).id")
                        case "command", "commands": rule.commands = try strings(x, "\(field).\(k)")
                        case "args": rule.args = try strings(x, "\(field).args")
                        case "tool", "tools": rule.tools = try strings(x, "\(field).\(k)")
                        case "path", "paths": rule.paths = try strings(x, "\(field).\(k)")
                        case "decision": rule.decision = try verdict(x, "\(field).decision")!; sawDecision = true
                        case "reason": rule.reason = try string(x, "\(field).reason")
                        default: throw fail(x, "\(field).\(k)", "unknown key (known: id, command, args, tools, paths, decision, reason)")
                        }
                    }
                    if rule.id.isEmpty { throw fail(item, "\(field).id", "missing") }
                    if !sawDecision { throw fail(item, "\(field).decision", "missing") }
                    if rule.reason.isEmpty { throw fail(item, "\(field).reason", "missing") }
                    if rule.commands.isEmpty, rule.paths.isEmpty, rule.tools.isEmpty {
                        throw fail(item, field, "a custom rule needs 'command', 'paths' or 'tools'")
                    }
                    policy.custom.removeAll { $0.id == rule.id }
                    policy.custom.append(rule)
                }
            case "monitor":
                for (k, v) in try mapping(value, key) {
                    let field = "monitor.\(k)"
                    switch k {
                    case "model": policy.monitor.model = v.isNull ? nil : try string(v, field)
                    case "reviews":
                        var set: Set<Verdict> = []
                        for (i, s) in try strings(v, field).enumerated() {
                            guard let x = Verdict(rawValue: s.lowercased()) else { throw fail(v, "\(field)[\(i)]", "must be allow, ask or deny, not '\(s)'") }
                            set.insert(x)
                        }
                        policy.monitor.reviews = set
                    case "timeout_seconds":
                        policy.monitor.timeoutSeconds = try number(v, field)
                    case "transcript_entries":
                        policy.monitor.transcriptEntries = Int(try number(v, field))
                    case "may_allow":
                        switch try string(v, field).lowercased() {
                        case "true", "yes", "on": policy.monitor.mayAllow = true
                        case "false", "no", "off": policy.monitor.mayAllow = false
                        case let other: throw fail(v, field, "must be true or false, not '\(other)'")
                        }
                    default: throw fail(v, field, "unknown key (known: model, reviews, timeout_seconds, transcript_entries, may_allow)")
                    }
                }
            case "hook":
                for (k, v) in try mapping(value, key) {
                    let field = "hook.\(k)"
                    let s = try string(v, field)
                    switch k {
                    case "on_allow":
                        guard s == "pass" || s == "allow" else { throw fail(v, field, "must be pass or allow, not '\(s)'") }
                        policy.hook.onAllow = s
                    case "deny_with":
                        guard s == "json" || s == "exit2" else { throw fail(v, field, "must be json or exit2, not '\(s)'") }
                        policy.hook.denyWith = s
                    default: throw fail(v, field, "unknown key (known: on_allow, deny_with)")
                    }
                }
            case "log":
                policy.logPath = value.isNull ? nil : try string(value, key)
            default:
                throw fail(value, key, "unknown key (known: version, unknown_tools, allowed_tools, paths, git, programs, rules, custom, monitor, hook, log)")
            }
        }
    }
}
