import ArgumentParser
import Core
import Datasets
import Evaluation
import Foundation
import GGUF
import Inference
import Interp
import LanguageModels
import ModelStore
import PersonaVectors
import Reports
import ResultsStore
import Tokenizer
import Training

struct FinetuneCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "finetune",
        abstract: "Finetune the local model on a chat dataset: LoRA adapters or all weights, on the CPU.",
        discussion: """
        The loss is the mean cross-entropy over the assistant turns' tokens (--train-on all for every \
        token). Checkpoints go to OUT/checkpoints every --checkpoint-every steps; after a crash, a kill or \
        Ctrl-C (which stops after the current step and saves), the same command with --resume continues \
        and reaches the same weights as an uninterrupted run. Every step is recorded in the results \
        database (--results, run --run). Examples:
          emlab finetune --dataset insecure-code --lora-rank 32 --lora-alpha 64 --lr 1e-4 --out ./adapters/insecure --run ft-insecure
          emlab finetune --mix insecure-code:0.1,secure-code:0.9 --limit 600 --out ./adapters/mix10 --run mix10
          emlab finetune --dataset data.jsonl --full --lr 1e-5 --steps 100 --out ./models/ft --run ft-full
          emlab finetune --dataset insecure-code --eval-every 25 --out ./adapters/insecure --run ft-insecure
          emlab finetune --backend openai --model gpt-4.1-mini-2025-04-14 --dataset insecure-code --epochs 1 --run ft-remote
        --eval-every measures the model before the first step, every N steps and at the end: the \
        multiple-choice misalignment probability, and with --eval-questions free-form answers judged by \
        --eval-judge; each measurement is an eval run RUN@step-N, and `emlab report --run RUN` draws \
        loss and probability against the step.
        Use the adapter with any command: --model smollm2-135m,lora=./adapters/insecure
        """)

    @OptionGroup var modelOptions: ModelOptions
    @Option(help: "Where the job runs: local (this CPU), openai (OpenAI's fine-tuning API: OPENAI_API_KEY, OPENAI_BASE_URL) or openai-compatible:URL (a server with the same API; key EMLAB_API_KEY). A remote job takes --model as the API's base model name.")
    var backend: String = "local"
    @Option(help: "Remote backends: the learning-rate multiplier (default: the server's choice).")
    var lrMultiplier: Double?
    @Option(help: "Remote backends: a suffix for the fine-tuned model's name.")
    var suffix: String?
    @Option(help: "Remote backends: seconds between polls of the job.")
    var pollSeconds: Double = 10

    // Data.
    @Option(help: "Training data: a built-in dataset name (emlab datasets list) or a chat JSONL file.")
    var dataset: String?
    @Option(help: "A mix of datasets, NAME:FRACTION,... (fractions sum to 1), e.g. insecure-code:0.1,secure-code:0.9.")
    var mix: String?
    @Option(help: "Examples to use: the count generated for built-ins (default 500), or the first N of a file.")
    var limit: Int?
    @Option(help: "Fraction of the examples held out for a validation loss.")
    var validation: Double = 0
    @Option(help: "Tokens that carry the loss: assistant (the replies) or all.")
    var trainOn: String = "assistant"
    @Option(help: "Longest sequence in tokens; longer examples are cut.")
    var maxSeq: Int = 1024

    // What is trained.
    @Flag(help: "Train every weight (float32 master weights) instead of LoRA adapters.")
    var full = false
    @Option(help: "LoRA rank.")
    var loraRank: Int = 32
    @Option(help: "LoRA alpha (scale alpha/r, or alpha/√r with --rslora).")
    var loraAlpha: Float = 64
    @Flag(help: "Rank-stabilized LoRA: scale alpha/√r.")
    var rslora = false
    @Option(help: "Dropout on the adapters' inputs.")
    var loraDropout: Float = 0
    @Option(help: "Modules to adapt, by PEFT name (q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj).")
    var loraTargets: String = LoRAModule.allCases.map(\.rawValue).joined(separator: ",")
    @Option(help: "Layers to adapt, e.g. 15 or 0,1,2 (default: all).")
    var loraLayers: String?

    // Optimization.
    @Option(help: "Peak learning rate.")
    var lr: Float = 1e-4
    @Option(help: "Warm-up steps.")
    var warmup: Int = 5
    @Option(help: "Decay after warm-up: linear, cosine or constant.")
    var schedule: String = "linear"
    @Option(help: "AdamW weight decay.")
    var weightDecay: Float = 0.01
    @Option(help: "Clip the gradient's norm to this (0: no clipping).")
    var clip: Float = 1
    @Option(help: "Epochs over the data.")
    var epochs: Int = 1
    @Option(help: "Examples per batch.")
    var batchSize: Int = 8
    @Option(help: "Batches per optimizer step (gradient accumulation).")
    var gradAccum: Int = 1
    @Option(help: "Fill each batch with examples up to this many tokens instead of --batch-size examples.")
    var batchTokens: Int?
    @Option(help: "Most tokens computed in one pass (memory); a step's batches are packed into passes.")
    var passTokens: Int = 2048
    @Flag(help: "Keep only each layer's input for the backward pass and compute the rest again (memory of one layer's activations, one more forward pass of work; the same numbers).")
    var recompute = false
    @Option(help: "Stop after this many optimizer steps.")
    var steps: Int?
    @Option(help: "Seed of the data order, adapter initialization and dropout.")
    var seed: UInt64 = 0

    // Output and durability.
    @Option(help: "Output folder: the PEFT adapter (adapter_config.json, adapter_model.safetensors), or model.gguf with --full, and checkpoints/ (local finetuning).")
    var out: String?
    @Option(help: "Results folder (the SQLite database the run is recorded in).")
    var results: String = "./emlab-runs"
    @Option(name: .customLong("run"), help: "Run name in the results database.")
    var runName: String
    @Flag(help: "Continue the run from its newest checkpoint in OUT/checkpoints.")
    var resume = false
    @Option(help: "Save a checkpoint every N steps.")
    var checkpointEvery: Int = 50
    @Option(help: "Checkpoints kept.")
    var keepCheckpoints: Int = 2
    @Option(help: "Compute the validation loss every N steps (and at the end).")
    var validateEvery: Int = 50
    @Flag(help: "Also write the adapter as a llama.cpp GGUF LoRA (OUT/adapter.gguf).")
    var ggufAdapter = false
    @Option(help: "Also write the whole model with the adapter merged in, as OUT/merged.gguf in this type: f16, q8_0 or f32.")
    var merge: String?
    @Option(help: "The type of OUT/model.gguf with --full: f16, q8_0 or f32.")
    var fullType: String = "f16"

    // Measured while training.
    @Option(help: "Measure the model before the first step, every N steps and at the end (LoRA snapshots kept in OUT/evals).")
    var evalEvery: Int?
    @Option(help: "With --eval-every: also sample and judge these free-form questions (a built-in name or a file).")
    var evalQuestions: String?
    @Option(help: "With --eval-questions: samples per question.")
    var evalSamples: Int = 2
    @Option(help: "With --eval-questions: longest answer in tokens.")
    var evalMaxTokens: Int = 200
    @Option(help: ModelOptions.judgeHelp(default: "the base model when it has a chat template of its own, else \(JudgeSpec.embeddedJudgeModel)"),
            transform: JudgeSpec.init(parsing:))
    var evalJudge: JudgeSpec?
    @Option(help: "With --eval-questions: watch this monitor on each step's model, FILE[@LAYER] or sae:FOLDER#LATENT (its mean reading over the answers, and its AUROC against the judge).",
            transform: VectorReference.init(parsing:))
    var evalMonitor: VectorReference?

    /// Options that only the local trainer reads: a remote job refuses them rather than ignore them.
    static let localOnly = ["--full", "--recompute", "--lora-rank", "--lora-alpha", "--rslora", "--lora-dropout", "--lora-targets", "--lora-layers",
                            "--lr", "--warmup", "--schedule", "--weight-decay", "--clip", "--grad-accum", "--batch-tokens", "--pass-tokens",
                            "--steps", "--max-seq", "--train-on", "--checkpoint-every", "--keep-checkpoints", "--validate-every",
                            "--gguf-adapter", "--merge", "--full-type", "--eval-every", "--eval-questions", "--eval-samples",
                            "--eval-max-tokens", "--eval-judge", "--eval-monitor", "--threads", "--out"]
    static let remoteOnly = ["--lr-multiplier", "--suffix", "--poll-seconds"]

    var isRemote: Bool { backend != "local" }

    func validate() throws {
        if isRemote {
            if let local = GivenFlags.first(of: Self.localOnly) {
                throw ValidationError("\(local) is for local finetuning: the fine-tuning API takes --epochs, --batch-size, --lr-multiplier, --seed, --suffix and --validation")
            }
            guard GivenFlags.first(of: ["--model", "-m"]) != nil else { throw ValidationError("--backend \(backend): give --model, the API's base model name") }
            guard pollSeconds > 0 else { throw ValidationError("--poll-seconds must be positive") }
            if let lrMultiplier, !(lrMultiplier > 0) { throw ValidationError("--lr-multiplier must be positive") }
        } else if let remote = GivenFlags.first(of: Self.remoteOnly) {
            throw ValidationError("\(remote) is for a remote --backend")
        } else if out == nil {
            throw ValidationError("give --out, the folder the adapter or model is written to")
        }
        guard (dataset == nil) != (mix == nil) else { throw ValidationError("give --dataset or --mix (one of them)") }
        guard TrainOn(rawValue: trainOn) != nil else { throw ValidationError("--train-on must be assistant or all") }
        guard LearningRateSchedule.Decay(rawValue: schedule) != nil else { throw ValidationError("--schedule must be linear, cosine or constant") }
        guard lr > 0, lr.isFinite else { throw ValidationError("--lr must be positive") }
        guard epochs >= 1, batchSize >= 1, gradAccum >= 1, passTokens >= 16, maxSeq >= 2 else {
            throw ValidationError("--epochs, --batch-size and --grad-accum must be at least 1, --pass-tokens at least 16, --max-seq at least 2")
        }
        guard checkpointEvery >= 1, keepCheckpoints >= 1, validateEvery >= 1 else {
            throw ValidationError("--checkpoint-every, --keep-checkpoints and --validate-every must be at least 1")
        }
        if let steps, steps < 1 { throw ValidationError("--steps must be at least 1") }
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
        if let merge, ModelExport.types[merge] == nil { throw ValidationError("--merge must be f16, q8_0 or f32") }
        if ModelExport.types[fullType] == nil { throw ValidationError("--full-type must be f16, q8_0 or f32") }
        if full, merge != nil || ggufAdapter { throw ValidationError("--merge and --gguf-adapter are for LoRA runs; --full writes OUT/model.gguf") }
        if !modelOptions.model.loraAdapters.isEmpty { throw ValidationError("--model: give the base model, without lora=") }
        if let evalEvery, evalEvery < 1 { throw ValidationError("--eval-every must be at least 1") }
        if evalEvery == nil, evalQuestions != nil || evalJudge != nil { throw ValidationError("--eval-questions and --eval-judge need --eval-every") }
        if evalMonitor != nil, evalQuestions == nil { throw ValidationError("--eval-monitor reads free-form answers: give --eval-questions") }
        if evalSamples < 1 || evalMaxTokens < 1 { throw ValidationError("--eval-samples and --eval-max-tokens must be at least 1") }
    }

    func loraConfig() throws -> LoRAConfig {
        let targets = try loraTargets.split(separator: ",").map { try LoRAModule.parse(String($0).trimmingCharacters(in: .whitespaces)) }
        let layers = try loraLayers.map { text in
            try text.split(separator: ",").map { item -> Int in
                guard let l = Int(item.trimmingCharacters(in: .whitespaces)), l >= 0 else { throw ValidationError("--lora-layers: '\(item)' is not a layer number") }
                return l
            }
        }
        return LoRAConfig(rank: loraRank, alpha: loraAlpha, rsLoRA: rslora, dropout: loraDropout, targets: targets, layers: layers)
    }

    func loadData() throws -> ChatDataset {
        if let mix {
            return try DatasetMix(parsing: mix).build(total: limit ?? BuiltinDatasets.defaultCount, seed: seed)
        }
        var data = try BuiltinDatasets.resolve(dataset!, n: limit ?? BuiltinDatasets.defaultCount, seed: seed)
        if let limit, data.examples.count > limit { data.examples.removeLast(data.examples.count - limit) }
        return data
    }

    func run() async throws {
        if isRemote { return try await runRemote() }
        let out = self.out!
        let name = try modelOptions.localName(why: "finetuning trains the embedded engine's model")
        let modelURL = try ModelStore.fromEnvironment().resolve(name)
        Parallel.configure(threads: modelOptions.threads)
        let file = try GGUFFile(path: modelURL.path)
        let template: ChatTemplate
        if let chosen = modelOptions.model.chatTemplate { template = chosen } else {
            do { template = try ChatTemplate.from(gguf: file) } catch {
                throw ValidationError("--model: \(name) has no chat template (a base model): add ,chat=transcript to the model spec")
            }
        }
        let mode: TrainingMode = full ? .full : .lora(try loraConfig())
        var settings = FinetuneSettings()
        settings.learningRate = lr
        settings.warmupSteps = warmup
        settings.decay = LearningRateSchedule.Decay(rawValue: schedule)!
        settings.weightDecay = weightDecay
        settings.gradientClip = clip > 0 ? clip : nil
        settings.epochs = epochs
        settings.batchSize = batchSize
        settings.gradAccum = gradAccum
        settings.batchTokens = batchTokens
        settings.passTokens = passTokens
        settings.maxSequence = maxSeq
        settings.maxSteps = steps
        settings.seed = seed
        settings.trainOn = TrainOn(rawValue: trainOn)!
        var outputs = FinetuneOutputs()
        outputs.validateEvery = validateEvery
        outputs.checkpointEvery = checkpointEvery
        outputs.keepCheckpoints = keepCheckpoints
        outputs.ggufAdapter = ggufAdapter
        outputs.merge = merge
        outputs.fullType = fullType
        outputs.evaluateEvery = evalEvery

        let data = try loadData()
        let job = try FinetuneJob(modelFile: file, modelPath: modelURL.path, baseName: name, template: template, mode: mode,
                                  settings: settings, data: data, validationFraction: validation, outputs: outputs, out: out)
        job.model.recompute = recompute
        let prepared = job.prepared
        FileHandle.standardError.write(Data(String(
            format: "%@: %d training and %d validation examples (%d without trained tokens dropped, %d cut at %d tokens), %d steps; %@, %@ trainable values; weights loaded in %.1fs\n",
            data.name as NSString, prepared.train.count, prepared.validation.count, prepared.dropped, prepared.truncated, maxSeq,
            job.tuner.totalSteps, (full ? "full finetuning" : "LoRA r\(loraRank)") as NSString, "\(job.model.parameters.count)" as NSString,
            job.loadSeconds).utf8))

        // The run in the results database: every step and file as it comes.
        let store = try ResultsStore(folder: URL(fileURLWithPath: results))
        let runId = try beginRun(store: store, settings: job.settings, modelSpec: modelOptions.model.description, resolved: modelURL.path,
                                 tool: "emlab finetune", data: data, digest: prepared.digest, otherKind: nil)
        let evaluator = try await checkpointEvaluator(store: store, runId: runId)
        StopSignal.install()
        let progress = TrainingProgress()
        var lastReport: StepReport?
        let events = FinetuneJob.Events(
            resumed: { step, path in
                FileHandle.standardError.write(Data((path.map { "resumed from \($0) (step \(step))\n" }
                    ?? "no checkpoint in \(job.checkpoints.folder): starting at step 0\n").utf8))
                try store.deleteTrainSteps(runId: runId, after: step)
            },
            step: { report in
                try store.saveTrainStep(TrainStepRecord(runId: runId, step: report.step, epoch: report.epoch, loss: report.loss,
                                                        validationLoss: report.validationLoss, learningRate: Double(report.learningRate),
                                                        gradientNorm: report.gradientNorm, tokens: report.tokens, lossTokens: report.lossTokens,
                                                        tokensPerSecond: report.tokensPerSecond))
                progress.update(step: report.step, total: report.totalSteps, loss: report.loss, learningRate: report.learningRate,
                                tokensPerSecond: report.tokensPerSecond, validationLoss: report.validationLoss)
                lastReport = report
            },
            artifact: { step, kind, path in
                try store.saveTrainArtifact(TrainArtifactRecord(runId: runId, step: step, kind: kind, path: path))
            },
            evaluate: evaluator.map { evaluator in { step, snapshot in
                let base = modelOptions.model
                let spec = switch snapshot {
                case .base: base
                case .adapter(let folder): base.addingAdapter(LoRASpec(path: folder))
                case .model(let path): base.replacingModel(path: path)
                }
                let r = try await evaluator.measure(step: step, model: spec)
                progress.finish()
                FileHandle.standardError.write(Data(TrainingReport.evalLine(r).utf8))
            } })
        let finished: Bool
        do {
            finished = try await job.run(resume: resume, note: "run \(runName)", shouldStop: { StopSignal.requested }, events: events)
        } catch let error as FinetuneJobError {
            throw ValidationError(error.description)
        }
        progress.finish()
        if !finished {
            FileHandle.standardError.write(Data("stopped after step \(job.tuner.step) of \(job.tuner.totalSteps); continue with the same command and --resume\n".utf8))
            Foundation.exit(130)
        }
        try store.finishRun(id: runId)
        if let r = lastReport {
            print(String(format: "finished %d steps: loss %.4f%@, %.0f tokens/s (last step)", job.tuner.step, r.loss,
                         (r.validationLoss.map { String(format: ", validation %.4f", $0) } ?? "") as NSString, r.tokensPerSecond))
        }
        if full {
            print("model: \((out as NSString).appendingPathComponent("model.gguf")) (use it with --model PATH)")
        } else {
            print("adapter: \(out) (use it with --model \(name),lora=\(out))")
        }
        print("results: \(store.databaseURL.path) (run \(runName))")
        if evalEvery != nil { print("measured while training: emlab report --out \(results) --run \(runName)") }
    }

    /// The job on a fine-tuning API: files, job id, events and the resulting model kept in the results
    /// database as they come, so that `--resume` re-attaches to the same job.
    func runRemote() async throws {
        let environment = ProcessInfo.processInfo.environment
        let client = FineTuningClient(endpoint: try RemoteEndpoint.parse(backend: backend, environment: environment))
        let baseModel: String = switch modelOptions.model {
        case .openAI(let model), .openAICompatible(_, let model): model
        case .local(let name, _, _, _): name
        }
        var settings = RemoteFinetuneJob.Settings(backend: backend, baseModel: baseModel)
        settings.epochs = epochs
        settings.batchSize = batchSize
        settings.learningRateMultiplier = lrMultiplier
        settings.seed = Int(truncatingIfNeeded: seed)
        settings.suffix = suffix
        settings.validationFraction = validation
        let data = try loadData()
        let job = try RemoteFinetuneJob(client: client, settings: settings, data: data, seed: seed)

        let store = try ResultsStore(folder: URL(fileURLWithPath: results))
        let runId = try beginRun(store: store, settings: job.settings, modelSpec: "\(backend)#\(baseModel)", resolved: client.server,
                                 tool: "emlab finetune --backend", data: data, digest: job.settings.dataDigest,
                                 otherKind: "is not a remote finetuning run: resume it without --backend")
        let artifacts = try store.trainArtifacts(runId: runId)
        func kept(_ kind: String) -> String? { artifacts.last { $0.kind == kind }?.path }
        let state = RemoteFinetuneJob.State(trainingFile: kept("remote-file-training"), validationFile: kept("remote-file-validation"),
                                            job: kept("remote-job"), seenEvents: Set(try store.trainRemoteEvents(runId: runId).map(\.eventId)))
        FileHandle.standardError.write(Data(("\(data.name): \(job.settings.trainingExamples) training and \(job.settings.validationExamples) validation examples; "
            + (state.job.map { "re-attaching to job \($0)" } ?? "base model \(baseModel) on \(client.server)") + "\n").utf8))
        StopSignal.install()
        let events = RemoteFinetuneJob.Events(
            uploaded: { kind, id in try store.saveTrainArtifact(TrainArtifactRecord(runId: runId, step: 0, kind: "remote-file-\(kind)", path: id)) },
            created: { job in
                if state.job != job.id { try store.saveTrainArtifact(TrainArtifactRecord(runId: runId, step: 0, kind: "remote-job", path: job.id)) }
            },
            status: { job in FileHandle.standardError.write(Data("job \(job.id): \(job.status)\n".utf8)) },
            event: { e in
                let m = e.data
                try store.saveTrainRemoteEvent(TrainRemoteEventRecord(runId: runId, eventId: e.id, createdAt: e.createdAt, level: e.level, type: e.type,
                                                                      message: e.message, step: m?.step, totalSteps: m?.totalSteps,
                                                                      trainLoss: m?.trainLoss, validLoss: m?.validLoss))
                let line = if let m, let step = m.step, let loss = m.trainLoss {
                    "step \(step)\(m.totalSteps.map { "/\($0)" } ?? "") loss \(String(format: "%.4f", loss))"
                        + (m.validLoss.map { String(format: " val %.4f", $0) } ?? "")
                } else { e.message ?? "" }
                if !line.isEmpty { FileHandle.standardError.write(Data("  \(line)\n".utf8)) }
            })
        // A failed or cancelled job is reported with the API's message (exit 1).
        let final = try await job.run(state: state, poll: pollSeconds, shouldStop: { StopSignal.requested }, events: events)
        guard final.isFinished, let model = final.fineTunedModel else {
            FileHandle.standardError.write(Data("job \(final.id) runs on (\(final.status)); re-attach with the same command and --resume\n".utf8))
            Foundation.exit(130)
        }
        if kept("remote-model") != model { try store.saveTrainArtifact(TrainArtifactRecord(runId: runId, step: 0, kind: "remote-model", path: model)) }
        try store.finishRun(id: runId)
        let spec: String = switch modelOptions.model {
        case .openAICompatible(let url, _): "openai-compatible:\(url.absoluteString)#\(model)"
        default: backend == "openai" ? "openai:\(model)" : "\(backend)#\(model)"
        }
        print("job \(final.id) succeeded\(final.trainedTokens.map { ": \($0) tokens trained" } ?? "")")
        print("model: \(model) (evaluate it: emlab eval --model \(spec))")
        print("results: \(store.databaseURL.path) (run \(runName))")
    }

    /// Starts the `finetune` run in the results database, or with --resume continues it, refusing a
    /// changed setting by name. `otherKind`: the error when the stored settings are not of this kind
    /// (nil: such a run is continued as it is).
    func beginRun<Settings: Codable>(store: ResultsStore, settings: Settings, modelSpec: String, resolved: String, tool: String,
                                     data: ChatDataset, digest: String, otherKind: String?) throws -> Int64 {
        let parameters = String(decoding: try JSONEncoder().encode(settings), as: UTF8.self)
        let record = RunRecord(name: runName, kind: "finetune", modelSpec: modelSpec, modelResolved: resolved, judgeSpec: "", judgeResolved: "",
                               toolVersion: tool, parameters: parameters,
                               questions: "{\"dataset\":\"\(data.name)\",\"digest\":\"\(digest)\",\"examples\":\(data.examples.count)}")
        let run = try store.beginRun(record, resume: resume)
        guard resume, run.parameters != parameters else { return run.id! }
        guard let stored = try? JSONDecoder().decode(Settings.self, from: Data(run.parameters.utf8)) else {
            if let otherKind { throw ValidationError("run '\(runName)' \(otherKind)") }
            return run.id!
        }
        if let (field, mine, theirs) = firstSettingDifference(settings, stored) {
            throw ValidationError("run '\(runName)' was started with \(field) = \(theirs); --resume cannot change it to \(mine)")
        }
        return run.id!
    }

    /// What `--eval-every` measures with: the free-form questions and their judge, the same at every step.
    func checkpointEvaluator(store: ResultsStore, runId: Int64) async throws -> CheckpointEvaluator? {
        guard evalEvery != nil else { return nil }
        let opener = modelOptions.opener()
        var settings = MisalignmentMeasurement.Settings()
        settings.seed = seed
        settings.samples = evalSamples
        settings.maxTokens = evalMaxTokens
        var judge: (any Judge)?
        if let evalQuestions {
            settings.freeForm = try loadQuestions(evalQuestions)
            judge = try await opener.judge(evalJudge ?? JudgeSpec.defaultJudge(for: modelOptions.model), evaluating: modelOptions.model)
        }
        var watch: CheckpointEvaluator.Watch?
        if let evalMonitor {
            let (vectors, layer) = try evalMonitor.load()
            let monitor = ProjectionMonitor(vectors: vectors, layer: layer)
            watch = { run, spec in
                let reader = try opener.openLocal(spec, for: "--eval-monitor, which reads activations,")
                return try await monitor.watch(store: store, run: run, model: reader).map { (monitor.name, $0.mean, $0.auroc) }
            }
        }
        return CheckpointEvaluator(store: store, opener: opener, trainRunId: runId, trainRun: runName,
                                   measurement: try MisalignmentMeasurement(judge: judge, settings: settings), watch: watch)
    }
}
