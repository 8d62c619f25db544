import Core
import Foundation
import Inference
import Tokenizer

/// The embedded engine as a `LanguageModel` and a `WhiteBoxModel`.
///
/// One worker thread owns the batch generator. Requests from any number of tasks are queued to it
/// and join the running batch between decoding steps (continuous batching), so concurrent callers
/// (an evaluation's questions, a server's clients) share every forward pass.
public final class LocalModel: WhiteBoxModel, @unchecked Sendable {
    public let identity: ModelIdentity
    public let engine: Engine
    public var supportsLogprobs: Bool { true }

    private let generator: BatchGenerator
    private let condition = NSCondition()
    private var jobs: [() -> Void] = []          // run on the worker between steps
    private var inFlight: [Int: InFlight] = [:]  // generator request id → its caller (worker only)
    private var stopped = false
    /// Tokens whose text starts with a letter or digit: they would extend an answer like "85".
    /// Found on first use (a pass over the vocabulary), on the worker thread, which alone reads it.
    private var continuingTokensFound: Set<Int32>?

    private final class InFlight {
        let continuation: CheckedContinuation<Completion, any Error>
        let onChoice: ChoiceHandler?
        let onText: TextHandler?
        /// The chat format the prompt was written in: its reply separator leaves each choice's text.
        let template: ChatTemplate
        /// Each choice's stream so far, to drop the separator at its start.
        var starts: [ReplyStart]
        let promptTokens: Int
        let wantLogprobs: Bool
        /// The request offered tools: each choice's `<tool_call>` blocks become its `toolCalls`.
        var parseToolCalls = false
        /// The offered tools' names (a reply that is one bare call object naming one is a call too).
        var toolNames: Set<String> = []
        var choices: [CompletionChoice?]
        var remaining: Int
        init(continuation: CheckedContinuation<Completion, any Error>, n: Int, template: ChatTemplate, promptTokens: Int,
             wantLogprobs: Bool, onChoice: ChoiceHandler?, onText: TextHandler?) {
            self.continuation = continuation
            self.template = template
            self.starts = Array(repeating: ReplyStart(template), count: n)
            self.choices = Array(repeating: nil, count: n)
            self.remaining = n
            self.promptTokens = promptTokens
            self.wantLogprobs = wantLogprobs
            self.onChoice = onChoice
            self.onText = onText
        }
    }

    /// - Parameters:
    ///   - maxBatch: most sequences decoded together.
    ///   - kvBudgetBytes: KV-cache memory for live sequences; a request that could never fit is refused.
    ///   - prefixCacheBytes: memory for computed prompt prefixes reused across requests; 0 turns reuse off.
    public init(engine: Engine, identity: ModelIdentity, maxBatch: Int = 64, kvBudgetBytes: Int = 4 << 30,
                prefixCacheBytes: Int = 512 << 20) {
        self.engine = engine
        self.identity = identity
        generator = BatchGenerator(engine: engine, prefixCache: prefixCacheBytes > 0 ? PrefixCache(budgetBytes: prefixCacheBytes) : nil,
                                   maxBatch: maxBatch, kvBudgetBytes: kvBudgetBytes)
        generator.onFinish = { [unowned self] in self.finished($0) }
        generator.onText = { [unowned self] request, sample, text in
            guard let f = self.inFlight[request], let stream = f.onText else { return true }
            return stream(sample, f.starts[sample].take(text))
        }
        // The worker holds the model until `shutdown()`.
        let thread = Thread { self.work() }
        thread.name = "emlab-engine"
        thread.stackSize = 8 << 20
        thread.start()
    }

    /// Stops the worker thread once the queued work is done. The model cannot be used afterwards.
    public func shutdown() {
        condition.lock()
        stopped = true
        condition.signal()
        condition.unlock()
    }

    /// Statistics of the prefix cache (hits, misses, reused tokens).
    public func prefixCacheStatistics() async throws -> PrefixCache.Statistics? {
        try await perform { $0.prefixCache?.statistics }
    }

    /// Runs `body` on the worker thread between decoding steps.
    public func perform<T: Sendable>(_ body: @escaping @Sendable (BatchGenerator) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<T, any Error>) in
            enqueue { [generator] in c.resume(with: Result { try body(generator) }) }
        }
    }

    // MARK: LanguageModel

    public func complete(_ request: CompletionRequest, onChoice: ChoiceHandler?, onText: TextHandler?) async throws -> Completion {
        try request.validate(whiteBox: true)
        let template = try engine.requireChatTemplate()
        let tools = request.tools ?? []
        let prompt = try engine.chatPromptTokens(try toolMessages(request.messages, tools: tools))
        let sampling = SamplingParameters(temperature: Float(request.temperature), topP: Float(request.topP),
                                          seed: request.seed ?? UInt64.random(in: 0...UInt64.max))
        let generation = GenerationRequest(promptTokens: prompt, samples: request.n, sampling: sampling,
                                           maxTokens: request.maxTokens, stopStrings: request.stop + template.stopStrings,
                                           topLogprobs: request.topLogprobs, firstStream: request.firstChoiceStream,
                                           interventions: request.interventions ?? [], captures: request.captures ?? [])
        return try await withCheckedThrowingContinuation { (c: CheckedContinuation<Completion, any Error>) in
            enqueue { [self] in
                do {
                    let id = try generator.submit(generation)
                    let f = InFlight(continuation: c, n: request.n, template: template, promptTokens: prompt.count,
                                     wantLogprobs: request.topLogprobs != nil, onChoice: onChoice, onText: onText)
                    f.parseToolCalls = !tools.isEmpty
                    f.toolNames = Set(tools.map(\.name))
                    inFlight[id] = f
                } catch {
                    c.resume(throwing: error)
                }
            }
        }
    }

    public func answerProbabilities(messages: [ChatMessage], answers: [String]) async throws -> [Double]? {
        let prompt = try engine.chatPromptTokens(messages)
        let tokenized = try answers.map { try engine.replyTokens($0) }
        let logs = try await perform { [self] in
            try $0.answerLogProbabilities(prompt: prompt, answers: tokenized, continuing: continuingTokens())
        }
        return logs.map { exp($0) }
    }

    // MARK: WhiteBoxModel

    public var layerCount: Int { engine.model.config.layerCount }
    public var width: Int { engine.model.config.embeddingLength }
    public var contextWindow: Int { engine.model.config.contextLength }
    public var hasChatTemplate: Bool { engine.chatTemplate != nil }
    public var numerics: String { "OpenBLAS \(blasCoreName) kernels" }

    public func promptTokenCount(_ messages: [ChatMessage]) throws -> Int { try engine.chatPromptTokens(messages).count }

    /// The prompt's length when `tools` are offered with `messages`.
    public func promptTokenCount(_ messages: [ChatMessage], tools: [ToolDefinition]) throws -> Int {
        try engine.chatPromptTokens(try toolMessages(messages, tools: tools)).count
    }

    /// How this model is offered tools: its template's own format (Qwen2.5) or emlab's text format.
    public var toolPromptFormat: ToolPromptFormat? {
        engine.chatTemplate.map { ToolPromptFormat(template: $0, gguf: engine.file) }
    }

    /// `messages` as the template renders them with `tools` (see `ToolPrompt`); unchanged when the
    /// conversation has neither tools nor tool results.
    private func toolMessages(_ messages: [ChatMessage], tools: [ToolDefinition]) throws -> [ChatMessage] {
        guard !tools.isEmpty || messages.contains(where: { $0.role == .tool }) else { return messages }
        let template = try engine.requireChatTemplate()
        return ToolPrompt.messages(messages, tools: tools, format: ToolPromptFormat(template: template, gguf: engine.file),
                                   template: template)
    }

    public func tokenCount(_ text: String) -> Int { engine.tokenizer.encode(text).count }

    public func activations(messages: [ChatMessage], answer: String, captures: [ActivationCapture],
                            interventions: [Intervention], maxAnswerTokens: Int?) async throws -> [CapturedActivations] {
        let (prompt, answer) = try transcriptTokens(messages, answer, maxAnswerTokens: maxAnswerTokens)
        try checkFits(prompt, answer)
        return try await perform { try $0.activations(prompt: prompt, answer: answer, captures: captures, interventions: interventions) }
    }

    public func answerTokenLogProbabilities(messages: [ChatMessage], answer: String, interventions: [Intervention],
                                            maxAnswerTokens: Int?) async throws -> [Float] {
        let (prompt, answer) = try transcriptTokens(messages, answer, maxAnswerTokens: maxAnswerTokens)
        guard !answer.isEmpty else { return [] }
        try checkFits(prompt, answer)
        return try await perform { try $0.logProbabilities(prompt: prompt, continuations: [answer], interventions: interventions)[0] }
    }

    public func answerReading(messages: [ChatMessage], answer: String, captures: [ActivationCapture],
                              maxAnswerTokens: Int?) async throws -> (activations: [CapturedActivations], logProbabilities: [Float]) {
        let (prompt, answer) = try transcriptTokens(messages, answer, maxAnswerTokens: maxAnswerTokens)
        try checkFits(prompt, answer)
        guard !answer.isEmpty else {
            return (try await perform { try $0.activations(prompt: prompt, answer: answer, captures: captures, interventions: []) }, [])
        }
        return try await perform { try $0.answerReading(prompt: prompt, answer: answer, captures: captures) }
    }

    public func answerTokenTexts(_ answer: String, maxAnswerTokens: Int?) throws -> [String] {
        let tokens = try replyTokens(answer, maxAnswerTokens: maxAnswerTokens)
        let tokenizer = engine.tokenizer
        return tokens.map { tokenizer.decode([$0], includeSpecial: true) }
    }

    public func promotedTokens(direction: [Float], count: Int) async throws -> [(token: String, logit: Float)] {
        guard direction.count == width else { throw ModelError.invalidHookVector(point: "unembed", expected: width, found: direction.count) }
        let engine = self.engine
        let logits = try await perform { _ in engine.model.unembed(direction) }
        let top = logits.indices.sorted { logits[$0] > logits[$1] || (logits[$0] == logits[$1] && $0 < $1) }.prefix(count)
        return top.map { (engine.tokenizer.decode([Int32($0)], includeSpecial: true), logits[$0]) }
    }

    /// The chat prompt of `messages` and `answer`'s reply tokens, cut at `maxAnswerTokens`.
    private func transcriptTokens(_ messages: [ChatMessage], _ answer: String, maxAnswerTokens: Int?) throws -> (prompt: [Int32], answer: [Int32]) {
        (try engine.chatPromptTokens(messages), try replyTokens(answer, maxAnswerTokens: maxAnswerTokens))
    }

    private func replyTokens(_ answer: String, maxAnswerTokens: Int?) throws -> [Int32] {
        let tokens = try engine.replyTokens(answer)
        if let m = maxAnswerTokens, tokens.count > m { return Array(tokens.prefix(m)) }
        return tokens
    }

    /// Throws unless the prompt and answer fit the context window together.
    private func checkFits(_ prompt: [Int32], _ answer: [Int32]) throws {
        guard prompt.count + answer.count <= contextWindow else {
            throw ModelError.contextOverflow(requested: prompt.count + answer.count, capacity: contextWindow)
        }
    }

    /// Worker thread only.
    private func continuingTokens() -> Set<Int32> {
        if let found = continuingTokensFound { return found }
        var continuing = Set<Int32>()
        let tokenizer = engine.tokenizer
        for id in 0..<Int32(tokenizer.vocabularySize) where !tokenizer.isControl(id) {
            if let c = tokenizer.decode([id]).unicodeScalars.first, CharacterSet.alphanumerics.contains(c) {
                continuing.insert(id)
            }
        }
        continuingTokensFound = continuing
        return continuing
    }

    // MARK: Worker

    private func enqueue(_ job: @escaping () -> Void) {
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    private func work() {
        while true {
            condition.lock()
            while jobs.isEmpty && generator.isIdle && !stopped { condition.wait() }
            if stopped && jobs.isEmpty && generator.isIdle {
                condition.unlock()
                return
            }
            let batch = jobs
            jobs.removeAll()
            condition.unlock()
            for job in batch { job() }
            guard !generator.isIdle else { continue }
            do {
                _ = try generator.step()
            } catch {
                for id in generator.cancelAll() {
                    inFlight.removeValue(forKey: id)?.continuation.resume(throwing: error)
                }
            }
        }
    }

    private func finished(_ result: SampleResult) {
        guard let f = inFlight[result.request] else { return }
        let tokenizer = engine.tokenizer
        let logprobs = f.wantLogprobs ? result.logprobs?.map { entry in
            GeneratedToken(token: tokenizer.decode([entry.chosen.token], includeSpecial: true),
                           logprob: Double(entry.chosen.logProbability),
                           top: entry.top.map { TokenAlternative(token: tokenizer.decode([$0.token], includeSpecial: true),
                                                                 logprob: Double($0.logProbability)) })
        } : nil
        var choice = CompletionChoice(index: result.sample, text: f.template.replyText(result.text),
                                      finishReason: result.finishReason == .length ? "length" : "stop",
                                      completionTokens: result.tokens.count, logprobs: logprobs,
                                      activations: result.activations.isEmpty ? nil : result.activations)
        if f.parseToolCalls {
            // Garbled blocks stay in the text (`ToolCallSyntax`), so the caller can see and record them.
            let parsed = ToolCallSyntax.parse(choice.text, bareCallNames: f.toolNames)
            if !parsed.calls.isEmpty {
                choice.text = parsed.content
                choice.toolCalls = parsed.calls
                if choice.finishReason == "stop" { choice.finishReason = "tool_calls" }
            }
        }
        f.choices[result.sample] = choice
        f.remaining -= 1
        f.onChoice?(choice)
        if f.remaining == 0 {
            inFlight.removeValue(forKey: result.request)
            let choices = f.choices.compactMap { $0 }
            let usage = TokenUsage(promptTokens: f.promptTokens, completionTokens: choices.reduce(0) { $0 + $1.completionTokens })
            f.continuation.resume(returning: Completion(choices: choices, usage: usage))
        }
    }
}
