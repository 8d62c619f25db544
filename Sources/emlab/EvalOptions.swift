import ArgumentParser
import Evaluation
import Foundation
import Inference
import LanguageModels
import ModelStore
import Reports
import ResultsStore

/// `--out` and `--run`, shared by the commands that read or write results.
struct ResultsOptions: ParsableArguments {
    @Option(help: "Results folder (one SQLite database per folder).")
    var out: String = "./emlab-runs"

    func openStore() throws -> ResultsStore { try ResultsStore(folder: URL(fileURLWithPath: out)) }
    func existingStore() throws -> ResultsStore { try ResultsStore.existing(folder: URL(fileURLWithPath: out)) }
}

/// Opens `--model` / `--judge` specs, sharing one local engine between a model and its judge.
final class ModelOpener {
    let threads: Int
    let options: LanguageModelOptions
    /// Remote answers are kept here (keyed by model, messages and parameters) unless nil.
    let cache: (any ResponseCache)?
    private var opened: [String: any LanguageModel] = [:]

    init(threads: Int, maxBatch: Int = 64, prefixCache: Bool = true, maxConnections: Int = 8, cache: (any ResponseCache)? = nil) {
        self.threads = threads
        var o = LanguageModelOptions(maxBatch: maxBatch)
        o.prefixCacheBytes = prefixCache ? 1 << 30 : 0
        o.remote.maxConnections = maxConnections
        options = o
        self.cache = cache
    }

    func open(_ text: String) throws -> any LanguageModel {
        let spec = try ModelSpec(parsing: text)
        if let m = opened[spec.description] { return m }
        if spec.isLocal { Parallel.configure(threads: threads) }
        var model = try makeLanguageModel(spec, store: ModelStore.fromEnvironment(), options: options)
        // Every use here is chat: a base model is refused now, not once per question.
        if let local = model as? LocalModel, local.engine.chatTemplate == nil {
            local.shutdown()
            throw ValidationError("'\(text)' has no chat template (a base model): to ask it questions as a plain-text dialogue, use \(spec.withChat("transcript"))")
        }
        if !spec.isLocal, let cache { model = CachedModel(model, cache: cache) }
        opened[spec.description] = model
        return model
    }

    /// A judge spec: a model used as judge, or `probe:FILE` (a probe trained by `emlab judge train-probe`).
    func judge(_ text: String) async throws -> any Judge {
        guard text.hasPrefix("probe:") else { return ModelJudge(model: try open(text)) }
        var file = String(text.dropFirst("probe:".count))
        if file == "default" { file = try await defaultProbe() }
        let probe = try Probe.read(path: file)
        guard let local = try open(probe.modelSpec) as? LocalModel else {
            throw ValidationError("probe \(file) reads activations of \(probe.modelSpec), which is not a local model")
        }
        return ProbeJudge(probe: probe, model: local, file: file)
    }
}

extension ModelOpener {
    /// `probe:default`: the embedded model's probe judge, trained on the built-in gold set the first
    /// time it is asked for and kept in the model cache.
    func defaultProbe() async throws -> String {
        let store = ModelStore.fromEnvironment()
        let path = store.directory.appendingPathComponent("probes/smollm2-135m-gold-probe.gguf").path
        if FileManager.default.fileExists(atPath: path) { return path }
        guard let local = try open("local:smollm2-135m") as? LocalModel else { throw ValidationError("the default probe needs the local model") }
        printError("training the default probe judge on the gold set (once; cached at \(path))")
        let layers = Probe.defaultLayers(layerCount: local.engine.model.config.layerCount)
        let probe = try await Probe.trainOnGold(model: local, layers: layers, progress: ProgressBar()).probe
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try probe.write(to: path)
        return path
    }
}

/// Turns `--questions` into a question set, or exits with the loader's error.
func loadQuestions(_ nameOrPath: String) throws -> QuestionSet {
    do { return try BuiltinQuestions.resolve(nameOrPath) } catch let e as QuestionSetError {
        throw ValidationError(e.description)
    }
}
