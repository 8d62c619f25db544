import Core
import Datasets
import Foundation
import LanguageModels

/// `emlab finetune --backend openai|openai-compatible:URL`: the same data sent to an OpenAI-shaped
/// fine-tuning API — the examples uploaded as chat JSONL (a validation file when part is held out),
/// a supervised job created with the hyperparameters, then polled, its events passed on, until it
/// succeeds (its model) or fails (its error). Whatever is made remotely is reported as it is made
/// (`Events`), so that a caller who keeps it can re-attach after a crash (`State`) without uploading
/// or creating anything twice. Nothing here writes a results database.
public final class RemoteFinetuneJob: Sendable {
    /// Everything that decides the job; stored with the run and checked again on `--resume`.
    public struct Settings: Sendable, Codable, Equatable {
        /// `openai` or `openai-compatible:URL`.
        public var backend: String
        /// The base model's name on that API.
        public var baseModel: String
        /// nil: the server's "auto".
        public var epochs: Int?
        public var batchSize: Int?
        public var learningRateMultiplier: Double?
        public var seed: Int?
        /// Part of the fine-tuned model's name (OpenAI: up to 64 characters).
        public var suffix: String?
        public var validationFraction: Double = 0
        public var dataDigest = ""
        public var trainingExamples = 0
        public var validationExamples = 0

        public init(backend: String, baseModel: String) {
            self.backend = backend
            self.baseModel = baseModel
        }

        /// The first setting whose value differs from `other`'s, as (name, ours, theirs).
        public func firstDifference(from other: Settings) -> (String, String, String)? { firstSettingDifference(self, other) }
    }

    /// What exists remotely already (from an earlier attempt of the same run).
    public struct State: Sendable {
        public var trainingFile: String?
        public var validationFile: String?
        public var job: String?
        /// Events already passed on.
        public var seenEvents: Set<String>
        public init(trainingFile: String? = nil, validationFile: String? = nil, job: String? = nil, seenEvents: Set<String> = []) {
            self.trainingFile = trainingFile
            self.validationFile = validationFile
            self.job = job
            self.seenEvents = seenEvents
        }
    }

    public struct Events {
        /// A file was uploaded: `training` or `validation`, and its id.
        public var uploaded: ((String, String) throws -> Void)?
        /// The job was created.
        public var created: ((FineTuningJob) throws -> Void)?
        /// The job's status changed (also the first time it is read).
        public var status: ((FineTuningJob) throws -> Void)?
        /// A new event of the job, oldest first.
        public var event: ((FineTuningEvent) throws -> Void)?
        public init(uploaded: ((String, String) throws -> Void)? = nil, created: ((FineTuningJob) throws -> Void)? = nil,
                    status: ((FineTuningJob) throws -> Void)? = nil, event: ((FineTuningEvent) throws -> Void)? = nil) {
            self.uploaded = uploaded
            self.created = created
            self.status = status
            self.event = event
        }
    }

    public let client: FineTuningClient
    public let settings: Settings
    let training: String
    let validation: String?

    /// Splits `data` as local finetuning does (`PreparedData.heldOut`, the same examples for the same
    /// seed) and fills the settings' data fields.
    public init(client: FineTuningClient, settings base: Settings, data: ChatDataset, seed: UInt64) throws {
        guard !data.examples.isEmpty else { throw TrainingError.data("dataset \(data.name) has no examples") }
        guard base.validationFraction >= 0, base.validationFraction < 1 else {
            throw TrainingError.invalidOption("--validation must be a fraction in [0, 1)")
        }
        let held = PreparedData.heldOut(count: data.examples.count, fraction: base.validationFraction, seed: seed)
        let train = ChatDataset(name: data.name, examples: data.examples.enumerated().filter { !held.contains($0.offset) }.map(\.element))
        let heldOut = ChatDataset(name: data.name, examples: data.examples.enumerated().filter { held.contains($0.offset) }.map(\.element))
        var settings = base
        settings.dataDigest = PreparedData.fnv1a(data.jsonl)
        settings.trainingExamples = train.examples.count
        settings.validationExamples = heldOut.examples.count
        self.settings = settings
        self.client = client
        training = train.jsonl
        validation = heldOut.examples.isEmpty ? nil : heldOut.jsonl
    }

    /// Uploads what `state` lacks, creates the job unless there is one, and polls every `poll`
    /// seconds until the job has finished or `shouldStop` (the job then runs on: re-attach later).
    /// Returns the job as last read; throws `RemoteFinetuneError.failed` for a failed or cancelled job.
    public func run(state start: State, poll: Double = 10, shouldStop: @Sendable () -> Bool = { false },
                    events: Events = Events()) async throws -> FineTuningJob {
        var state = start
        var job: FineTuningJob
        if state.job == nil, let file = state.trainingFile, let made = try await client.job(trainingFile: file) {
            // Created before a crash that came before its id was kept: the same upload names it.
            job = made
            try events.created?(job)
        } else if let id = state.job {
            job = try await client.job(id)
        } else {
            if state.trainingFile == nil {
                let file = try await client.upload(Data(training.utf8), filename: "\(settings.dataDigest)-train.jsonl")
                state.trainingFile = file.id
                try events.uploaded?("training", file.id)
            }
            if let validation, state.validationFile == nil {
                let file = try await client.upload(Data(validation.utf8), filename: "\(settings.dataDigest)-validation.jsonl")
                state.validationFile = file.id
                try events.uploaded?("validation", file.id)
            }
            let hyper = FineTuningJobRequest.Hyperparameters(nEpochs: settings.epochs, batchSize: settings.batchSize,
                                                             learningRateMultiplier: settings.learningRateMultiplier)
            job = try await client.createJob(FineTuningJobRequest(model: settings.baseModel, trainingFile: state.trainingFile!,
                                                                  validationFile: state.validationFile, seed: settings.seed,
                                                                  suffix: settings.suffix, hyperparameters: hyper))
            try events.created?(job)
        }
        var lastStatus: String?
        while true {
            if job.status != lastStatus {
                try events.status?(job)
                lastStatus = job.status
            }
            for e in try await client.newEvents(job.id, seen: state.seenEvents) {
                state.seenEvents.insert(e.id)
                try events.event?(e)
            }
            if job.isFinished || shouldStop() { break }
            try await Task.sleep(nanoseconds: UInt64(poll * 1e9))
            job = try await client.job(job.id)
        }
        switch job.status {
        case "failed", "cancelled": throw RemoteFinetuneError.failed(job: job.id, status: job.status, message: job.error?.message ?? "")
        case "succeeded" where job.fineTunedModel?.isEmpty ?? true:
            throw RemoteResponseError(endpoint: "\(client.server)/fine_tuning/jobs/\(job.id)", why: "the job succeeded but names no fine_tuned_model")
        default: return job
        }
    }
}

public enum RemoteFinetuneError: Error, CustomStringConvertible, Equatable {
    case failed(job: String, status: String, message: String)

    public var description: String {
        switch self {
        case .failed(let job, let status, let message): "fine-tuning job \(job) \(status)" + (message.isEmpty ? "" : ": \(message)")
        }
    }
}
