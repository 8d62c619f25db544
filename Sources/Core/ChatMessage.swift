/// One turn of a conversation: the value every layer passes around (datasets, chat templates,
/// the local engine, the HTTP client and server, the eval runner).
///
/// Roles are OpenAI's: `system`, `user`, `assistant`, and `tool` for the result of a tool call.
/// An assistant turn may carry `toolCalls`; a tool turn names the call it answers in `toolCallId`.
/// Both are nil for plain text turns and are then left out of the JSON encoding, so a plain
/// message encodes exactly as `{"role": …, "content": …}` (response-cache keys and stored runs
/// hash that encoding).
public struct ChatMessage: Sendable, Codable, Equatable, Hashable {
    public enum Role: String, Sendable, Codable, Equatable, Hashable, CaseIterable {
        case system, user, assistant, tool
    }

    public var role: Role
    public var content: String
    /// The calls an assistant turn makes (OpenAI `tool_calls`); nil when it makes none.
    public var toolCalls: [ToolCall]?
    /// For a `tool` turn: the id of the call whose result `content` is (OpenAI `tool_call_id`).
    public var toolCallId: String?

    public init(role: Role, content: String) {
        self.role = role
        self.content = content
    }

    public init(role: Role, content: String, toolCalls: [ToolCall]?, toolCallId: String? = nil) {
        self.role = role
        self.content = content
        self.toolCalls = toolCalls
        self.toolCallId = toolCallId
    }

    public static func system(_ content: String) -> ChatMessage { ChatMessage(role: .system, content: content) }
    public static func user(_ content: String) -> ChatMessage { ChatMessage(role: .user, content: content) }
    public static func assistant(_ content: String) -> ChatMessage { ChatMessage(role: .assistant, content: content) }

    /// An assistant turn that calls tools (its text, often empty, comes before the calls).
    public static func assistant(_ content: String = "", toolCalls: [ToolCall]) -> ChatMessage {
        ChatMessage(role: .assistant, content: content, toolCalls: toolCalls)
    }

    /// The result of the tool call `callId`.
    public static func tool(_ content: String, callId: String) -> ChatMessage {
        ChatMessage(role: .tool, content: content, toolCalls: nil, toolCallId: callId)
    }

    enum CodingKeys: String, CodingKey {
        case role, content
        case toolCalls = "tool_calls"
        case toolCallId = "tool_call_id"
    }
}

/// A function call an assistant turn asks for. `arguments` is the JSON text of the arguments
/// object as the model wrote it (as in OpenAI's API): it is not parsed or validated here.
public struct ToolCall: Sendable, Codable, Equatable, Hashable {
    public var id: String
    public var name: String
    public var arguments: String

    public init(id: String, name: String, arguments: String) {
        self.id = id
        self.name = name
        self.arguments = arguments
    }
}
