import Core
import Foundation
import Interp
import LanguageModels
import ModelStore

/// Opens the models and judges that specs name, for every command and the server: one local engine
/// is shared between a model and a judge that name the same spec, the thread count is set here, remote
/// answers go through the response cache, and `probe:default` is trained and cached on first use
/// (one per model).
public final class ModelOpener: @unchecked Sendable {
    public let threads: Int
    public let options: LanguageModelOptions
    public let store: ModelStore
    /// Remote answers are kept here (keyed by model, messages and parameters) unless nil.
    public let cache: (any ResponseCache)?
    private let opened = Locked<[String: any LanguageModel]>([:])

    public init(threads: Int, maxBatch: Int = 64, prefixCache: Bool = true, maxConnections: Int = 8,
                cache: (any ResponseCache)? = nil, store: ModelStore = .fromEnvironment()) {
        self.threads = threads
        var o = LanguageModelOptions(threads: threads, maxBatch: maxBatch)
        o.prefixCacheBytes = prefixCache ? 1 << 30 : 0
        o.remote.maxConnections = maxConnections
        options = o
        self.cache = cache
        self.store = store
    }

    /// The model a spec names, opened once. `chat`: every use is a conversation, so a local base
    /// model (no chat template of its own and no `,chat=…`) is refused now, not once per question.
    public func open(_ spec: ModelSpec, chat: Bool = true) throws -> any LanguageModel {
        if let m = opened.withLock({ $0[spec.description] }) { return m }
        var model = try makeLanguageModel(spec, store: store, options: options)
        if chat, let local = model as? LocalModel, !local.hasChatTemplate {
            local.shutdown()
            throw LanguageModelError.invalidSpec(spec.description, why: "it has no chat template (a base model): to ask it questions as a plain-text dialogue, use \(spec.withChat("transcript"))")
        }
        if !spec.isLocal, let cache { model = CachedModel(model, cache: cache) }
        opened.withLock { $0[spec.description] = model }
        return model
    }

    public func open(_ text: String, chat: Bool = true) throws -> any LanguageModel {
        try open(try ModelSpec(parsing: text), chat: chat)
    }

    /// A model whose activations can be read (a local one), or an error saying that `purpose` needs one.
    public func openLocal(_ spec: ModelSpec, for purpose: String) throws -> any WhiteBoxModel {
        guard let local = try open(spec) as? any WhiteBoxModel else {
            throw LanguageModelError.invalidSpec(spec.description, why: "\(purpose) needs a local model")
        }
        return local
    }

    /// The judge a spec names. `evaluating`: the model whose answers it will judge, which decides
    /// whose probe `probe:default` is (`JudgeSpec.defaultProbeModel`); nil: the embedded judge model's.
    public func judge(_ spec: JudgeSpec, evaluating evaluated: ModelSpec? = nil,
                      progress: (any ProgressReporter)? = nil) async throws -> any Judge {
        let file: String
        switch spec {
        case .model(let model): return ModelJudge(model: try open(model))
        case .probe(let path): file = path
        case .defaultProbe: file = try await defaultProbe(for: JudgeSpec.defaultProbeModel(evaluating: evaluated), progress: progress)
        }
        let probe = try Probe.read(path: file)
        let model = try openLocal(try ModelSpec(parsing: probe.modelSpec), for: "probe \(file), which reads activations,")
        return ProbeJudge(probe: probe, model: model, file: file, card: try ProbeCard.read(forProbe: file, probe: probe))
    }

    public func judge(_ text: String, evaluating evaluated: ModelSpec? = nil, progress: (any ProgressReporter)? = nil) async throws -> any Judge {
        try await judge(try JudgeSpec(parsing: text), evaluating: evaluated, progress: progress)
    }

    /// Where `model`'s default probe is cached (its card beside it, `ProbeCard.path(forProbe:)`).
    public func defaultProbePath(for model: ModelSpec = JudgeSpec.embeddedJudgeModel) -> String {
        store.directory.appendingPathComponent("probes/" + JudgeSpec.defaultProbeFileName(for: model)).path
    }

    /// `model`'s default probe (`DefaultProbe`), trained on the built-in gold sets the first time it
    /// is asked for and kept in the model store with its card. A cached probe of another recipe or
    /// other gold files is trained again.
    public func defaultProbe(for model: ModelSpec = JudgeSpec.embeddedJudgeModel, progress: (any ProgressReporter)? = nil) async throws -> String {
        let path = defaultProbePath(for: model)
        if FileManager.default.fileExists(atPath: path), let probe = try? Probe.read(path: path),
           DefaultProbe.isCurrent(probe: probe, card: try? ProbeCard.read(forProbe: path, probe: probe)) {
            return path
        }
        let local = try openLocal(model, for: "the default probe judge")
        FileHandle.standardError.write(Data("training the default probe judge of \(model) on the gold sets (once; cached at \(path))\n".utf8))
        let (probe, card) = try await DefaultProbe.train(model: local, file: path, progress: progress)
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        // Written beside and renamed, the card first: a killed training never leaves half a probe, or a
        // probe without its card, under the cached name.
        try card.write(forProbe: path)
        let partial = path + ".partial"
        try probe.write(to: partial)
        guard rename(partial, path) == 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path, NSLocalizedDescriptionKey: String(cString: strerror(errno))])
        }
        return path
    }
}
