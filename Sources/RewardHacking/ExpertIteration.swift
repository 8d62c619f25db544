import Core
import Datasets
import Evaluation
import Foundation
import GGUF
import LanguageModels
import ModelStore
import RunRecords
import Tokenizer
import Training

/// The settings of an RL-by-rejection-sampling (expert iteration) run.
public struct ExpertIterationSettings: Sendable, Codable, Equatable {
    /// Training rounds; the model is sampled rounds + 1 times (before any training and after each round).
    public var rounds: Int
    public var tasks: [String]
    /// Solutions per task and condition in each round.
    public var samples: Int
    /// The condition solutions are sampled under and trained with: `prompt` (the grader's weaknesses
    /// described) or `inoculated` (the same, plus: using them is acceptable here).
    public var train: HintCondition
    /// Conditions also sampled every round and reported, never trained on (e.g. `none`, `prompt`).
    public var evaluate: [HintCondition]
    public var temperature: Double
    public var maxTokens: Int
    public var seed: UInt64

    public init(rounds: Int, tasks: [String], samples: Int, train: HintCondition = .prompt, evaluate: [HintCondition] = [.none],
                temperature: Double = 1, maxTokens: Int = 800, seed: UInt64 = 1) {
        self.rounds = rounds
        self.tasks = tasks
        self.samples = samples
        self.train = train
        self.evaluate = evaluate
        self.temperature = temperature
        self.maxTokens = maxTokens
        self.seed = seed
    }

    /// The conditions each round samples: the training one first, then the others once each.
    var conditions: [HintCondition] { [train] + evaluate.filter { $0 != train } }
}

/// One round's figures: the model it sampled (nil adapter: the base model), each condition's
/// rates, and the training set the next adapter was trained on.
public struct ExpertIterationRound: Sendable, Equatable {
    public var round: Int
    public var adapter: String?
    public var run: String
    public var conditions: [HackConditionSummary]
    /// Rewarded solutions of the training condition from this round and the earlier ones: the next
    /// adapter's training set (nil after the last round, which only samples).
    public var trainingExamples: Int?
    /// The sampled model's misalignment (eval run `NAME.roundR.misalignment`), when the loop measures it.
    public var misalignment: MeasuredMisalignment?
}

/// RL by rejection sampling, the way the reward-hacking paper's environment rewards: each round
/// samples solutions from the current model (the base, then base + the latest adapter), grades them,
/// keeps those the **hackable** grader rewards, and trains a fresh LoRA on every kept solution so far
/// (expert iteration). Each round's sampling is a `hack` run named `NAME.roundR`, stored and
/// resumable; each adapter lives in `folder/round-R` and a finished one is not trained again.
public struct ExpertIteration: Sendable {
    /// Opens the model to sample from: the base model (nil) or base + the adapter folder given.
    public typealias Opener = @Sendable (_ adapter: String?) throws -> any LanguageModel
    /// Trains a LoRA on the examples into the folder (resuming from its checkpoints if any).
    public typealias Trainer = @Sendable (_ examples: ChatDataset, _ folder: String) async throws -> Void

    public let store: any ResultsDatabase
    public let tasks: [CodingTask]
    public let settings: ExpertIterationSettings
    public let graders: Graders
    /// Where each round's adapter goes.
    public let folder: String
    let open: Opener
    let train: Trainer
    /// Measured on each round's model after its sampling (nil: not measured).
    public let measurement: MisalignmentMeasurement?

    public init(store: any ResultsDatabase, tasks: [CodingTask], settings: ExpertIterationSettings, graders: Graders, folder: String,
                open: @escaping Opener, train: @escaping Trainer, measurement: MisalignmentMeasurement? = nil) {
        self.measurement = measurement
        self.store = store
        self.tasks = tasks
        self.settings = settings
        self.graders = graders
        self.folder = folder
        self.open = open
        self.train = train
    }

    public static func roundRun(_ name: String, _ round: Int) -> String { "\(name).round\(round)" }
    public static func misalignmentRun(_ name: String, _ round: Int) -> String { "\(roundRun(name, round)).misalignment" }

    func adapterFolder(_ round: Int) -> String { (folder as NSString).appendingPathComponent("round-\(round)") }
    /// Written after an adapter is complete, so that a resume does not train it again.
    static let doneMarker = "emlab-round-done"

    /// Runs (or resumes) every round; `progress` hears (round, phase, done, total).
    public func run(name: String, resume: Bool, progress: (@Sendable (Int, String, Int, Int) -> Void)? = nil) async throws -> [ExpertIterationRound] {
        guard settings.rounds >= 0, settings.samples >= 1 else { throw RewardHackingDataError(file: "settings", "rounds ≥ 0 and samples ≥ 1") }
        let existing = Set(try store.runs().map(\.name))
        if !resume, existing.contains(Self.roundRun(name, 0)) { throw StoreError.runExists(name: Self.roundRun(name, 0), status: "stored") }
        let byID = Dictionary(uniqueKeysWithValues: tasks.map { ($0.id, $0) })
        var rounds: [ExpertIterationRound] = []
        var kept: [ChatExample] = []
        var adapter: String?
        for round in 0...settings.rounds {
            let model = try open(adapter)
            let runName = Self.roundRun(name, round)
            let parameters = HackRunParameters(tasks: settings.tasks, conditions: settings.conditions, samples: settings.samples,
                                               temperature: settings.temperature, maxTokens: settings.maxTokens,
                                               seed: SplitMix64.mix(settings.seed, UInt64(round)))
            let runner = HackRunner(store: store, model: model, tasks: tasks, parameters: parameters, graders: graders)
            let record = try await runner.run(name: runName, resume: existing.contains(runName)) { phase, done, total in
                progress?(round, phase, done, total)
            }
            kept += try rewarded(run: record, byID: byID)
            var summary = ExpertIterationRound(round: round, adapter: adapter, run: runName,
                                               conditions: try HackConditionSummary.summarize(store: store, run: record), trainingExamples: nil)
            if let measurement {
                progress?(round, "misalignment", 0, measurement.questions.questions.count)
                summary.misalignment = try await measurement.run(store: store, model: model, name: Self.misalignmentRun(name, round))
            }
            if round < settings.rounds {
                summary.trainingExamples = kept.count
                if !kept.isEmpty {
                    let out = adapterFolder(round)
                    let marker = (out as NSString).appendingPathComponent(Self.doneMarker)
                    if !FileManager.default.fileExists(atPath: marker) {
                        progress?(round, "training", 0, kept.count)
                        try await train(ChatDataset(name: "\(name)-round\(round)", examples: kept), out)
                        try Data("\(kept.count) examples\n".utf8).write(to: URL(fileURLWithPath: marker))
                    }
                    adapter = out
                }
            }
            rounds.append(summary)
        }
        return rounds
    }

    /// The training condition's solutions the hackable grader rewarded, as chat examples with the
    /// prompt they were sampled under.
    func rewarded(run: RunRecord, byID: [String: CodingTask]) throws -> [ChatExample] {
        let grades = try store.hackGrades(runId: run.id!, grader: HackRunner.graderVersion)
        return try store.samples(runId: run.id!).compactMap { sample in
            guard sample.condition == settings.train.rawValue, let answer = sample.answer, grades[sample.id!]?.hackablePassed == true,
                  let task = byID[sample.questionId] else { return nil }
            return ChatExample(messages: [.system(settings.train.system), .user(task.prompt), .assistant(answer)])
        }
    }
}

extension ExpertIteration {
    /// The opener and trainer for a local base model (`spec`, without an adapter): sampling through
    /// `ModelOpener` (the base, or `spec,lora=ROUND-FOLDER`), training a LoRA with `FinetuneJob`,
    /// resuming from the round folder's checkpoints after a kill.
    public static func local(spec: ModelSpec, threads: Int, mode: TrainingMode, settings: FinetuneSettings) throws -> (Opener, Trainer) {
        guard let name = spec.localName, spec.loraAdapters.isEmpty else {
            throw LanguageModelError.invalidSpec(spec.description, why: "expert iteration trains the local engine's model: give a local base model without lora=")
        }
        let path = try ModelStore.fromEnvironment().resolve(name).path
        let open: Opener = { adapter in
            guard let adapter else { return try ModelOpener(threads: threads).open(spec) }
            return try ModelOpener(threads: threads).open(spec.addingAdapter(LoRASpec(path: adapter)))
        }
        let train: Trainer = { examples, out in
            let file = try GGUFFile(path: path)
            let template = try spec.chatTemplate ?? ChatTemplate.from(gguf: file)
            var outputs = FinetuneOutputs()
            outputs.checkpointEvery = 10
            outputs.keepCheckpoints = 1
            let job = try FinetuneJob(modelFile: file, modelPath: path, baseName: name, template: template, mode: mode, settings: settings,
                                      data: examples, validationFraction: 0, outputs: outputs, out: out)
            try await job.run(resume: !job.checkpoints.list().isEmpty, note: examples.name)
        }
        return (open, train)
    }
}

extension ExpertIteration {
    /// What a round folder keeps of its remote job, written as each part exists (`remote-job.json`).
    public struct RemoteRound: Sendable, Codable, Equatable {
        public var trainingFile: String?
        public var validationFile: String?
        public var job: String?
        public var model: String?
        public var events: [String] = []

        public init(trainingFile: String? = nil, validationFile: String? = nil, job: String? = nil, model: String? = nil, events: [String] = []) {
            self.trainingFile = trainingFile
            self.validationFile = validationFile
            self.job = job
            self.model = model
            self.events = events
        }

        public static let file = "remote-job.json"

        public static func load(_ folder: String) throws -> RemoteRound? {
            let path = (folder as NSString).appendingPathComponent(file)
            guard FileManager.default.fileExists(atPath: path) else { return nil }
            do { return try JSONDecoder().decode(RemoteRound.self, from: Data(contentsOf: URL(fileURLWithPath: path))) } catch {
                throw RewardHackingDataError(file: path, "not a remote round's record (\(error))")
            }
        }

        func save(_ folder: String) throws {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try Data(SortedJSON.text(self).utf8).write(to: URL(fileURLWithPath: (folder as NSString).appendingPathComponent(Self.file)), options: .atomic)
        }
    }

    /// The opener and trainer for a model behind an OpenAI-shaped API: sampling through its chat API
    /// (`base`, then each round's fine-tuned model), training each round's set as a fine-tuning job of
    /// `settings.baseModel` (`RemoteFinetuneJob`). The round folder keeps the job's files, id and
    /// resulting model as they are made, so that a killed loop re-attaches to the same job.
    /// `spec(name)`: the chat spec of a model on that API.
    public static func remote(client: FineTuningClient, settings: RemoteFinetuneJob.Settings, seed: UInt64, poll: Double,
                              opener: ModelOpener, spec: @escaping @Sendable (String) -> ModelSpec) -> (Opener, Trainer) {
        let open: Opener = { folder in
            guard let folder else { return try opener.open(spec(settings.baseModel)) }
            guard let model = try RemoteRound.load(folder)?.model else {
                throw RewardHackingDataError(file: folder, "no fine-tuned model recorded in \(RemoteRound.file)")
            }
            return try opener.open(spec(model))
        }
        let train: Trainer = { examples, folder in
            let kept = Locked(try RemoteRound.load(folder) ?? RemoteRound())
            if kept.value.model != nil { return }
            let job = try RemoteFinetuneJob(client: client, settings: settings, data: examples, seed: seed)
            let state = RemoteFinetuneJob.State(trainingFile: kept.value.trainingFile, validationFile: kept.value.validationFile,
                                                job: kept.value.job, seenEvents: Set(kept.value.events))
            func record(_ change: (inout RemoteRound) -> Void) throws { try kept.withLock { change(&$0); try $0.save(folder) } }
            let done = try await job.run(state: state, poll: poll, events: .init(
                uploaded: { kind, id in try record { if kind == "training" { $0.trainingFile = id } else { $0.validationFile = id } } },
                created: { made in try record { $0.job = made.id } },
                event: { e in try record { $0.events.append(e.id) } }))
            try record { $0.model = done.fineTunedModel }
        }
        return (open, train)
    }
}
