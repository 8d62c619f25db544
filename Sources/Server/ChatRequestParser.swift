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
        request.tools = try tools(o)
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
        case "tool": role = .tool
        default:
            throw APIError("'\(param).role' is '\(roleText)'; this server takes system, developer, user, assistant or tool",
                           param: "\(param).role")
        }
        let calls = role == .assistant ? try toolCalls(m["tool_calls"], param: "\(param).tool_calls") : nil
        var callId: String?
        if role == .tool {
            guard case .string(let id)? = m["tool_call_id"], !id.isEmpty else {
                throw APIError("'\(param).tool_call_id' is required for a tool message and must be a non-empty string",
                               param: "\(param).tool_call_id")
            }
            callId = id
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
            // An assistant turn that only calls tools may leave its content out.
            guard calls != nil else { throw APIError("'\(param).content' is required", param: "\(param).content") }
            content = ""
        case let v?:
            throw APIError("'\(param).content' must be a string or an array of text parts, not \(v.kind)", param: "\(param).content")
        }
        return ChatMessage(role: role, content: content, toolCalls: calls, toolCallId: callId)
    }

    /// An assistant message's `tool_calls`: `[{"id", "type": "function", "function": {"name", "arguments"}}]`.
    private static func toolCalls(_ value: JSONValue?, param: String) throws(APIError) -> [ToolCall]? {
        guard let value, value != .null else { return nil }
        guard case .array(let list) = value else { throw APIError("'\(param)' must be an array, not \(value.kind)", param: param) }
        var calls: [ToolCall] = []
        for (i, item) in list.enumerated() {
            let at = "\(param)[\(i)]"
            guard case .object(let c) = item else { throw APIError("'\(at)' must be an object, not \(item.kind)", param: at) }
            guard case .string(let id)? = c["id"], !id.isEmpty else { throw APIError("'\(at).id' must be a non-empty string", param: "\(at).id") }
            if let type = c["type"], type != .string("function") {
                throw APIError("'\(at).type' must be \"function\"", param: "\(at).type")
            }
            guard case .object(let f)? = c["function"] else { throw APIError("'\(at).function' must be an object", param: "\(at).function") }
            guard case .string(let name)? = f["name"], !name.isEmpty else {
                throw APIError("'\(at).function.name' must be a non-empty string", param: "\(at).function.name")
            }
            let arguments: String
            switch f["arguments"] {
            case .string(let text)?: arguments = text
            case nil, .null?: arguments = "{}"
            case let v?: throw APIError("'\(at).function.arguments' must be a string of JSON, not \(v.kind)", param: "\(at).function.arguments")
            }
            calls.append(ToolCall(id: id, name: name, arguments: arguments))
        }
        return calls.isEmpty ? nil : calls
    }

    /// `tools` (function tools only) and `tool_choice` (`auto`, or `none`, which offers no tools).
    private static func tools(_ o: [String: JSONValue]) throws(APIError) -> [ToolDefinition]? {
        var offered = true
        switch o["tool_choice"] {
        case nil, .null?, .string("auto")?: break
        case .string("none")?: offered = false
        case let v?:
            throw APIError("'tool_choice' must be \"auto\" or \"none\" (this server does not force calls), not \(v.kind == "a string" ? "that string" : v.kind)",
                           param: "tool_choice")
        }
        if let p = o["parallel_tool_calls"], p != .null {
            guard case .bool = p else { throw APIError("'parallel_tool_calls' must be a boolean, not \(p.kind)", param: "parallel_tool_calls") }
        }
        guard let value = o["tools"], value != .null else { return nil }
        guard case .array(let list) = value else { throw APIError("'tools' must be an array, not \(value.kind)", param: "tools") }
        var tools: [ToolDefinition] = []
        var names = Set<String>()
        for (i, item) in list.enumerated() {
            let at = "tools[\(i)]"
            guard case .object(let t) = item else { throw APIError("'\(at)' must be an object, not \(item.kind)", param: at) }
            guard t["type"] == .string("function") else {
                throw APIError("'\(at).type' must be \"function\" (this server offers function tools only)", param: "\(at).type")
            }
            guard case .object(let f)? = t["function"] else { throw APIError("'\(at).function' must be an object", param: "\(at).function") }
            guard case .string(let name)? = f["name"], ToolDefinition.isValidName(name) else {
                throw APIError("'\(at).function.name' must be 1-64 letters, digits, '_' or '-'", param: "\(at).function.name")
            }
            guard names.insert(name).inserted else { throw APIError("'\(at)': a second tool named '\(name)'", param: "\(at).function.name") }
            var description = ""
            switch f["description"] {
            case nil, .null?: break
            case .string(let d)?: description = d
            case let v?: throw APIError("'\(at).function.description' must be a string, not \(v.kind)", param: "\(at).function.description")
            }
            var parameters = JSONTree.object(["type": .string("object"), "properties": .object([:])])
            switch f["parameters"] {
            case nil, .null?: break
            case .object(let schema)?: parameters = tree(.object(schema))
            case let v?: throw APIError("'\(at).function.parameters' must be a JSON schema object, not \(v.kind)", param: "\(at).function.parameters")
            }
            tools.append(ToolDefinition(name: name, description: description, parameters: parameters))
        }
        return offered && !tools.isEmpty ? tools : nil
    }

    private static func tree(_ v: JSONValue) -> JSONTree {
        switch v {
        case .null: .null
        case .bool(let b): .bool(b)
        case .int(let i): .integer(i)
        case .uint(let u): .number(Double(u))
        case .double(let d): .number(d)
        case .string(let s): .string(s)
        case .array(let a): .array(a.map(tree))
        case .object(let o): .object(o.mapValues(tree))
        }
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
