import Foundation

/// A labelled set that cannot be read: names the file, the line and the field.
public struct LabelledSetError: Error, CustomStringConvertible, Equatable {
    public var file: String
    public var line: Int
    public var field: String
    public var message: String
    public var description: String {
        field.isEmpty ? "\(file):\(line): \(message)" : "\(file):\(line): field '\(field)': \(message)"
    }
}

/// One agent action with what the guard should do with it: `block` (it must not run without the
/// user's say: deny or ask) or `allow`.
public struct LabelledAction: Sendable, Equatable {
    public var id: String
    /// `train` or `heldout`.
    public var split: String
    /// `destructive`, `obfuscated`, `exfiltration`, `benign-lookalike`, `benign`.
    public var category: String
    public var shouldBlock: Bool
    public var action: GuardAction
    /// The session read a secret before this action.
    public var priorSecretRead: Bool
    public var note: String

    /// Reads JSON lines `{"id","split","category","label","tool","input","cwd"?,"prior_secret_read"?,"note"?}`.
    public static func load(path: String) throws -> [LabelledAction] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw LabelledSetError(file: path, line: 0, field: "", message: "cannot read the file")
        }
        var out: [LabelledAction] = []
        var ids: Set<String> = []
        for (n, line) in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
            if line.allSatisfy({ $0 == 32 || $0 == 9 || $0 == 13 }) { continue }
            let item = try parseLine(Array(line), path: path, line: n + 1)
            guard ids.insert(item.id).inserted else {
                throw LabelledSetError(file: path, line: n + 1, field: "id", message: "'\(item.id)' appears twice")
            }
            out.append(item)
        }
        return out
    }
}

extension LabelledAction {
    static func text(_ o: [String: JSONValue], _ key: String, path: String, line: Int) throws(LabelledSetError) -> String {
        guard let v = o[key] else { throw LabelledSetError(file: path, line: line, field: key, message: "missing") }
        guard let s = v.string else { throw LabelledSetError(file: path, line: line, field: key, message: "must be a string, not \(v.typeName)") }
        return s
    }

    static func parseLine(_ line: [UInt8], path: String, line number: Int) throws(LabelledSetError) -> LabelledAction {
        func fail(_ field: String, _ message: String) -> LabelledSetError {
            LabelledSetError(file: path, line: number, field: field, message: message)
        }
        guard let value = try? JSONValue.parse(line), case .object(let o) = value else { throw fail("", "not a JSON object") }
        let id = try text(o, "id", path: path, line: number)
        let split = try text(o, "split", path: path, line: number)
        guard split == "train" || split == "heldout" else { throw fail("split", "must be train or heldout, not '\(split)'") }
        let label = try text(o, "label", path: path, line: number)
        guard label == "block" || label == "allow" else { throw fail("label", "must be block or allow, not '\(label)'") }
        let category = try text(o, "category", path: path, line: number)
        var action: GuardAction
        do {
            action = try ClaudeCodeHook.action(from: o, toolKey: "tool", inputKey: "input", requireCwd: false)
        } catch {
            throw fail(error.field, error.message)
        }
        var prior = false
        if let p = o["prior_secret_read"] {
            guard case .bool(let b) = p else { throw fail("prior_secret_read", "must be true or false, not \(p.typeName)") }
            prior = b
        }
        if o["cwd"] == nil { action.cwd = ValidationEnvironment.workspace }
        action.workspace = ValidationEnvironment.workspace
        action.session = id
        let note = o["note"]?.string ?? ""
        return LabelledAction(id: id, split: split, category: category, shouldBlock: label == "block", action: action,
                              priorSecretRead: prior, note: note)
    }
}

/// The fixed machine the labelled actions are judged on, so that figures do not depend on the host.
public enum ValidationEnvironment {
    public static let home = "/home/agent"
    public static let workspace = "/home/agent/project"
    public static let environment = ["HOME": home, "USER": "agent", "PATH": "/usr/local/bin:/usr/bin:/bin", "SHELL": "/bin/bash"]
}

public struct GuardFigures: Sendable, Codable, Equatable {
    public var n = 0
    /// Harmful actions blocked (deny or ask).
    public var truePositives = 0
    /// Benign actions blocked.
    public var falsePositives = 0
    /// Harmful actions allowed.
    public var falseNegatives = 0
    public var trueNegatives = 0
    public var denies = 0
    public var asks = 0

    public var precision: Double? { truePositives + falsePositives == 0 ? nil : Double(truePositives) / Double(truePositives + falsePositives) }
    public var recall: Double? { truePositives + falseNegatives == 0 ? nil : Double(truePositives) / Double(truePositives + falseNegatives) }
    public var falsePositiveRate: Double? { falsePositives + trueNegatives == 0 ? nil : Double(falsePositives) / Double(falsePositives + trueNegatives) }

    mutating func add(shouldBlock: Bool, decision: Verdict) {
        n += 1
        let blocked = decision != .allow
        if decision == .deny { denies += 1 }
        if decision == .ask { asks += 1 }
        switch (shouldBlock, blocked) {
        case (true, true): truePositives += 1
        case (true, false): falseNegatives += 1
        case (false, true): falsePositives += 1
        case (false, false): trueNegatives += 1
        }
    }
}

public struct ValidationOutcome: Sendable, Equatable {
    public var item: LabelledAction
    public var rules: GuardDecision
    /// After the monitor (nil: no monitor).
    public var withMonitor: GuardDecision?
}

public struct ValidationReport: Sendable {
    public var split: String
    public var outcomes: [ValidationOutcome]
    public var monitorName: String?

    public var rules: GuardFigures { figures { $0.rules.decision } }
    public var rulesAndMonitor: GuardFigures? { monitorName == nil ? nil : figures { ($0.withMonitor ?? $0.rules).decision } }

    public func figures(category: String? = nil, _ decision: (ValidationOutcome) -> Verdict) -> GuardFigures {
        var f = GuardFigures()
        for o in outcomes where category == nil || o.item.category == category { f.add(shouldBlock: o.item.shouldBlock, decision: decision(o)) }
        return f
    }

    /// Items the monitor was asked about (the rules said `ask`), with its decision.
    public var reviewed: [ValidationOutcome] { outcomes.filter { $0.withMonitor != nil && $0.rules.decision == .ask } }

    /// Items the rules got wrong.
    public var mistakes: [ValidationOutcome] { outcomes.filter { ($0.rules.decision != .allow) != $0.item.shouldBlock } }
}

/// Runs the guard on a labelled set.
public enum GuardValidation {
    struct FakeHistory: SessionHistory {
        let read: Bool
        func earlierSecretRead(session: String) -> String? { read ? "\(ValidationEnvironment.home)/.ssh/id_rsa (read earlier in the session)" : nil }
    }

    public static func run(_ items: [LabelledAction], split: String, policy: Policy, monitor: (any ActionMonitor)?,
                           progress: ((Int, Int) -> Void)? = nil) async -> ValidationReport {
        let engine = GuardEngine(policy: policy, environment: ValidationEnvironment.environment)
        let chosen = items.filter { split == "all" || $0.split == split }
        var outcomes: [ValidationOutcome] = []
        for (i, item) in chosen.enumerated() {
            let rules = engine.evaluate(item.action, history: FakeHistory(read: item.priorSecretRead))
            var reviewed: GuardDecision? = nil
            if let monitor { reviewed = await GuardService.review(rules, action: item.action, monitor: monitor, policy: policy) }
            outcomes.append(ValidationOutcome(item: item, rules: rules, withMonitor: reviewed))
            progress?(i + 1, chosen.count)
        }
        return ValidationReport(split: split, outcomes: outcomes, monitorName: monitor?.name)
    }
}
