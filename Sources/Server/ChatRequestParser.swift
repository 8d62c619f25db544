import Core
import Foundation
import Hummingbird
import LanguageModels

/// An error the API returns as `{"error": {"message", "type", "param", "code"}}`.
public struct APIError: Error, Sendable, Equatable, CustomStringConvertible {
    public var status: HTTPResponse.Status
    public var message: String
    public var type: String
    public var param: String?
    public var code: String?

    public init(_ status: HTTPResponse.Status, _ message: String, param: String? = nil, code: String? = nil,
                type: String = "invalid_request_error") {
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
    }

    /// A 400.
    public init(_ message: String, param: String? = nil, code: String? = nil) {
        self.init(.badRequest, message, param: param, code: code)
    }

    public var description: String { "HTTP \(status.code): \(message)" }
    var body: ChatAPI.ErrorBody { ChatAPI.ErrorBody(message: message, type: type, param: param, code: code) }
}

/// A chat-completions request, checked.
struct ChatRequest: Sendable {
    var completion: CompletionRequest
    /// Whether `max_tokens` was given (else the server's default, cut to the context left).
    var maxTokensGiven: Bool
    var stream: Bool
    var includeUsage: Bool
    var wantLogprobs: Bool
}

/// Limits the server enforces on requests.
struct RequestLimits: Sendable {
    var maxN = 128
    var maxStop = 16
    var maxTopLogprobs = 20
    var defaultMaxTokens = 512
}

/// Reads and checks a chat-completions request body: every field with its type and range.
enum ChatRequestParser {
    static func parse(_ body: Data, servedModel: String, limits: RequestLimits) throws(APIError) -> ChatRequest {
        let value: JSONValue
        do {
            value = try JSONDecoder().decode(JSONValue.self, from: body)
        } catch {
            throw APIError("the request body is not valid JSON", code: "invalid_json")
        }
        guard case .object(let o) = value else {
            throw APIError("the request body must be a JSON object, not \(value.kind)")
        }

        guard let modelValue = o["model"] else { throw APIError("you must provide a model parameter", param: "model") }
        guard case .string(let model) = modelValue else {
            throw APIError("'model' must be a string, not \(modelValue.kind)", param: "model")
        }
        guard model == servedModel else {
            throw APIError(.notFound, "the model '\(model)' does not exist; this server serves '\(servedModel)'",
                           param: "model", code: "model_not_found")
        }

        guard let messagesValue = o["messages"] else { throw APIError("'messages' is required", param: "messages") }
        guard case .array(let list) = messagesValue else {
            throw APIError("'messages' must be an array, not \(messagesValue.kind)", param: "messages")
        }
        guard !list.isEmpty else { throw APIError("'messages' must not be empty", param: "messages") }
        var messages: [ChatMessage] = []
        for (i, m) in list.enumerated() { messages.append(try message(m, at: i)) }

        var request = CompletionRequest(messages: messages, maxTokens: limits.defaultMaxTokens)
        if let n = try integer(o, "n", in: 1...Int64(limits.maxN)) { request.n = Int(n) }
        if let t = try number(o, "temperature", in: 0...2) { request.temperature = t }
        if let p = try number(o, "top_p", in: 0...1) { request.topP = p }
        var maxTokensGiven = false
        for key in ["max_tokens", "max_completion_tokens"] {
            if let m = try integer(o, key, in: 1...Int64(Int32.max)) {
                request.maxTokens = Int(m)
                maxTokensGiven = true
            }
        }
        switch o["seed"] {
        case nil, .null?: break
        case .int(let i)?: request.seed = UInt64(bitPattern: i)   // the client sends unsigned seeds as their bit pattern
        case .uint(let u)?: request.seed = u
        case let v?: throw APIError("'seed' must be an integer, not \(v.kind)", param: "seed")
        }
        switch o["stop"] {
        case nil, .null?: break
        case .string(let s)?: request.stop = [s]
        case .array(let a)?:
            guard a.count <= limits.maxStop else { throw APIError("'stop' has \(a.count) strings; at most \(limits.maxStop)", param: "stop") }
            for (i, s) in a.enumerated() {
                guard case .string(let text) = s else { throw APIError("'stop[\(i)]' must be a string, not \(s.kind)", param: "stop") }
                request.stop.append(text)
            }
        case let v?: throw APIError("'stop' must be a string or an array of strings, not \(v.kind)", param: "stop")
        }
        if request.stop.contains("") { throw APIError("'stop' strings must not be empty", param: "stop") }

        let logprobs = try bool(o, "logprobs") ?? false
        let top = try integer(o, "top_logprobs", in: 0...Int64(limits.maxTopLogprobs))
        if top != nil, !logprobs {
            throw APIError("'top_logprobs' needs 'logprobs': true", param: "top_logprobs")
        }
        if logprobs { request.topLogprobs = Int(top ?? 0) }

        let stream = try bool(o, "stream") ?? false
        var includeUsage = false
        switch o["stream_options"] {
        case nil, .null?: break
        case .object(let so)?:
            guard stream else { throw APIError("'stream_options' is only allowed with 'stream': true", param: "stream_options") }
            includeUsage = try bool(so, "include_usage", param: "stream_options.include_usage") ?? false
        case let v?: throw APIError("'stream_options' must be an object, not \(v.kind)", param: "stream_options")
        }
        if let first = try integer(o, "emlab_first_choice_stream", in: 0...Int64(Int32.max)) {
            request.firstChoiceStream = Int(first)
        }
        return ChatRequest(completion: request, maxTokensGiven: maxTokensGiven, stream: stream,
                           includeUsage: includeUsage, wantLogprobs: logprobs)
    }

    private static func message(_ value: JSONValue, at i: Int) throws(APIError) -> ChatMessage {
        let param = "messages[\(i)]"
        guard case .object(let m) = value else { throw APIError("'\(param)' must be an object, not \(value.kind)", param: param) }
        guard case .string(let roleText)? = m["role"] else {
            throw APIError("'\(param).role' is required and must be a string", param: "\(param).role")
        }
        let role: ChatMessage.Role
        switch roleText {
        case "system", "developer": role = .system
        case "user": role = .user
        case "assistant": role = .assistant
        default:
            throw APIError("'\(param).role' is '\(roleText)'; this server takes system, developer, user or assistant",
                           param: "\(param).role")
        }
        let content: String
        switch m["content"] {
        case .string(let s)?: content = s
        case .array(let parts)?:
            var text = ""
            for (j, part) in parts.enumerated() {
                guard case .object(let p) = part, case .string("text")? = p["type"], case .string(let t)? = p["text"] else {
                    throw APIError("'\(param).content[\(j)]' must be a text part {\"type\": \"text\", \"text\": …}; this server reads text only",
                                   param: "\(param).content")
                }
                text += t
            }
            content = text
        case nil, .null?:
            throw APIError("'\(param).content' is required", param: "\(param).content")
        case let v?:
            throw APIError("'\(param).content' must be a string or an array of text parts, not \(v.kind)", param: "\(param).content")
        }
        return ChatMessage(role: role, content: content)
    }

    private static func integer(_ o: [String: JSONValue], _ key: String, in range: ClosedRange<Int64>) throws(APIError) -> Int64? {
        guard let v = o[key], v != .null else { return nil }
        guard let i = v.integer else {
            if case .uint = v { throw APIError("'\(key)' must be between \(range.lowerBound) and \(range.upperBound)", param: key) }
            throw APIError("'\(key)' must be an integer, not \(v.kind)", param: key)
        }
        guard range.contains(i) else {
            throw APIError("'\(key)' is \(i); it must be between \(range.lowerBound) and \(range.upperBound)", param: key)
        }
        return i
    }

    private static func number(_ o: [String: JSONValue], _ key: String, in range: ClosedRange<Double>) throws(APIError) -> Double? {
        guard let v = o[key], v != .null else { return nil }
        guard let d = v.number else { throw APIError("'\(key)' must be a number, not \(v.kind)", param: key) }
        guard range.contains(d) else {
            throw APIError("'\(key)' is \(d); it must be between \(range.lowerBound) and \(range.upperBound)", param: key)
        }
        return d
    }

    private static func bool(_ o: [String: JSONValue], _ key: String, param: String? = nil) throws(APIError) -> Bool? {
        guard let v = o[key], v != .null else { return nil }
        guard case .bool(let b) = v else { throw APIError("'\(param ?? key)' must be a boolean, not \(v.kind)", param: param ?? key) }
        return b
    }
}
