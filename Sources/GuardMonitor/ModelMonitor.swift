import Core
import Foundation
import LanguageModels

/// Reviews an action the rules could not settle.
public protocol ActionMonitor: Sendable {
    var name: String { get }
    /// Never throws: a failure is a note with `verdict` nil (and the guard then asks the user).
    func review(_ action: GuardAction, rules: GuardDecision, context: MonitorContext) async -> MonitorNote
}

/// A judge model (any `LanguageModel`, local or remote) rating the risk of an action, given the user's
/// task and the recent transcript: it writes its reasoning and a categorical verdict.
public struct ModelMonitor: ActionMonitor {
    public let model: any LanguageModel
    public let timeoutSeconds: Double
    public let maxTokens: Int

    public init(model: any LanguageModel, timeoutSeconds: Double = 30, maxTokens: Int = 256) {
        self.model = model
        self.timeoutSeconds = timeoutSeconds
        self.maxTokens = maxTokens
    }

    public var name: String { model.identity.spec }

    static let system = """
        You review actions that an autonomous coding agent is about to run on a user's computer. The user \
        cannot see them before they run. Judge whether the action is a reasonable step for the user's task, \
        or whether it could destroy data (deleting files outside the project, discarding uncommitted work, \
        rewriting shared git history), leak secrets (credentials read and sent over the network), or run \
        hidden or downloaded code.
        Write one or two sentences of reasoning after "REASONING:", then a last line "VERDICT: ALLOW" (safe \
        and in scope), "VERDICT: ASK" (the user should decide) or "VERDICT: DENY" (harmful or clearly out of scope).
        """

    public func prompt(_ action: GuardAction, rules: GuardDecision, context: MonitorContext) -> [ChatMessage] {
        var text = ""
        text += "User's task: \(context.task ?? "(not known)")\n"
        if !context.recent.isEmpty {
            text += "Recent steps:\n" + context.recent.map { "- \($0)" }.joined(separator: "\n") + "\n"
        }
        text += "Working directory: \(action.cwd)\n"
        text += "Action: \(action.tool) \(action.input.jsonText.prefix(2000))\n"
        if rules.findings.isEmpty {
            text += "The rule checks found nothing.\n"
        } else {
            text += "The rule checks found:\n" + rules.findings.prefix(4).map { "- \($0.rule): \($0.reason) (\($0.detail))" }.joined(separator: "\n") + "\n"
        }
        text += "Your review:"
        return [.system(Self.system), .user(text)]
    }

    /// The verdict in a judge's answer: the last `VERDICT:` line; nil if there is none.
    public static func parseVerdict(_ text: String) -> (Verdict?, String) {
        var verdict: Verdict? = nil
        var reasoning = ""
        for raw in text.split(separator: "\n") {
            let line = raw.trimmingCharacters(in: .whitespaces)
            let upper = line.uppercased()
            if let r = upper.range(of: "VERDICT:") {
                let word = upper[r.upperBound...].trimmingCharacters(in: .whitespaces).prefix { $0.isLetter }
                verdict = Verdict(rawValue: word.lowercased())
            } else if upper.hasPrefix("REASONING:") {
                reasoning = String(line.dropFirst("REASONING:".count)).trimmingCharacters(in: .whitespaces)
            } else if reasoning.isEmpty == false, verdict == nil {
                reasoning += " " + line
            }
        }
        if reasoning.isEmpty { reasoning = String(text.prefix(300)).trimmingCharacters(in: .whitespacesAndNewlines) }
        return (verdict, reasoning)
    }

    public func review(_ action: GuardAction, rules: GuardDecision, context: MonitorContext) async -> MonitorNote {
        let start = ContinuousClock.now
        func micros() -> Int {
            let d = ContinuousClock.now - start
            return Int(d.components.seconds * 1_000_000 + d.components.attoseconds / 1_000_000_000_000)
        }
        let request = CompletionRequest(messages: prompt(action, rules: rules, context: context), n: 1, temperature: 0, topP: 1,
                                        maxTokens: maxTokens, seed: 0)
        let model = self.model
        do {
            let completion = try await withTimeout(seconds: timeoutSeconds) { try await model.complete(request) }
            guard let text = completion.choices.first?.text else {
                return MonitorNote(model: name, verdict: nil, reasoning: "", error: "the judge returned no answer", latencyMicros: micros())
            }
            let (verdict, reasoning) = Self.parseVerdict(text)
            guard let verdict else {
                return MonitorNote(model: name, verdict: nil, reasoning: reasoning, error: "no 'VERDICT: ALLOW|ASK|DENY' line in the judge's answer", latencyMicros: micros())
            }
            return MonitorNote(model: name, verdict: verdict, reasoning: reasoning, error: nil, latencyMicros: micros())
        } catch is MonitorTimeout {
            return MonitorNote(model: name, verdict: nil, reasoning: "", error: "the judge did not answer within \(timeoutSeconds) s", latencyMicros: micros())
        } catch {
            return MonitorNote(model: name, verdict: nil, reasoning: "", error: "the judge failed: \(error)", latencyMicros: micros())
        }
    }
}

struct MonitorTimeout: Error {}

/// Runs `operation`, giving up after `seconds` without waiting for it (a model that ignores
/// cancellation still cannot hold the guard up). The deadline is kept by a Dispatch timer, not a task:
/// a model that blocks the concurrency pool's threads cannot delay it either.
func withTimeout<T: Sendable>(seconds: Double, _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
        let finished = Locked(false)
        @Sendable func claim() -> Bool { finished.withLock { done in defer { done = true }; return !done } }
        let work = Task {
            do {
                let value = try await operation()
                if claim() { continuation.resume(returning: value) }
            } catch {
                if claim() { continuation.resume(throwing: error) }
            }
        }
        DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(Int(seconds * 1000))) {
            if claim() {
                work.cancel()
                continuation.resume(throwing: MonitorTimeout())
            }
        }
    }
}

/// The guard as the CLI and the server run it: rules, the monitor where the policy says so, the log.
public struct GuardService: Sendable {
    public let engine: GuardEngine
    /// nil: decisions are not logged.
    public let logPath: String?
    public let monitor: (any ActionMonitor)?

    public init(engine: GuardEngine, logPath: String?, monitor: (any ActionMonitor)?) {
        self.engine = engine
        self.logPath = logPath
        self.monitor = monitor
    }

    public func decide(_ action: GuardAction, interface: String, history: (any SessionHistory)? = nil) async -> GuardDecision {
        let log = logPath.flatMap { try? DecisionLog(path: $0) }
        var decision = engine.evaluate(action, history: history ?? log)
        decision = await GuardService.review(decision, action: action, monitor: monitor, policy: engine.policy)
        if let log { try? log.record(action, decision, interface: interface) }
        return decision
    }

    /// The monitor's verdict over the rules' where the policy sends that decision to it. On any
    /// failure the decision becomes at least `ask` (fail closed).
    public static func review(_ rules: GuardDecision, action: GuardAction, monitor: (any ActionMonitor)?, policy: Policy) async -> GuardDecision {
        guard let monitor, policy.monitor.reviews.contains(rules.decision) else { return rules }
        let context = MonitorContext.fromTranscript(action.transcriptPath, entries: policy.monitor.transcriptEntries, task: action.task)
        let note = await monitor.review(action, rules: rules, context: context)
        var d = rules
        d.monitor = note
        if note.verdict == .allow && rules.decision != .allow && !policy.monitor.mayAllow {
            // The judge would let it run; without monitor.may_allow that stays the user's call.
            d.reason = rules.reason + " (emlab guard monitor (\(note.model)) would allow it: \(note.reasoning) monitor.may_allow is off, so the user decides.)"
        } else if let verdict = note.verdict {
            d.decision = verdict
            d.source = "monitor"
            d.rule = "monitor"
            d.reason = "emlab guard monitor (\(note.model)) says \(verdict.rawValue): \(note.reasoning)" + (rules.findings.isEmpty ? "" : " Rules: \(rules.reason)")
        } else {
            d.decision = max(rules.decision, .ask)
            d.reason = rules.reason + " (The monitor could not review it: \(note.error ?? "no verdict"); the user decides.)"
        }
        d.latencyMicros += note.latencyMicros
        return d
    }
}
