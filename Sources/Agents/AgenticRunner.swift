import Core
import Evaluation
import Foundation
import LanguageModels
import RunRecords

/// Everything that decides an agentic run's numbers; stored with the run and checked on `--resume`.
public struct AgenticParameters: Sendable, Codable, Equatable {
    public var scenarios: [String]
    public var goals: [GoalType]
    public var values: [String]
    public var urgencies: [Urgency]
    /// false: without the safety instructions, true: with them.
    public var safety: [Bool]
    /// Episodes per condition.
    public var samples: Int
    public var episode: EpisodeSettings
    public var seed: UInt64
    /// The factorial's cells, by id.
    public var conditions: [String]

    public init(scenarios: [String], goals: [GoalType], values: [String], urgencies: [Urgency], safety: [Bool] = [false],
                samples: Int, episode: EpisodeSettings = EpisodeSettings(), seed: UInt64 = 0) {
        self.scenarios = scenarios
        self.goals = goals
        self.values = values
        self.urgencies = urgencies
        self.safety = safety
        self.samples = samples
        self.episode = episode
        self.seed = seed
        conditions = AgenticCondition.factorial(scenarios: scenarios, goals: goals, values: values, urgencies: urgencies,
                                                safety: safety).map(\.id)
    }

    public var cells: [AgenticCondition] { conditions.compactMap(AgenticCondition.init(id:)) }
}

public enum AgenticError: Error, CustomStringConvertible {
    case notAgentic(run: String, kind: String)
    case storedScenarios(run: String, why: String)

    public var description: String {
        switch self {
        case .notAgentic(let r, let k): "run '\(r)' is a \(k) run, not an agentic one"
        case .storedScenarios(let r, let why): "run '\(r)': its stored scenarios cannot be read (\(why))"
        }
    }
}

/// Runs the factorial's episodes, stores each as it ends, then classifies them; resumes without
/// redoing an episode or a judgment.
public final class AgenticRunner: Sendable {
    public let store: any ResultsDatabase
    public let model: any LanguageModel
    public let classifier: any Judge
    public let scenarios: [Scenario]
    public let parameters: AgenticParameters
    public let progress: (any ProgressReporter)?
    public let concurrency: Int

    public init(store: any ResultsDatabase, model: any LanguageModel, classifier: any Judge, scenarios: [Scenario],
                parameters: AgenticParameters, progress: (any ProgressReporter)? = nil, concurrency: Int = 8) {
        self.store = store
        self.model = model
        self.classifier = classifier
        self.scenarios = scenarios
        self.parameters = parameters
        self.progress = progress
        self.concurrency = concurrency
    }

    /// The seed of episode `sample` of `condition`.
    public static func seed(run: UInt64, condition: String, sample: Int) -> UInt64 {
        SplitMix64.mix(run, FNV1a.hash("\(condition)\u{1f}\(sample)"))
    }

    /// Runs (or resumes) `name` and returns its record.
    @discardableResult
    public func run(name: String, resume: Bool) async throws -> RunRecord {
        for c in parameters.cells {
            guard let s = scenarios.first(where: { $0.id == c.scenario }) else { throw ScenarioError.unknownScenario(c.scenario, known: scenarios.map(\.id)) }
            _ = try s.render(c)   // an unknown value fails now, not after an hour of episodes
        }
        let record = RunRecord(name: name, kind: "agentic", modelSpec: model.identity.spec, modelResolved: model.identity.resolved,
                               judgeSpec: classifier.spec, judgeResolved: classifier.spec, toolVersion: EvalRunner.toolVersion,
                               parameters: SortedJSON.text(parameters), questions: SortedJSON.text(scenarios))
        let run = try store.beginRun(record, resume: resume)
        if resume {
            if run.parameters != record.parameters {
                let stored = (try? JSONDecoder().decode(AgenticParameters.self, from: Data(run.parameters.utf8)))
                throw StoreError.runMismatch(name: name, field: "the factorial and settings",
                                             stored: stored.map { Self.describe($0) } ?? run.parameters, requested: Self.describe(parameters))
            }
            if run.questions != record.questions {
                throw StoreError.runMismatch(name: name, field: "the scenarios", stored: "the files as they were then",
                                             requested: "changed files (start a new run)")
            }
        }
        let runId = run.id!
        try await generate(runId: runId)
        try await Self.classify(store: store, runId: runId, scenarios: scenarios, classifier: classifier, progress: progress,
                                concurrency: concurrency, chainOfThought: parameters.episode.chainOfThought == true)
        try store.finishRun(id: runId)
        return try store.run(named: name)
    }

    static func describe(_ p: AgenticParameters) -> String {
        "\(p.conditions.count) conditions × \(p.samples) samples, \(p.episode.maxTurns) turns, temperature \(p.episode.temperature), seed \(p.seed)"
    }

    private func generate(runId: Int64) async throws {
        let done = Set(try store.samples(runId: runId).filter { $0.answer != nil }.map { "\($0.condition)#\($0.sampleIndex)" })
        var work: [(AgenticCondition, Int)] = []
        for c in parameters.cells {
            for i in 0..<parameters.samples where !done.contains("\(c.id)#\(i)") { work.append((c, i)) }
        }
        let total = parameters.cells.count * parameters.samples
        let counter = Locked(total - work.count)
        progress?.update(phase: "episodes", done: counter.value, total: total)
        let failures = Locked(0)
        try await Self.forEach(work, limit: concurrency) { item in
            let (c, i) = item
            let scenario = self.scenarios.first { $0.id == c.scenario }!
            let rendered = try scenario.render(c)
            let seed = Self.seed(run: self.parameters.seed, condition: c.id, sample: i)
            do {
                let episode = try await EpisodeRunner.run(model: self.model, scenario: rendered, sampleIndex: i, seed: seed,
                                                          settings: self.parameters.episode)
                try Self.save(episode, scenario: rendered, runId: runId, store: self.store)
            } catch let e as TransientEpisodeError {
                // Kept as a failed slot: reported, and run again by --resume.
                failures.withLock { $0 += 1 }
                try self.store.saveSample(SampleRecord(runId: runId, condition: c.id, questionId: c.scenario, paraphraseIndex: 0,
                                                       sampleIndex: i, system: rendered.system, prompt: rendered.task, messages: "[]",
                                                       answer: nil, finishReason: nil, promptTokens: 0, completionTokens: 0, seed: seed,
                                                       stream: 0, error: e.description))
            }
            let n = counter.withLock { $0 += 1; return $0 }
            self.progress?.update(phase: "episodes", done: n, total: total)
        }
        if total > 0 { progress?.finish(phase: "episodes") }
    }

    static func save(_ episode: Episode, scenario: RenderedScenario, runId: Int64, store: any ResultsDatabase) throws {
        let texts = episode.assistantTexts
        let sample = SampleRecord(runId: runId, condition: episode.condition.id, questionId: episode.condition.scenario,
                                  paraphraseIndex: 0, sampleIndex: episode.sampleIndex, system: scenario.system, prompt: scenario.task,
                                  messages: SortedJSON.text(episode.messages),
                                  answer: episode.messages.last(where: { $0.role == .assistant })?.content ?? "",
                                  reasoning: episode.reasoning ?? (texts.isEmpty ? nil : texts.joined(separator: "\n\n")), finishReason: episode.finish,
                                  promptTokens: episode.usage.promptTokens, completionTokens: episode.usage.completionTokens,
                                  seed: episode.seed, stream: episode.turns, error: episode.error)
        let calls = episode.actions.map { a in
            ToolCallRecord(sampleId: 0, turn: a.turn, position: a.position, callId: a.callId, name: a.name, arguments: a.arguments,
                           result: a.result, status: a.status.rawValue, effect: a.sent.map { SortedJSON.text($0) })
        }
        try store.saveEpisode(sample, calls: calls)
    }

    /// Classifies every stored episode of a run that `classifier` (and the check) has not judged yet.
    /// Used after a run, and on its own to classify again with another classifier (no episode re-run).
    /// With `chainOfThought`, each episode's private reasoning is also judged for a persona (metric `persona`).
    public static func classify(store: any ResultsDatabase, runId: Int64, scenarios: [Scenario], classifier: any Judge,
                                progress: (any ProgressReporter)?, concurrency: Int, chainOfThought: Bool) async throws {
        let episodes = try StoredEpisodes.load(store: store, runId: runId, chainOfThought: chainOfThought)
        let judged = try store.judgments(runId: runId)
        var have = Set<String>()
        for j in judged where j.error == nil { have.insert("\(j.sampleId)#\(j.judgeSpec)#\(j.metric)") }
        // The deterministic check: instant, stored for every episode.
        for e in episodes {
            guard let scenario = scenarios.first(where: { $0.id == e.episode.condition.scenario }),
                  !have.contains("\(e.sampleId)#\(HarmCheck.spec)#harmful") else { continue }
            let r = HarmCheck.evaluate(e.episode, rules: scenario.renderedCheck)
            try store.saveJudgment(JudgmentRecord(sampleId: e.sampleId, judgeSpec: HarmCheck.spec, metric: "harmful",
                                                  score: r.harmful ? 100 : 0, label: r.harmful ? HarmCheck.harmful : HarmCheck.notHarmful,
                                                  method: "deterministic", raw: SortedJSON.text(r), error: nil))
        }
        let metrics = ["harmful", "reasoning"] + (chainOfThought ? [AgenticClassifier.personaMetric.name] : [])
        let todo = episodes.filter { e in metrics.contains { !have.contains("\(e.sampleId)#\(classifier.spec)#\($0)") } }
        guard !todo.isEmpty else { return }
        let counter = Locked(0)
        progress?.update(phase: "classifying", done: 0, total: todo.count)
        try await forEach(todo, limit: concurrency) { e in
            guard let scenario = scenarios.first(where: { $0.id == e.episode.condition.scenario }) else { return }
            do {
                let (h, r) = try await AgenticClassifier.classify(e.episode, scenario: scenario, judge: classifier)
                var judged = [h, r]
                if chainOfThought { judged.append(try await AgenticClassifier.persona(e.episode.reasoning ?? "", scenario: scenario, judge: classifier)) }
                for j in judged {
                    try store.saveJudgment(JudgmentRecord(sampleId: e.sampleId, judgeSpec: classifier.spec, metric: j.metric,
                                                          score: j.score, label: j.label, method: j.method, raw: j.raw, error: nil))
                }
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                // Recorded, so the report counts it and a later classify retries it.
                for metric in metrics {
                    try store.saveJudgment(JudgmentRecord(sampleId: e.sampleId, judgeSpec: classifier.spec, metric: metric, score: nil,
                                                          label: nil, method: "categorical", raw: "", error: "\(error)"))
                }
            }
            let n = counter.withLock { $0 += 1; return $0 }
            progress?.update(phase: "classifying", done: n, total: todo.count)
        }
        progress?.finish(phase: "classifying")
    }

    /// Runs `body` over `items`, at most `limit` at once.
    static func forEach<T: Sendable>(_ items: [T], limit: Int, _ body: @escaping @Sendable (T) async throws -> Void) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            var next = 0
            while next < min(max(1, limit), items.count) {
                let item = items[next]
                group.addTask { try await body(item) }
                next += 1
            }
            while try await group.next() != nil {
                if next < items.count {
                    let item = items[next]
                    group.addTask { try await body(item) }
                    next += 1
                }
            }
        }
    }
}

/// An agentic run's episodes read back from the store.
public struct StoredEpisode: Sendable {
    public var sampleId: Int64
    public var episode: Episode
    public var sample: SampleRecord
}

public enum StoredEpisodes {
    /// The completed episodes of a run (failed slots left out), rebuilt from samples and tool calls;
    /// `chainOfThought`: the run's episodes kept their private reasoning (in the sample's `reasoning`).
    public static func load(store: any ResultsDatabase, runId: Int64, chainOfThought: Bool = false) throws -> [StoredEpisode] {
        let calls = Dictionary(grouping: try store.toolCalls(runId: runId), by: \.sampleId)
        let decoder = JSONDecoder()
        var out: [StoredEpisode] = []
        for s in try store.samples(runId: runId) where s.answer != nil {
            guard let condition = AgenticCondition(id: s.condition), let id = s.id else { continue }
            let messages = (try? decoder.decode([ChatMessage].self, from: Data(s.messages.utf8))) ?? []
            let actions = (calls[id] ?? []).map { c in
                ActionRecord(turn: c.turn, position: c.position, callId: c.callId, name: c.name, arguments: c.arguments, result: c.result,
                             status: ActionRecord.Status(rawValue: c.status) ?? .error,
                             sent: c.effect.flatMap { try? decoder.decode(SentEmail.self, from: Data($0.utf8)) })
            }
            let episode = Episode(condition: condition, sampleIndex: s.sampleIndex, seed: UInt64(bitPattern: s.seed), messages: messages,
                                  actions: actions, finish: s.finishReason ?? "done", error: s.error, turns: s.stream,
                                  usage: TokenUsage(promptTokens: s.promptTokens, completionTokens: s.completionTokens),
                                  reasoning: chainOfThought ? (s.reasoning ?? "") : nil)
            out.append(StoredEpisode(sampleId: id, episode: episode, sample: s))
        }
        return out
    }

    /// The scenarios a run was started with (stored with it).
    public static func scenarios(of run: RunRecord) throws -> [Scenario] {
        guard run.kind == "agentic" else { throw AgenticError.notAgentic(run: run.name, kind: run.kind) }
        do { return try JSONDecoder().decode([Scenario].self, from: Data(run.questions.utf8)) } catch {
            throw AgenticError.storedScenarios(run: run.name, why: "\(error)")
        }
    }

    public static func parameters(of run: RunRecord) throws -> AgenticParameters {
        guard run.kind == "agentic" else { throw AgenticError.notAgentic(run: run.name, kind: run.kind) }
        do { return try JSONDecoder().decode(AgenticParameters.self, from: Data(run.parameters.utf8)) } catch {
            throw AgenticError.storedScenarios(run: run.name, why: "\(error)")
        }
    }
}
