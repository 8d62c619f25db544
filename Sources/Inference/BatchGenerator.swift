import Core
import Tokenizer

/// One prompt to answer `samples` times.
public struct GenerationRequest: Sendable {
    public var promptTokens: [Int32]
    public var samples: Int
    public var sampling: SamplingParameters
    public var maxTokens: Int
    public var stopStrings: [String]
    /// Keep going through end-of-turn tokens (benchmarks that need a fixed length).
    public var ignoreEndOfTurn: Bool
    /// Record each generated token's log-probability and this many most likely alternatives
    /// (from the model's distribution before temperature and filters, as OpenAI's API reports them).
    /// nil: record nothing.
    public var topLogprobs: Int?
    /// Sample `s` draws from random stream `firstStream + s` of the seed (resuming part of a request).
    public var firstStream: Int
    /// Edits of this request's activations (its rows only: other requests in the batch are not touched).
    public var interventions: [Intervention]
    /// Activations to record for each sample (`SampleResult.activations`).
    public var captures: [ActivationCapture]

    public init(promptTokens: [Int32], samples: Int = 1, sampling: SamplingParameters = .init(),
                maxTokens: Int = 256, stopStrings: [String] = [], ignoreEndOfTurn: Bool = false,
                topLogprobs: Int? = nil, firstStream: Int = 0, interventions: [Intervention] = [],
                captures: [ActivationCapture] = []) {
        self.promptTokens = promptTokens
        self.samples = samples
        self.sampling = sampling
        self.maxTokens = maxTokens
        self.stopStrings = stopStrings
        self.ignoreEndOfTurn = ignoreEndOfTurn
        self.topLogprobs = topLogprobs
        self.firstStream = firstStream
        self.interventions = interventions
        self.captures = captures
    }

    /// The hooks of this request's prompt (nil: it has no interventions or captures).
    func promptHooks() -> Hooks? {
        interventions.isEmpty && captures.isEmpty ? nil
            : Hooks(interventions: interventions, captures: captures, promptLength: promptTokens.count)
    }
}

/// A token with its natural-log probability.
public struct TokenProbability: Sendable, Equatable {
    public var token: Int32
    public var logProbability: Float
    public init(token: Int32, logProbability: Float) {
        self.token = token
        self.logProbability = logProbability
    }
}

/// A generated token's log-probability and the most likely alternatives at its position.
public struct TokenLogprobs: Sendable, Equatable {
    public var chosen: TokenProbability
    public var top: [TokenProbability]
}

/// One finished answer.
public struct SampleResult: Sendable {
    public var request: Int      // id returned by `submit`
    public var sample: Int       // 0..<samples
    public var tokens: [Int32]
    public var text: String
    public var finishReason: FinishReason
    /// One entry per generated token (end-of-turn included) when the request asked for log-probabilities.
    public var logprobs: [TokenLogprobs]?
    /// What the request's captures recorded for this sample, in their order (prompt positions are
    /// shared by all samples; answer positions are this sample's generated tokens that were fed back,
    /// so not the last one).
    public var activations: [CapturedActivations] = []
}

public enum BatchError: Error, CustomStringConvertible, Equatable {
    case overBudget(request: Int, needed: Int, budget: Int)
    case invalidRequest(String)

    public var description: String {
        switch self {
        case .overBudget(let r, let n, let b):
            return "request \(r) needs \(n / 1_048_576) MiB of KV cache but the budget is \(b / 1_048_576) MiB (raise --kv-budget or lower samples/max tokens)"
        case .invalidRequest(let why): return "invalid generation request: \(why)"
        }
    }
}

/// Decodes many sequences together: every step is one forward pass over all live sequences.
///
/// Each prompt is computed once (reusing the prefix cache), its samples fork its KV cache, and
/// sample `i` draws from its own random stream, so its text does not depend on batch size, thread
/// count or the other requests. Requests may be submitted between steps (continuous batching).
public final class BatchGenerator: @unchecked Sendable {
    public let engine: Engine
    public let prefixCache: PrefixCache?
    /// Most sequences decoded in one step.
    public var maxBatch: Int
    /// KV memory allowed for live sequences (prompts and samples), bytes.
    public var kvBudgetBytes: Int

    private struct Live {
        let request: Int
        let sample: Int
        let sequence: KVSequence
        var sampler: Sampler
        var decoder: StreamingDecoder
        var stopper: StopStringFilter
        var tokens: [Int32] = []
        var next: Int32 = 0
        let maxTokens: Int
        let ignoreEndOfTurn: Bool
        let topLogprobs: Int?
        var logprobs: [TokenLogprobs] = []
        /// This sample's interventions and captures.
        let hooks: Hooks?
    }

    /// Work done so far, for reports and benchmarks.
    public struct Statistics: Sendable {
        public var promptTokensComputed = 0
        public var promptSeconds = 0.0
        public var decodeSteps = 0
        public var tokensGenerated = 0
        public var decodeSeconds = 0.0
        /// The part of `decodeSeconds` spent in forward passes (the rest: sampling, bookkeeping).
        public var forwardSeconds = 0.0
    }

    public private(set) var statistics = Statistics()
    public func resetStatistics() { statistics = Statistics() }

    private var pending: [(id: Int, request: GenerationRequest)] = []
    private var live: [Live] = []
    private var nextId = 0
    private var results: [SampleResult] = []
    /// Called with each finished sample.
    public var onFinish: ((SampleResult) -> Void)?
    /// Streaming: called with (request, sample, text) as text becomes final (complete UTF-8, never
    /// part of a stop string); returning false ends that sample (`.cancelled`).
    public var onText: ((_ request: Int, _ sample: Int, _ text: String) -> Bool)?
    public init(engine: Engine, prefixCache: PrefixCache? = PrefixCache(), maxBatch: Int = 128,
                kvBudgetBytes: Int = 4 << 30) {
        self.engine = engine
        self.prefixCache = prefixCache
        self.maxBatch = maxBatch
        self.kvBudgetBytes = kvBudgetBytes
    }

    private var bytesPerPosition: Int {
        let c = engine.model.config
        return KVSequence.bytesPerPosition(layers: c.layerCount, kvDimension: c.kvDimension)
    }

    /// KV bytes a request needs at most: its prompt once, plus every sample's own tokens.
    public func kvBytesNeeded(_ r: GenerationRequest) -> Int {
        (r.promptTokens.count + r.samples * r.maxTokens) * bytesPerPosition
    }

    public var liveCount: Int { live.count }
    public var pendingCount: Int { pending.count }
    public var isIdle: Bool { live.isEmpty && pending.isEmpty }

    /// Queues a request and returns its id. Fails at once if it could never fit the KV budget.
    @discardableResult
    public func submit(_ request: GenerationRequest) throws -> Int {
        guard !request.promptTokens.isEmpty else { throw BatchError.invalidRequest("empty prompt") }
        guard request.samples >= 1 else { throw BatchError.invalidRequest("samples must be ≥ 1") }
        guard request.maxTokens >= 1 else { throw BatchError.invalidRequest("maxTokens must be ≥ 1") }
        let ctx = engine.model.config.contextLength
        guard request.promptTokens.count + request.maxTokens <= ctx else {
            throw ModelError.contextOverflow(requested: request.promptTokens.count + request.maxTokens, capacity: ctx)
        }
        let id = nextId
        nextId += 1
        let need = kvBytesNeeded(request)
        guard need <= kvBudgetBytes else { throw BatchError.overBudget(request: id, needed: need, budget: kvBudgetBytes) }
        pending.append((id, request))
        return id
    }

    /// Runs everything submitted to completion and returns the results by request, then sample.
    public func run() throws -> [SampleResult] {
        while try step() {}
        let out = results.sorted { ($0.request, $0.sample) < ($1.request, $1.sample) }
        results.removeAll()
        return out
    }

    /// Drops every pending and live request (after a failed step); returns their ids.
    @discardableResult
    public func cancelAll() -> Set<Int> {
        let ids = Set(pending.map(\.id) + live.map(\.request))
        pending.removeAll()
        live.removeAll()
        results.removeAll()
        return ids
    }

    /// Convenience: all requests at once; result `[i][j]` is sample `j` of request `i`.
    public func generate(_ requests: [GenerationRequest]) throws -> [[SampleResult]] {
        let ids = try requests.map { try submit($0) }
        let all = try run()
        var byRequest = [Int: [SampleResult]]()
        for r in all { byRequest[r.request, default: []].append(r) }
        return ids.map { byRequest[$0] ?? [] }
    }

    private var liveBytes: Int {
        // Own positions of samples as they may grow, plus the prompts they share (each once).
        var seen = Set<ObjectIdentifier>()
        var total = 0
        for l in live {
            total += l.maxTokens * bytesPerPosition
            var s = l.sequence.parent
            while let p = s, seen.insert(ObjectIdentifier(p)).inserted {
                total += p.ownBytes
                s = p.parent
            }
        }
        return total
    }

    /// Admits what fits, then decodes one token for every live sequence. Returns false when idle.
    public func step() throws -> Bool {
        try admit()
        if live.isEmpty { return !pending.isEmpty }
        let started = Stopwatch.now
        var batch = Batch()
        batch.independentRows = true
        for l in live { batch.append([l.next], to: l.sequence, hooks: l.hooks) }
        let logits = try engine.model.forward(batch, hooks: nil)
        statistics.forwardSeconds += Stopwatch.seconds(since: started)
        defer {
            statistics.decodeSteps += 1
            statistics.tokensGenerated += batch.count
            statistics.decodeSeconds += Stopwatch.seconds(since: started)
        }
        let vocab = engine.model.config.vocabularySize
        // Each sequence owns its sampler: draw all rows in parallel, then record them in order.
        var drawn = [Int32](repeating: 0, count: live.count)
        live.withUnsafeMutableBufferPointer { seqs in
            drawn.withUnsafeMutableBufferPointer { out in
                Parallel.forRange(seqs.count) { range in
                    for i in range {
                        out[i] = seqs[i].sampler.sample(UnsafeBufferPointer(rebasing: logits[(i * vocab)..<((i + 1) * vocab)]))
                    }
                }
            }
        }
        var finished: [Int] = []
        for i in live.indices {
            if let k = live[i].topLogprobs {
                live[i].logprobs.append(LogSoftmax.describe(UnsafeBufferPointer(rebasing: logits[(i * vocab)..<((i + 1) * vocab)]),
                                                            chosen: drawn[i], top: k))
            }
            if !accept(drawn[i], at: i) { finished.append(i) }
        }
        for i in finished.reversed() { live.remove(at: i) }
        return !isIdle
    }

    /// Records a sampled token for live sequence `i`; returns false when the sequence finished.
    private func accept(_ token: Int32, at i: Int) -> Bool {
        let (request, sample) = (live[i].request, live[i].sample)
        var finish: FinishReason? = nil
        if engine.stopTokens.contains(token) && !live[i].ignoreEndOfTurn {
            finish = .endOfTurn
        } else {
            live[i].tokens.append(token)
            let (ready, stopped) = live[i].stopper.push(live[i].decoder.push(token))
            if !ready.isEmpty, let onText, !onText(request, sample, ready) {
                finish = .cancelled
            } else if stopped {
                finish = .stopString
            } else if live[i].tokens.count >= live[i].maxTokens
                        || live[i].sequence.length + 1 >= engine.model.config.contextLength {
                finish = .length
            }
        }
        guard let finish else {
            live[i].next = token
            return true
        }
        if finish == .endOfTurn || finish == .length {
            let rest = live[i].stopper.finish(live[i].decoder.flush())
            if !rest.isEmpty { _ = onText?(request, sample, rest) }
        }
        let result = SampleResult(request: request, sample: sample, tokens: live[i].tokens,
                                  text: live[i].stopper.text, finishReason: finish,
                                  logprobs: live[i].topLogprobs == nil ? nil : live[i].logprobs,
                                  activations: live[i].hooks?.recorded ?? [])
        results.append(result)
        onFinish?(result)
        return false
    }

    /// Computes pending prompts (once each, reusing cached prefixes) and forks their samples,
    /// while the batch and the KV budget allow.
    private func admit() throws {
        while let (id, r) = pending.first.map({ ($0.id, $0.request) }) {
            let fitsBatch = live.count + r.samples <= maxBatch || live.isEmpty
            let fitsMemory = liveBytes + kvBytesNeeded(r) <= kvBudgetBytes || live.isEmpty
            guard fitsBatch && fitsMemory else { return }
            pending.removeFirst()
            let hooks = r.promptHooks()
            let prompt = try computePrompt(r.promptTokens, hooks: hooks)
            for s in 0..<r.samples {
                let child = prompt.sequence.fork(reserve: min(r.maxTokens, 256))
                var l = Live(request: id, sample: s, sequence: child, sampler: Sampler(r.sampling, stream: UInt64(r.firstStream + s)),
                             decoder: StreamingDecoder(tokenizer: engine.tokenizer),
                             stopper: StopStringFilter(r.stopStrings), maxTokens: r.maxTokens,
                             ignoreEndOfTurn: r.ignoreEndOfTurn, topLogprobs: r.topLogprobs,
                             hooks: r.samples == 1 ? hooks : hooks?.copy())
                let first = prompt.logits.withUnsafeBufferPointer { l.sampler.sample($0) }
                if let k = r.topLogprobs {
                    l.logprobs.append(prompt.logits.withUnsafeBufferPointer { LogSoftmax.describe($0, chosen: first, top: k) })
                }
                live.append(l)
                if !accept(first, at: live.count - 1) { live.removeLast() }
            }
        }
    }

    /// The prompt's KV cache and last-position logits: a prompt cached whole as it is, else
    /// computed from the longest cached prefix.
    ///
    /// `hooks` edit and capture the computed positions. The cache is keyed by the tokens and by the
    /// interventions that change them (`Hooks.variant`), and positions a capture needs are computed,
    /// never served from the cache, so reuse never changes what is computed or captured.
    ///
    /// `logitsFrom`: return the logits after each of `tokens[logitsFrom...]` (row after row) instead of
    /// the last position's; those positions are computed too, and the tokens are not cached.
    public func computePrompt(_ tokens: [Int32], hooks: Hooks? = nil, logitsFrom: Int? = nil) throws -> (sequence: KVSequence, logits: [Float]) {
        let seq: KVSequence
        var start = 0
        let variant = hooks?.variant(forLength: tokens.count) ?? []
        let firstComputed = min(hooks?.firstCapturedPosition ?? tokens.count, logitsFrom ?? tokens.count)
        if firstComputed >= tokens.count, let whole = prefixCache?.exact(tokens, variant: variant) { return whole }
        if let hit = prefixCache?.lookup(tokens, variant: variant, limit: firstComputed) {
            seq = KVSequence(layers: hit.sequence.layers, kvDimension: hit.sequence.kvDim, parent: hit.sequence,
                             parentLength: hit.length, reserve: tokens.count - hit.length)
            start = hit.length
        } else {
            seq = engine.model.newSequence(reserve: tokens.count)
        }
        let started = Stopwatch.now
        let logits = try engine.prefill(Array(tokens[start...]), into: seq, hooks: hooks, logitsFrom: logitsFrom.map { $0 - start })
        statistics.promptTokensComputed += tokens.count - start
        statistics.promptSeconds += Stopwatch.seconds(since: started)
        // A transcript read for its rows (an answer read once) is not kept for reuse.
        if hooks?.lastLayer == nil && logitsFrom == nil { prefixCache?.insert(tokens, seq, logits: logits, variant: variant) }
        return (seq, logits)
    }

    /// Activations of a given transcript (teacher forcing): `prompt` then `answer` computed as one
    /// sequence under `interventions`, with `captures` pooled over the prompt's and answer's
    /// positions. Shares computed prefixes through the prefix cache like `computePrompt`.
    ///
    /// The pass stops after the deepest captured layer (a later layer cannot change an earlier one's
    /// activations), and such a partly computed sequence is not put in the prefix cache.
    public func activations(prompt: [Int32], answer: [Int32], captures: [ActivationCapture],
                            interventions: [Intervention] = [], wholeModel: Bool = false) throws -> [CapturedActivations] {
        guard !prompt.isEmpty else { throw EngineError.emptyPrompt }
        let hooks = Hooks(interventions: interventions, captures: captures, promptLength: prompt.count)
        if !wholeModel, let deepest = captures.map(\.point.layer).max(), deepest < engine.model.config.layerCount - 1 {
            hooks.lastLayer = deepest
        }
        _ = try computePrompt(prompt + answer, hooks: hooks)
        return hooks.recorded
    }

    /// `activations` (the whole model computed) and the natural-log probability of each token of
    /// `answer`, from one pass over `prompt` + `answer`: where `activations` and `logProbabilities`
    /// would compute the transcript twice. The probabilities come from the prompt path's numbers,
    /// where `logProbabilities` computes continuations on the decode path (8-bit activations on
    /// quantized weights): the two differ by up to about 0.2 nats on SmolLM2.
    public func answerReading(prompt: [Int32], answer: [Int32], captures: [ActivationCapture]) throws
        -> (activations: [CapturedActivations], logProbabilities: [Float]) {
        guard !prompt.isEmpty else { throw EngineError.emptyPrompt }
        guard !answer.isEmpty else { throw BatchError.invalidRequest("empty answer") }
        let hooks = Hooks(interventions: [], captures: captures, promptLength: prompt.count)
        // Rows for positions prompt.count - 1 …: row k predicts answer[k] (the last row is not needed).
        let (_, logits) = try computePrompt(prompt + answer, hooks: hooks, logitsFrom: prompt.count - 1)
        let vocab = engine.model.config.vocabularySize
        let logProbabilities = logits.withUnsafeBufferPointer { all in
            answer.indices.map { k in LogSoftmax.value(UnsafeBufferPointer(rebasing: all[(k * vocab)..<((k + 1) * vocab)]), at: answer[k]) }
        }
        return (hooks.recorded, logProbabilities)
    }
}
