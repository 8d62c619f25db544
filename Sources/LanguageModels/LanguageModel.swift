import Core
import Foundation

/// One chat request: the shape of an OpenAI chat completion, which every backend speaks.
public struct CompletionRequest: Sendable, Hashable, Codable {
    public var messages: [ChatMessage]
    /// Answers to sample from the same prompt.
    public var n: Int
    public var temperature: Double
    public var topP: Double
    public var maxTokens: Int
    /// nil: a fresh random seed. With a seed, choice `i` of a local model draws from stream
    /// `firstChoiceStream + i` of that seed, so its text does not depend on `n` or on batching.
    public var seed: UInt64?
    public var stop: [String]
    /// Return each generated token's log-probability and this many alternatives (0…20); nil: none.
    public var topLogprobs: Int?
    /// Local models only: the random stream of choice 0 (resuming part of a request).
    public var firstChoiceStream: Int
    /// White-box models only: edits of this request's activations (steering, ablation). They apply
    /// to this request's sequences alone, whatever else shares the batch. nil: none.
    public var interventions: [Intervention]?
    /// White-box models only: activations to record for each choice (`CompletionChoice.activations`).
    public var captures: [ActivationCapture]?
    /// Functions the model may call (OpenAI `tools`); a choice's calls come back in
    /// `CompletionChoice.toolCalls`. nil or empty: none. Local models write the tools into the prompt
    /// in their template's format and parse calls from the reply (`ToolPrompt`, `ToolCallSyntax`).
    public var tools: [ToolDefinition]?

    public init(messages: [ChatMessage], n: Int = 1, temperature: Double = 1, topP: Double = 1,
                maxTokens: Int = 600, seed: UInt64? = nil, stop: [String] = [], topLogprobs: Int? = nil,
                firstChoiceStream: Int = 0, interventions: [Intervention]? = nil, captures: [ActivationCapture]? = nil,
                tools: [ToolDefinition]? = nil) {
        self.messages = messages
        self.n = n
        self.temperature = temperature
        self.topP = topP
        self.maxTokens = maxTokens
        self.seed = seed
        self.stop = stop
        self.topLogprobs = topLogprobs
        self.firstChoiceStream = firstChoiceStream
        self.interventions = interventions
        self.captures = captures
        self.tools = tools
    }

    /// Checks the parameters every backend shares; interventions and captures only where `whiteBox`.
    public func validate(whiteBox: Bool) throws {
        guard n >= 1 else { throw LanguageModelError.invalidRequest("n must be at least 1") }
        guard maxTokens >= 1 else { throw LanguageModelError.invalidRequest("max_tokens must be at least 1") }
        if let k = topLogprobs, !(0...20).contains(k) {
            throw LanguageModelError.invalidRequest("top_logprobs must be between 0 and 20")
        }
        if !whiteBox, !(interventions ?? []).isEmpty || !(captures ?? []).isEmpty {
            throw LanguageModelError.invalidRequest("interventions and activation captures need a local model; a remote model's activations cannot be read or edited")
        }
        var toolNames = Set<String>()
        for (i, tool) in (tools ?? []).enumerated() {
            guard ToolDefinition.isValidName(tool.name) else {
                throw LanguageModelError.invalidRequest("tools[\(i)]: the name '\(tool.name)' must be 1-64 letters, digits, '_' or '-'")
            }
            guard toolNames.insert(tool.name).inserted else {
                throw LanguageModelError.invalidRequest("tools[\(i)]: a second tool named '\(tool.name)'")
            }
            guard case .object = tool.parameters else {
                throw LanguageModelError.invalidRequest("tools[\(i)].parameters must be a JSON schema object")
            }
        }
    }
}

/// A token's text and natural-log probability.
public struct TokenAlternative: Sendable, Hashable, Codable {
    public var token: String
    public var logprob: Double
    public init(token: String, logprob: Double) {
        self.token = token
        self.logprob = logprob
    }
}

/// A generated token with the most likely alternatives at its position.
public struct GeneratedToken: Sendable, Hashable, Codable {
    public var token: String
    public var logprob: Double
    public var top: [TokenAlternative]
    public init(token: String, logprob: Double, top: [TokenAlternative]) {
        self.token = token
        self.logprob = logprob
        self.top = top
    }
}

public struct CompletionChoice: Sendable, Hashable, Codable {
    public var index: Int
    public var text: String
    /// "stop" (end of turn or a stop string), "length", or what a server reported.
    public var finishReason: String
    public var completionTokens: Int
    public var logprobs: [GeneratedToken]?
    /// What the request's captures recorded for this choice; nil when it asked for none.
    public var activations: [CapturedActivations]?
    /// The tools the choice calls (a request with `tools` only); nil: none. `text` is then the
    /// reply's text besides the calls, often empty, and `finishReason` is "tool_calls".
    public var toolCalls: [ToolCall]?
    public init(index: Int, text: String, finishReason: String, completionTokens: Int, logprobs: [GeneratedToken]? = nil,
                activations: [CapturedActivations]? = nil, toolCalls: [ToolCall]? = nil) {
        self.index = index
        self.text = text
        self.finishReason = finishReason
        self.completionTokens = completionTokens
        self.logprobs = logprobs
        self.activations = activations
        self.toolCalls = toolCalls
    }
}

public struct TokenUsage: Sendable, Hashable, Codable {
    public var promptTokens: Int
    public var completionTokens: Int
    public init(promptTokens: Int = 0, completionTokens: Int = 0) {
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
    }
    public static func + (a: TokenUsage, b: TokenUsage) -> TokenUsage {
        TokenUsage(promptTokens: a.promptTokens + b.promptTokens, completionTokens: a.completionTokens + b.completionTokens)
    }
}

public struct Completion: Sendable, Hashable, Codable {
    public var choices: [CompletionChoice]
    public var usage: TokenUsage
    public init(choices: [CompletionChoice], usage: TokenUsage) {
        self.choices = choices
        self.usage = usage
    }
}

/// What a run records about a model: the spec it was given and what it resolved to.
public struct ModelIdentity: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The `--model`/`--judge` spec as given, e.g. `local:smollm2-135m`.
    public var spec: String
    /// What it resolved to: a file with its size, or a server's base URL and model name (never a key).
    public var resolved: String
    public init(spec: String, resolved: String) {
        self.spec = spec
        self.resolved = resolved
    }
    public var description: String { spec }
}

/// Called with each choice of a request as soon as it is finished.
public typealias ChoiceHandler = @Sendable (CompletionChoice) -> Void
/// Streaming: called with (choice index, new text); return false to stop that choice.
public typealias TextHandler = @Sendable (Int, String) -> Bool

/// Anything that answers chat requests: the embedded engine or a remote OpenAI-compatible server.
public protocol LanguageModel: Sendable {
    var identity: ModelIdentity { get }
    /// Whether `complete` can return token log-probabilities (a logprob judge needs them).
    var supportsLogprobs: Bool { get }

    /// Answers one request. `onChoice` sees each choice as soon as it is finished, `onText` streams.
    func complete(_ request: CompletionRequest, onChoice: ChoiceHandler?, onText: TextHandler?) async throws -> Completion

    /// The exact probability that the model's reply is each of `answers` (and nothing more), or nil
    /// when the model cannot compute it (remote models: use top log-probabilities instead).
    func answerProbabilities(messages: [ChatMessage], answers: [String]) async throws -> [Double]?
}

extension LanguageModel {
    public func complete(_ request: CompletionRequest) async throws -> Completion {
        try await complete(request, onChoice: nil, onText: nil)
    }
    public func answerProbabilities(messages: [ChatMessage], answers: [String]) async throws -> [Double]? { nil }
}

public enum LanguageModelError: Error, CustomStringConvertible, Equatable {
    case invalidSpec(String, why: String)
    case invalidRequest(String)
    case backend(String)

    public var description: String {
        switch self {
        case .invalidSpec(let s, let why): return "model spec '\(s)': \(why)"
        case .invalidRequest(let why): return "invalid request: \(why)"
        case .backend(let why): return why
        }
    }
}
