import Core
import Foundation
import GGUF
import Tokenizer

/// Why a generation ended.
public enum FinishReason: String, Sendable, Codable {
    case endOfTurn = "stop"        // an end-of-turn / end-of-sequence token
    case stopString = "stop_string"
    case length
    case cancelled                  // the caller's streaming callback asked to stop
}

public struct Generation: Sendable {
    public var promptTokens: [Int32]
    public var tokens: [Int32]
    public var text: String
    public var finishReason: FinishReason
}

/// How an engine computes prompts (several positions of one sequence in one forward pass).
public enum PromptPath: String, Sendable, CaseIterable {
    /// OpenBLAS on dequantized weights with float activations, attention as matrix products: the
    /// accurate path (Gemma 3's first-step logits 0.04-0.09 from the double-precision definition).
    case float
    /// The decoding kernels on the quantized blocks with 8-bit activations, row by row: each
    /// position's numbers are exactly those of decoding it one token at a time. Several times faster
    /// where vector FMA is slow (Zen 1), and less accurate (Gemma 3: 0.28-0.39 from the definition;
    /// llama.cpp's own logits are 0.42-0.47 from it).
    case eightBit = "8bit"
}

/// A loaded local model: architecture, tokenizer and chat format, ready to generate.
public final class Engine: @unchecked Sendable {
    public let file: GGUFFile
    public let model: any CausalLM
    public let tokenizer: any Tokenizer
    /// The file's chat template, or the one the caller chose instead; nil for files without a
    /// chat template (base models) when none was chosen: only raw prompts then.
    public let chatTemplate: ChatTemplate?
    /// Tokens that end a turn (end-of-sequence, end-of-turn).
    public let stopTokens: Set<Int32>
    /// Prompts are computed in chunks that start at multiples of this position (see
    /// `KVSequence.alignment`): a prompt continued from a cached prefix gives the same bits as a fresh one.
    public static let promptChunk = KVSequence.alignment
    /// How `prefill` computes prompts.
    public let promptPath: PromptPath

    /// - chatTemplate: the chat format to use instead of the file's template (e.g. `.transcript`
    ///   for a base model); nil: the file's.
    /// - promptPath: how prompts are computed.
    public init(file: GGUFFile, chatTemplate chosen: ChatTemplate? = nil, promptPath: PromptPath = .float) throws {
        self.file = file
        self.promptPath = promptPath
        model = try loadModel(file)
        tokenizer = try loadTokenizer(gguf: file)
        chatTemplate = chosen ?? (try? ChatTemplate(templateSource: file["tokenizer.chat_template"]?.stringValue))
        var stops = tokenizer.endOfGenerationIds
        if let end = chatTemplate?.endOfTurn, let id = tokenizer.id(forSpecial: end) { stops.insert(id) }
        stopTokens = stops
    }

    public convenience init(path: String, chatTemplate: ChatTemplate? = nil, promptPath: PromptPath = .float) throws {
        try self.init(file: try GGUFFile(path: path), chatTemplate: chatTemplate, promptPath: promptPath)
    }

    /// The chat template, or an error that says the model has none.
    public func requireChatTemplate() throws -> ChatTemplate {
        guard let t = chatTemplate else {
            // A base model (no template at all) is told apart from an unrecognized template.
            guard let source = file["tokenizer.chat_template"]?.stringValue, !source.isEmpty else {
                throw EngineError.noChatTemplate
            }
            _ = try ChatTemplate(templateSource: source)
            throw EngineError.noChatTemplate
        }
        return t
    }

    public func chatPromptTokens(_ messages: [ChatMessage]) throws -> [Int32] {
        let text = try requireChatTemplate().render(messages)
        return tokenizer.encode(text, addSpecial: true, parseSpecial: true)
    }

    /// The tokens of an assistant reply as they follow `chatPromptTokens` (with the format's
    /// separator in front), for scoring a given reply.
    public func replyTokens(_ text: String) throws -> [Int32] {
        tokenizer.encode(try requireChatTemplate().replySeparator + text)
    }

    /// Generates the assistant's reply to `messages`: the chat prompt, the format's stop strings
    /// besides `stopStrings`, and the reply's text without the format's separator (streamed too).
    public func reply(to messages: [ChatMessage], sampling: SamplingParameters = .init(), maxTokens: Int = 256,
                      stopStrings: [String] = [], interventions: [Intervention] = [],
                      onText: ((String) -> Bool)? = nil) throws -> Generation {
        let template = try requireChatTemplate()
        var start = ReplyStart(template)
        var g = try generate(promptTokens: try chatPromptTokens(messages), sampling: sampling, maxTokens: maxTokens,
                             stopStrings: stopStrings + template.stopStrings, interventions: interventions,
                             onText: onText.map { stream in { stream(start.take($0)) } })
        g.text = template.replyText(g.text)
        return g
    }

    /// An empty batch for prompt tokens, set up for `promptPath`.
    public func promptBatch() -> Batch {
        var batch = Batch()
        batch.independentRows = promptPath == .eightBit
        return batch
    }

    /// Feeds `tokens` into `sequence` in position-aligned chunks and returns the logits after the last
    /// one; with `logitsFrom`, the logits after each of `tokens[logitsFrom...]` instead, row after row.
    public func prefill(_ tokens: [Int32], into sequence: KVSequence, hooks: Hooks? = nil, logitsFrom: Int? = nil) throws -> [Float] {
        guard !tokens.isEmpty else { throw EngineError.emptyPrompt }
        let chunk = Engine.promptChunk
        var start = 0
        var out: [Float] = []
        while start < tokens.count {
            let position = sequence.length
            let end = min(tokens.count, start + (chunk - position % chunk))
            var batch = promptBatch()
            if let from = logitsFrom, from < end {
                let split = max(start, from)
                if split > start { batch.append(Array(tokens[start..<split]), to: sequence, logitsForLast: false) }
                batch.append(Array(tokens[split..<end]), to: sequence, logitsForAll: true)
                out.append(contentsOf: try model.forward(batch, hooks: hooks))
            } else {
                let last = logitsFrom == nil && end == tokens.count
                batch.append(Array(tokens[start..<end]), to: sequence, logitsForLast: last)
                let logits = try model.forward(batch, hooks: hooks)
                if last { out = Array(logits) }
            }
            start = end
        }
        return out
    }

    /// Generates one continuation of `promptTokens` (sample 0 of a batched request with the same
    /// seed: the same text). `onText` receives text as it becomes final (complete UTF-8, never part
    /// of a stop string); returning false stops early.
    public func generate(promptTokens: [Int32], sampling: SamplingParameters = .init(), maxTokens: Int = 256,
                         stopStrings: [String] = [], interventions: [Intervention] = [],
                         onText: ((String) -> Bool)? = nil) throws -> Generation {
        let generator = BatchGenerator(engine: self, prefixCache: nil, maxBatch: 1)
        if let onText { generator.onText = { _, _, text in onText(text) } }
        let request = GenerationRequest(promptTokens: promptTokens, samples: 1, sampling: sampling,
                                        maxTokens: maxTokens, stopStrings: stopStrings, interventions: interventions)
        let result = try generator.generate([request])[0][0]
        return Generation(promptTokens: promptTokens, tokens: result.tokens, text: result.text,
                          finishReason: result.finishReason)
    }
}

public enum EngineError: Error, CustomStringConvertible {
    case noChatTemplate
    case emptyPrompt

    public var description: String {
        switch self {
        case .noChatTemplate:
            return "this model has no chat template (a base model): give it a raw prompt (--raw), or ask for a plain-text dialogue with the model spec NAME,chat=transcript"
        case .emptyPrompt: return "the prompt is empty"
        }
    }
}

/// Holds back text that might be the start of a stop string; cuts the output at the first stop string.
struct StopStringFilter {
    let stops: [String]
    private(set) var text = ""       // everything released so far (the final output)
    private var pending = ""

    init(_ stops: [String]) { self.stops = stops.filter { !$0.isEmpty } }

    /// Returns the newly releasable text and whether a stop string was reached.
    mutating func push(_ piece: String) -> (String, Bool) {
        pending += piece
        for s in stops {
            if let r = pending.range(of: s) {
                let out = String(pending[..<r.lowerBound])
                text += out
                pending = ""
                return (out, true)
            }
        }
        // Keep the longest suffix of `pending` that is a proper prefix of some stop string.
        var keep = 0
        for s in stops {
            var n = min(s.count - 1, pending.count)
            while n > keep {
                if pending.hasSuffix(s.prefix(n)) { keep = n; break }
                n -= 1
            }
        }
        let cut = pending.index(pending.endIndex, offsetBy: -keep)
        let out = String(pending[..<cut])
        pending = String(pending[cut...])
        text += out
        return (out, false)
    }

    mutating func finish(_ tail: String) -> String {
        let (out, stopped) = push(tail)
        if stopped { return out }
        let rest = out + pending
        text += pending
        pending = ""
        return rest
    }
}
