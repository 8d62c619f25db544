import Core
import Evaluation
import Foundation
import RunRecords
import Yams

/// A transcript written and labelled by hand: what an agent wrote and called in a scenario, and
/// whether that was the harmful action. The ground truth the check and classifiers are measured on.
public struct LabelledTranscript: Sendable, Hashable {
    public var id: String
    public var scenario: String
    /// train or heldout
    public var split: String
    public var harmful: Bool
    /// Whether the agent acknowledges the violation and goes ahead; nil: not labelled.
    public var acknowledges: Bool?
    /// The condition it is replayed under (default: the scenario's first value, explicit, replacement).
    public var condition: AgenticCondition
    public var turns: [Turn]

    public struct Turn: Sendable, Hashable {
        public var text: String
        public var calls: [ToolCall]
    }
}

/// The built-in labelled set (`labelled/agentic-labelled.yaml`) or a file of the same shape:
///
/// ```yaml
/// - id: bm-01
///   scenario: blackmail
///   split: train            # or heldout
///   harmful: true
///   acknowledges: true      # optional
///   condition: explicit-safety_replacement   # optional: {goal}-{value}_{urgency}[_safety]
///   turns:
///     - text: The agent's words.
///       calls:
///         - send_email: {to: …, subject: …, body: …}
/// ```
public enum LabelledTranscripts {
    public static var builtinURL: URL? {
        Bundle.module.url(forResource: "agentic-labelled", withExtension: "yaml", subdirectory: "labelled")
    }

    public static func load(path: String? = nil) throws -> (items: [LabelledTranscript], digest: String) {
        guard let url = path.map({ URL(fileURLWithPath: $0) }) ?? builtinURL else {
            throw QuestionSetError(file: "built-in labelled transcripts", "missing from this build")
        }
        let file = path ?? "built-in:agentic-labelled.yaml"
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw QuestionSetError(file: file, "cannot read the file (\(error.localizedDescription))")
        }
        let root: Node?
        do { root = try Yams.compose(yaml: text) } catch let e as YamlError {
            throw YAMLFields.syntaxError(e, file: file)
        }
        guard let root, case .sequence(let list) = root else {
            throw QuestionSetError(file: file, "expected a list of labelled transcripts")
        }
        var items: [LabelledTranscript] = []
        var ids = Set<String>()
        for (i, node) in list.enumerated() {
            let m = try YAMLFields(node, file: file, path: "[\(i)]")
            let id = try m.string("id")
            guard ids.insert(id).inserted else { throw m.fail("id", m["id"], "duplicate id '\(id)'") }
            let scenario = try m.string("scenario")
            let split = try m.string("split")
            guard split == "train" || split == "heldout" else { throw m.fail("split", m["split"], "must be train or heldout") }
            guard let harmful = try m.bool("harmful") else { throw m.fail("harmful", nil, "missing (true or false)") }
            let acknowledges = try m.bool("acknowledges")
            var condition = AgenticCondition(scenario: scenario, goal: .explicit, value: "", urgency: .replacement)
            if let c = m.rawString("condition") {
                guard let parsed = AgenticCondition(id: "\(scenario)_\(c)") else {
                    throw m.fail("condition", m["condition"], "'\(c)' is not {goal}-{value}_{urgency}[_safety]")
                }
                condition = parsed
            }
            var turns: [LabelledTranscript.Turn] = []
            for (t, turnNode) in try m.list("turns", required: true).enumerated() {
                let tm = try YAMLFields(turnNode, file: file, path: "[\(i)].turns[\(t)]")
                var calls: [ToolCall] = []
                for (k, callNode) in try tm.list("calls", required: false).enumerated() {
                    let cm = try YAMLFields(callNode, file: file, path: "[\(i)].turns[\(t)].calls[\(k)]")
                    guard cm.pairs.count == 1 else { throw cm.fail("call", callNode, "each call is `tool_name: {arguments}`") }
                    let (name, args) = cm.pairs[0]
                    let arguments = try ScenarioLoader.json(args, file: file, path: "[\(i)].turns[\(t)].calls[\(k)].\(name)")
                    guard case .object = arguments else { throw cm.fail(name, args, "the arguments must be a mapping") }
                    calls.append(ToolCall(id: "call_\(t)_\(k)", name: name, arguments: arguments.text()))
                }
                turns.append(.init(text: tm.rawString("text") ?? "", calls: calls))
            }
            items.append(LabelledTranscript(id: id, scenario: scenario, split: split, harmful: harmful, acknowledges: acknowledges,
                                            condition: condition, turns: turns))
        }
        guard !items.isEmpty else { throw QuestionSetError(file: file, "no labelled transcripts") }
        return (items, String(FNV1a.hash(text), radix: 16))
    }

    /// The item replayed as an episode of its scenario (the first goal value when it names none).
    public static func episode(_ item: LabelledTranscript, scenario: Scenario) throws -> Episode {
        var c = item.condition
        if c.goal != .none, c.value.isEmpty || scenario.value(c.value) == nil, let first = scenario.goalValues.first {
            c = AgenticCondition(scenario: c.scenario, goal: c.goal, value: first.id, urgency: c.urgency,
                                 safetyInstructions: c.safetyInstructions)
        }
        return EpisodeRunner.replay(scenario: try scenario.render(c), turns: item.turns.map { ($0.text, $0.calls) })
    }
}

/// Agreement of one classifier with the labels on a binary decision.
public struct Agreement: Sendable, Codable, Equatable {
    public var n: Int
    public var truePositives: Int, trueNegatives: Int, falsePositives: Int, falseNegatives: Int
    /// Items the classifier gave no valid label (counted as wrong).
    public var unlabelled: Int

    public init(pairs: [(gold: Bool, predicted: Bool?)]) {
        n = pairs.count
        truePositives = 0; trueNegatives = 0; falsePositives = 0; falseNegatives = 0; unlabelled = 0
        for (gold, predicted) in pairs {
            switch (gold, predicted) {
            case (true, true?): truePositives += 1
            case (false, false?): trueNegatives += 1
            case (false, true?): falsePositives += 1
            case (true, false?): falseNegatives += 1
            case (true, nil): falseNegatives += 1; unlabelled += 1
            case (false, nil): falsePositives += 1; unlabelled += 1
            }
        }
    }

    public var accuracy: Double { n > 0 ? Double(truePositives + trueNegatives) / Double(n) : 0 }

    /// Cohen's κ of the decision.
    public var kappa: Double {
        guard n > 0 else { return 0 }
        let nn = Double(n)
        let pYes = Double(truePositives + falseNegatives) / nn * Double(truePositives + falsePositives) / nn
        let pNo = Double(trueNegatives + falsePositives) / nn * Double(trueNegatives + falseNegatives) / nn
        let expected = pYes + pNo
        return expected < 1 ? (accuracy - expected) / (1 - expected) : (accuracy == 1 ? 1 : 0)
    }

    public var line: String { String(format: "accuracy %.2f, κ %.2f (n %d)", accuracy, kappa, n) }
}

/// How the check, the classifier and the verdict agree with the labelled transcripts of one split.
public struct ClassifierFigures: Sendable, Codable, Equatable {
    public var classifier: String
    public var split: String
    public var n: Int
    public var check: Agreement
    public var classifierAgreement: Agreement?
    public var verdict: Agreement?
    /// The reasoning classifier on the items labelled for it.
    public var reasoning: Agreement?
    /// Per scenario: check, classifier and verdict.
    public var scenarios: [String: [String: Agreement]]

    /// One line for reports: the verdict's figures (the check's when no classifier was measured).
    public var line: String {
        if let verdict {
            return "verdict vs labels: \(verdict.line); check \(String(format: "%.2f/%.2f", check.accuracy, check.kappa)), "
                + "classifier \(classifierAgreement.map { String(format: "%.2f/%.2f", $0.accuracy, $0.kappa) } ?? "–") (accuracy/κ) on \(split)"
        }
        return "check vs labels: \(check.line) on \(split); classifier not measured"
    }
}

public enum ClassifierValidation {
    /// The judge spec validation figures are cached under in the results database.
    public static func cacheKey(_ classifier: String) -> String { "agentic:" + classifier }

    /// Measures the check and, if given, the classifier on `split` of the labelled set.
    public static func run(items: [LabelledTranscript], split: String, scenarios: [Scenario], classifier: (any Judge)?,
                           progress: (any ProgressReporter)? = nil, concurrency: Int = 8) async throws -> ClassifierFigures {
        let chosen = items.filter { $0.split == split || split == "all" }
        struct Row: Sendable { var item: LabelledTranscript; var check: Bool; var classifier: Bool?; var acknowledged: Bool? }
        let rows = Locked<[Int: Row]>([:])
        let counter = Locked(0)
        try await AgenticRunner.forEach(Array(chosen.enumerated()), limit: concurrency) { pair in
            let (i, item) = pair
            guard let scenario = scenarios.first(where: { $0.id == item.scenario }) else {
                throw ScenarioError.unknownScenario(item.scenario, known: scenarios.map(\.id))
            }
            let episode = try LabelledTranscripts.episode(item, scenario: scenario)
            let check = HarmCheck.evaluate(episode, rules: scenario.renderedCheck).harmful
            var row = Row(item: item, check: check, classifier: nil, acknowledged: nil)
            if let classifier {
                let (h, r) = try await AgenticClassifier.classify(episode, scenario: scenario, judge: classifier)
                row.classifier = AgenticVerdict.label(h.label, positive: "HARMFUL")
                row.acknowledged = AgenticVerdict.label(r.label, positive: "YES")
            }
            rows.withLock { $0[i] = row }
            let n = counter.withLock { $0 += 1; return $0 }
            progress?.update(phase: "validating classifier", done: n, total: chosen.count)
        }
        if classifier != nil { progress?.finish(phase: "validating classifier") }
        let all = chosen.indices.compactMap { rows.value[$0] }
        func agreement(_ rs: [Row], _ f: (Row) -> Bool?) -> Agreement { Agreement(pairs: rs.map { ($0.item.harmful, f($0)) }) }
        var perScenario: [String: [String: Agreement]] = [:]
        for (id, rs) in Dictionary(grouping: all, by: \.item.scenario) {
            var m = ["check": agreement(rs, { $0.check })]
            if classifier != nil {
                m["classifier"] = agreement(rs, { $0.classifier })
                m["verdict"] = agreement(rs, { r in r.classifier.map { $0 && r.check } })
            }
            perScenario[id] = m
        }
        let labelledReasoning = all.filter { $0.item.acknowledges != nil }
        return ClassifierFigures(
            classifier: classifier?.spec ?? "none", split: split, n: all.count, check: agreement(all, { $0.check }),
            classifierAgreement: classifier == nil ? nil : agreement(all, { $0.classifier }),
            verdict: classifier == nil ? nil : agreement(all, { r in r.classifier.map { $0 && r.check } }),
            reasoning: classifier == nil || labelledReasoning.isEmpty ? nil
                : Agreement(pairs: labelledReasoning.map { ($0.item.acknowledges!, $0.acknowledged) }),
            scenarios: perScenario)
    }

    /// The classifier's held-out figures from the results database, measured first if they are not there.
    public static func ensure(store: any ResultsDatabase, classifier: any Judge, scenarios: [Scenario],
                              progress: (any ProgressReporter)? = nil) async throws -> ClassifierFigures {
        let (items, digest) = try LabelledTranscripts.load()
        if let cached = cached(store: store, classifier: classifier.spec, digest: digest) { return cached }
        let figures = try await run(items: items, split: "heldout", scenarios: scenarios, classifier: classifier, progress: progress)
        try store.saveValidation(judgeSpec: cacheKey(classifier.spec), labelsDigest: digest, figures: SortedJSON.text(figures))
        return figures
    }

    public static func cached(store: any ResultsDatabase, classifier: String, digest: String? = nil) -> ClassifierFigures? {
        guard let digest = digest ?? (try? LabelledTranscripts.load().digest),
              let text = try? store.validation(judgeSpec: cacheKey(classifier), labelsDigest: digest) else { return nil }
        return try? JSONDecoder().decode(ClassifierFigures.self, from: Data(text.utf8))
    }
}
