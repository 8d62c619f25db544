import Foundation
import Inference
import ModelStore

/// Settings for building a model from a spec; each kind uses its own part.
public struct LanguageModelOptions: Sendable {
    /// Local: threads for the engine and BLAS (process-wide; nil leaves them as they are). The one
    /// place the thread count is set.
    public var threads: Int?
    /// Local: most sequences decoded together.
    public var maxBatch: Int
    /// Local: KV-cache memory for live sequences.
    public var kvBudgetBytes: Int
    /// Local: memory for prompt prefixes reused across requests (0: no reuse).
    public var prefixCacheBytes: Int = 1 << 30
    /// Remote: connections, time-outs, retries.
    public var remote: RemoteModelOptions
    /// Where keys and `OPENAI_BASE_URL` are read from.
    public var environment: [String: String]

    public init(threads: Int? = nil, maxBatch: Int = 64, kvBudgetBytes: Int = 4 << 30, remote: RemoteModelOptions = RemoteModelOptions(),
                environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.threads = threads
        self.maxBatch = maxBatch
        self.kvBudgetBytes = kvBudgetBytes
        self.remote = remote
        self.environment = environment
    }
}

/// Builds the model a spec names: the embedded engine for `local:`, the HTTP client otherwise.
///
/// - `local:NAME|PATH[,chat=FORMAT][,prompts=PATH]`: resolved by `store`, loaded from the file; identity names the file and its size.
/// - `openai:MODEL`: `OPENAI_BASE_URL` (default `https://api.openai.com/v1`), key from `OPENAI_API_KEY` (required).
/// - `openai-compatible:URL#MODEL`: key from `EMLAB_API_KEY` when set.
public func makeLanguageModel(_ spec: ModelSpec, store: ModelStore,
                              options: LanguageModelOptions = LanguageModelOptions()) throws -> any LanguageModel {
    let env = options.environment
    switch spec {
    case .local(let name, _, _, let lora):
        let url = try store.resolve(name)
        let size = (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? nil
        if let threads = options.threads { Parallel.configure(threads: threads) }
        let engine = try Engine(path: url.path, chatTemplate: spec.chatTemplate, promptPath: spec.promptPath)
        if !lora.isEmpty {
            try engine.applyLoRA(try lora.map { (adapter: try LoRAAdapter.load(path: $0.path, model: engine.model.config), scale: $0.scale) })
        }
        let identity = ModelIdentity(spec: spec.identitySpec, resolved: "\(url.path) (\(size.map(String.init) ?? "?") bytes)")
        return LocalModel(engine: engine, identity: identity, maxBatch: options.maxBatch, kvBudgetBytes: options.kvBudgetBytes,
                          prefixCacheBytes: options.prefixCacheBytes)
    case .openAI(let model):
        let e = try RemoteEndpoint.openAI(environment: env, what: spec.description)
        return OpenAICompatibleModel(baseURL: e.baseURL, model: model, apiKey: e.apiKey, keyVariable: e.keyVariable,
                                     spec: spec.identitySpec, options: options.remote)
    case .openAICompatible(let base, let model):
        let e = RemoteEndpoint.compatible(base, environment: env)
        return OpenAICompatibleModel(baseURL: e.baseURL, model: model, apiKey: e.apiKey, keyVariable: e.keyVariable,
                                     spec: spec.identitySpec, options: options.remote)
    }
}
