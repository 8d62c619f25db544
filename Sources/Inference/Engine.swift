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

/// A loaded local model: architecture, tokenizer and chat format, ready to generate.
public final class Engine: @unchecked Sendable {
    public let file: GGUFFile
    public let model: any CausalLM
    public let tokenizer: any Tokenizer
    /// nil for files without a chat template (base models): only raw prompts then.
    public let chatTemplate: ChatTemplate?
    /// Tokens that end a turn (end-of-sequence, end-of-turn).
    public let stopTokens: Set<Int32>
    /// Prompts are computed in chunks that start at multiples of this position (see
    /// `KVSequence.alignment`): a prompt continued from a cached prefix gives the same bits as a fresh one.
    public static let promptChunk = KVSequence.alignment

    public init(file: GGUFFile) throws {
        self.file = file
        model = try loadModel(file)
        tokenizer = try loadTokenizer(gguf: file)
        chatTemplate = try? ChatTemplate(templateSource: file["tokenizer.chat_template"]?.stringValue)
        var stops = tokenizer.endOfGenerationIds
        if let t = chatTemplate, let id = tokenizer.id(forSpecial: t.endOfTurn) { stops.insert(id) }
        stopTokens = stops
    }

    public convenience init(path: String) throws {
        try self.init(file: try GGUFFile(path: path))
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

    /// Feeds `tokens` into `sequence` in position-aligned chunks and returns the logits after the last one.
    public func prefill(_ tokens: [Int32], into sequence: KVSequence, hooks: Hooks? = nil) throws -> [Float] {
        guard !tokens.isEmpty else { throw EngineError.emptyPrompt }
        let chunk = Engine.promptChunk
        var start = 0
        var last: [Float] = []
        while start < tokens.count {
            let position = sequence.length
            let end = min(tokens.count, start + (chunk - position % chunk))
            var batch = Batch()
            batch.append(Array(tokens[start..<end]), to: sequence, logitsForLast: end == tokens.count)
            let logits = try model.forward(batch, hooks: hooks)
            if end == tokens.count { last = Array(logits) }
            start = end
        }
        return last
    }

    /// Generates one continuation of `promptTokens` (sample 0 of a batched request with the same
    /// seed: the same text). `onText` receives text as it becomes final (complete UTF-8, never part
    /// of a stop string); returning false stops early.
    public func generate(promptTokens: [Int32], sampling: SamplingParameters = .init(), maxTokens: Int = 256,
                         stopStrings: [String] = [], hooks: Hooks? = nil,
                         onText: ((String) -> Bool)? = nil) throws -> Generation {
        let generator = BatchGenerator(engine: self, prefixCache: nil, maxBatch: 1)
        generator.hooks = hooks
        if let onText { generator.onText = { _, _, text in onText(text) } }
        let request = GenerationRequest(promptTokens: promptTokens, samples: 1, sampling: sampling,
                                        maxTokens: maxTokens, stopStrings: stopStrings)
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
            return "this model has no chat template (a base model): use a raw prompt (--raw) instead of chat"
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
