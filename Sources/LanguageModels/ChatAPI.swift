import Core
import Foundation

/// The JSON shapes of OpenAI's chat-completions API, as far as emlab speaks them (client and server).
/// Property names are camel-case; `ChatAPI.encoder`/`decoder` convert them to the API's snake case.
public enum ChatAPI {
    public struct Message: Codable, Sendable, Hashable {
        public var role: String?
        public var content: String?
        /// An assistant message's calls (in a streamed delta: pieces of them, by `index`).
        public var toolCalls: [WireToolCall]?
        /// A `tool` message: the call it answers.
        public var toolCallId: String?
        public init(role: String?, content: String?, toolCalls: [WireToolCall]? = nil, toolCallId: String? = nil) {
            self.role = role
            self.content = content
            self.toolCalls = toolCalls
            self.toolCallId = toolCallId
        }

        /// A chat message as sent: an assistant turn with calls and no text has no `content`.
        public init(_ m: ChatMessage) {
            let calls = m.toolCalls.flatMap { $0.isEmpty ? nil : $0 }
            self.init(role: m.role.rawValue, content: calls != nil && m.content.isEmpty ? nil : m.content,
                      toolCalls: calls?.map { WireToolCall($0) }, toolCallId: m.toolCallId)
        }
    }

    /// `{"id", "type": "function", "function": {"name", "arguments"}}`; in a streamed delta every
    /// field but `index` may be missing and `arguments` comes in pieces.
    public struct WireToolCall: Codable, Sendable, Hashable {
        public var index: Int?
        public var id: String?
        public var type: String?
        public var function: Function?

        public struct Function: Codable, Sendable, Hashable {
            public var name: String?
            /// JSON text of the arguments object. Some servers send the object itself: it is read as its text.
            public var arguments: String?
            public init(name: String?, arguments: String?) {
                self.name = name
                self.arguments = arguments
            }
            public init(from decoder: any Decoder) throws {
                let c = try decoder.container(keyedBy: CodingKeys.self)
                name = try c.decodeIfPresent(String.self, forKey: .name)
                if let text = try? c.decodeIfPresent(String.self, forKey: .arguments) {
                    arguments = text
                } else {
                    arguments = try c.decodeIfPresent(JSONTree.self, forKey: .arguments)?.text()
                }
            }
            enum CodingKeys: String, CodingKey { case name, arguments }
        }

        public init(index: Int? = nil, id: String?, type: String? = "function", function: Function?) {
            self.index = index
            self.id = id
            self.type = type
            self.function = function
        }

        public init(_ call: ToolCall) {
            self.init(id: call.id, function: Function(name: call.name, arguments: call.arguments))
        }
    }

    public struct StreamOptions: Codable, Sendable, Hashable {
        public var includeUsage: Bool
        public init(includeUsage: Bool) { self.includeUsage = includeUsage }
    }

    /// What the client sends. Fields left nil are omitted.
    public struct Request: Codable, Sendable, Hashable {
        public var model: String
        public var messages: [Message]
        public var n: Int?
        public var temperature: Double?
        public var topP: Double?
        public var maxTokens: Int?
        /// OpenAI takes a signed 64-bit seed: emlab's unsigned seeds travel as their bit pattern.
        public var seed: Int64?
        public var stop: [String]?
        public var logprobs: Bool?
        public var topLogprobs: Int?
        public var stream: Bool?
        public var streamOptions: StreamOptions?
        /// emlab extension (sent only when non-zero): the random stream of choice 0, see `CompletionRequest`.
        public var emlabFirstChoiceStream: Int?
        /// Function tools the model may call (sent only when there are some).
        public var tools: [ToolDefinition]?
        public init(model: String, messages: [Message]) {
            self.model = model
            self.messages = messages
        }
    }

    public struct TopLogprob: Codable, Sendable, Hashable {
        public var token: String
        public var logprob: Double
        public init(token: String, logprob: Double) {
            self.token = token
            self.logprob = logprob
        }
    }

    public struct TokenLogprob: Codable, Sendable, Hashable {
        public var token: String
        public var logprob: Double
        public var topLogprobs: [TopLogprob]?
        public init(token: String, logprob: Double, topLogprobs: [TopLogprob]) {
            self.token = token
            self.logprob = logprob
            self.topLogprobs = topLogprobs
        }
    }

    public struct Logprobs: Codable, Sendable, Hashable {
        public var content: [TokenLogprob]?
        public init(content: [TokenLogprob]?) { self.content = content }
    }

    /// A choice of a response (`message`) or of a streamed chunk (`delta`).
    public struct Choice: Codable, Sendable, Hashable {
        public var index: Int
        public var message: Message?
        public var delta: Message?
        public var logprobs: Logprobs?
        public var finishReason: String?
        /// emlab extension: tokens generated for this choice (OpenAI reports only the total).
        public var completionTokens: Int?
        public init(index: Int, message: Message? = nil, delta: Message? = nil, logprobs: Logprobs? = nil,
                    finishReason: String? = nil, completionTokens: Int? = nil) {
            self.index = index
            self.message = message
            self.delta = delta
            self.logprobs = logprobs
            self.finishReason = finishReason
            self.completionTokens = completionTokens
        }
    }

    public struct Usage: Codable, Sendable, Hashable {
        public var promptTokens: Int
        public var completionTokens: Int
        public var totalTokens: Int?
        public init(promptTokens: Int, completionTokens: Int) {
            self.promptTokens = promptTokens
            self.completionTokens = completionTokens
            self.totalTokens = promptTokens + completionTokens
        }
    }

    /// A whole response (`object: chat.completion`) or one streamed chunk (`chat.completion.chunk`).
    public struct Response: Codable, Sendable, Hashable {
        public var id: String?
        public var object: String?
        public var created: Int?
        public var model: String?
        public var choices: [Choice]
        public var usage: Usage?
        public init(id: String?, object: String?, created: Int?, model: String?, choices: [Choice], usage: Usage?) {
            self.id = id
            self.object = object
            self.created = created
            self.model = model
            self.choices = choices
            self.usage = usage
        }
    }

    public struct ModelEntry: Codable, Sendable, Hashable {
        public var id: String
        public var object: String
        public var created: Int
        public var ownedBy: String
        public init(id: String, created: Int = 0, ownedBy: String = "emlab") {
            self.id = id
            self.object = "model"
            self.created = created
            self.ownedBy = ownedBy
        }
    }

    public struct ModelList: Codable, Sendable, Hashable {
        public var object: String
        public var data: [ModelEntry]
        public init(data: [ModelEntry]) {
            self.object = "list"
            self.data = data
        }
    }

    /// `{"error": {"message": …, "type": …, "param": …, "code": …}}`.
    public struct ErrorBody: Codable, Sendable, Hashable {
        public struct Detail: Codable, Sendable, Hashable {
            public var message: String
            public var type: String?
            public var param: String?
            public var code: String?
            public init(message: String, type: String?, param: String?, code: String?) {
                self.message = message
                self.type = type
                self.param = param
                self.code = code
            }
            public init(from decoder: any Decoder) throws {
                let c = try decoder.container(keyedBy: CodingKeys.self)
                message = (try? c.decode(String.self, forKey: .message)) ?? "(no message)"
                type = try? c.decode(String.self, forKey: .type)
                param = try? c.decode(String.self, forKey: .param)
                // Servers differ: a string, a number or null.
                code = (try? c.decode(String.self, forKey: .code)) ?? (try? c.decode(Int.self, forKey: .code)).map(String.init)
            }
            public func encode(to encoder: any Encoder) throws {
                // Explicit nulls, as OpenAI writes them.
                var c = encoder.container(keyedBy: CodingKeys.self)
                try c.encode(message, forKey: .message)
                try c.encode(type, forKey: .type)
                try c.encode(param, forKey: .param)
                try c.encode(code, forKey: .code)
            }
            enum CodingKeys: String, CodingKey { case message, type, param, code }
        }
        public var error: Detail
        public init(message: String, type: String = "invalid_request_error", param: String? = nil, code: String? = nil) {
            error = Detail(message: message, type: type, param: param, code: code)
        }
    }

    public static var encoder: JSONEncoder {
        let e = JSONEncoder()
        e.keyEncodingStrategy = .convertToSnakeCase
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }

    public static var decoder: JSONDecoder {
        let d = JSONDecoder()
        d.keyDecodingStrategy = .convertFromSnakeCase
        return d
    }
}
