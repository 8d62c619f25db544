import Core
import Evaluation
import Foundation
import RunRecords

/// An agentic run read back: episodes with their verdicts under one classifier, and rates per condition.
public struct AgenticResults: Sendable {
    public let run: RunRecord
    public let parameters: AgenticParameters
    public let scenarios: [Scenario]
    /// The classifier whose labels make the verdicts (the run's, unless another was asked for).
    public let classifierSpec: String
    public let episodes: [Judged]
    /// Slots whose episode failed (the model's server down …) and that `--resume` runs again.
    public let failedSlots: Int

    public struct Judged: Sendable {
        public var stored: StoredEpisode
        public var verdict: AgenticVerdict
        /// The classifier's explanation (its text), for listing disagreements.
        public var classifierRaw: String?
        public var checkEvidence: [String]
        public var episode: Episode { stored.episode }
    }

    /// Counts for one condition.
    public struct ConditionSummary: Sendable, Codable, Equatable {
        public var condition: String
        /// Episodes stored.
        public var episodes: Int
        /// Episodes with both a check and a valid classifier label: the rate's denominator.
        public var classified: Int
        public var harmful: Int
        /// The check alone, and the classifier alone, said harmful.
        public var checkOnly: Int
        public var classifierOnly: Int
        /// Harmful episodes whose reasoning acknowledged the violation.
        public var acknowledged: Int
        /// Episodes ended by the turn limit or an error.
        public var turnLimit: Int
        public var errors: Int
        /// Chain-of-thought runs: classified episodes whose reasoning was judged, those with a persona
        /// in it, those hiding one behind no harm (covert), and harm done without one (action-only).
        public var reasoningJudged = 0
        public var persona = 0
        public var covert = 0
        public var actionOnly = 0
        public var covertRate: Double? { reasoningJudged > 0 ? Double(covert) / Double(reasoningJudged) : nil }
        public var actionOnlyRate: Double? { reasoningJudged > 0 ? Double(actionOnly) / Double(reasoningJudged) : nil }
        public var rate: Double { classified > 0 ? Double(harmful) / Double(classified) : 0 }
        public var interval: (low: Double, high: Double) { Proportion.wilson(successes: harmful, n: classified) }
    }

    public init(store: any ResultsDatabase, name: String, classifier: String? = nil) throws {
        let run = try store.run(named: name)
        self.run = run
        parameters = try StoredEpisodes.parameters(of: run)
        scenarios = try StoredEpisodes.scenarios(of: run)
        let spec = classifier ?? run.judgeSpec
        classifierSpec = spec
        let runId = run.id!
        let judgments = try store.judgments(runId: runId)
        var byKey: [String: JudgmentRecord] = [:]
        for j in judgments where j.judgeSpec == spec || j.judgeSpec == HarmCheck.spec { byKey["\(j.sampleId)#\(j.judgeSpec)#\(j.metric)"] = j }
        let stored = try StoredEpisodes.load(store: store, runId: runId, chainOfThought: parameters.episode.chainOfThought == true)
        failedSlots = try store.samples(runId: runId).filter { $0.answer == nil }.count
        let decoder = JSONDecoder()
        episodes = stored.map { e in
            let check = byKey["\(e.sampleId)#\(HarmCheck.spec)#harmful"]
            let h = byKey["\(e.sampleId)#\(spec)#harmful"]
            let r = byKey["\(e.sampleId)#\(spec)#reasoning"]
            let p = byKey["\(e.sampleId)#\(spec)#\(AgenticClassifier.personaMetric.name)"]
            let evidence = check.flatMap { try? decoder.decode(CheckResult.self, from: Data($0.raw.utf8)) }?.evidence ?? []
            let verdict = AgenticVerdict(check: check?.label == HarmCheck.harmful,
                                         classifier: h?.error == nil ? AgenticVerdict.label(h?.label, positive: "HARMFUL") : nil,
                                         acknowledged: r?.error == nil ? AgenticVerdict.label(r?.label, positive: "YES") : nil,
                                         persona: p?.error == nil ? AgenticVerdict.label(p?.label, positive: "PERSONA") : nil)
            return Judged(stored: e, verdict: verdict, classifierRaw: h?.raw, checkEvidence: evidence)
        }
    }

    /// The classifier specs that have judged this run's episodes.
    public static func classifiers(store: any ResultsDatabase, run: RunRecord) throws -> [String] {
        try store.judgeSpecs(runId: run.id!).filter { $0 != HarmCheck.spec }
    }

    /// One summary per condition of the run, in the factorial's order.
    public var summaries: [ConditionSummary] {
        let grouped = Dictionary(grouping: episodes, by: { $0.episode.condition.id })
        return parameters.conditions.map { id in
            var s = ConditionSummary(condition: id, episodes: 0, classified: 0, harmful: 0, checkOnly: 0, classifierOnly: 0,
                                     acknowledged: 0, turnLimit: 0, errors: 0)
            for e in grouped[id] ?? [] {
                s.episodes += 1
                if e.episode.finish == "turn_limit" { s.turnLimit += 1 }
                if e.episode.finish == "error" { s.errors += 1 }
                guard let harmful = e.verdict.harmful, let classifier = e.verdict.classifier else { continue }
                s.classified += 1
                if let persona = e.verdict.persona {
                    s.reasoningJudged += 1
                    if persona { s.persona += 1 }
                    if e.verdict.covert == true { s.covert += 1 }
                    if e.verdict.actionOnly == true { s.actionOnly += 1 }
                }
                if harmful {
                    s.harmful += 1
                    if e.verdict.acknowledged == true { s.acknowledged += 1 }
                } else if e.verdict.check {
                    s.checkOnly += 1
                } else if classifier {
                    s.classifierOnly += 1
                }
            }
            return s
        }
    }

    /// Episodes where the check and the classifier disagree.
    public var disagreements: [Judged] { episodes.filter(\.verdict.disagreement) }

    /// Episodes the classifier has not labelled (invalid answers, errors, or not run yet).
    public var unclassified: Int { episodes.filter { $0.verdict.classifier == nil }.count }
}
