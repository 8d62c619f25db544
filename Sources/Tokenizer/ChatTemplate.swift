import Core
import GGUF

/// A model's chat format, recognised from the Jinja source in GGUF `tokenizer.chat_template`.
/// We do not run Jinja: each family is rendered by hand, and the few facts that vary inside a
/// family (such as a default system prompt) are read out of the template source.
public enum ChatTemplate: Sendable, Equatable {
    /// `<|im_start|>role\ncontent<|im_end|>\n` per turn. Some ChatML templates (SmolLM2, Qwen2)
    /// insert a system turn with a fixed prompt when the conversation does not start with one.
    /// A tool result is a `tool` turn (`<|im_start|>tool\n…`, as SmolLM2's generic template
    /// renders any role); an assistant's tool calls follow its text as `<tool_call>` blocks.
    case chatML(defaultSystemPrompt: String?)

    /// Gemma: `<start_of_turn>role\ncontent<end_of_turn>\n` per turn, the assistant's role named
    /// `model`. Gemma has no system role: a system message's text is put in front of the first
    /// other turn, followed by a blank line. BOS comes from the tokenizer, not from the text.
    /// Gemma has no tool role either: a tool result is rendered as a `user` turn.
    case gemma

    /// A plain-text dialogue for base models, which have no chat template: a system message as its
    /// own paragraph, then `User: …` and `Assistant: …` paragraphs, the prompt ending in
    /// `Assistant:`. The reply ends where the model starts the next `User:` line. Our own layout,
    /// chosen by name (`chat=transcript` in a model spec), never recognised from a file.
    /// A tool result is a `Tool: …` paragraph.
    case transcript

    /// The formats a model spec may name with `chat=NAME`, overriding the file's template.
    public static let namedFormats = ["transcript", "chatml", "gemma"]

    /// The format called `name` (one of `namedFormats`), or nil.
    public init?(named name: String) {
        switch name {
        case "transcript": self = .transcript
        case "chatml": self = .chatML(defaultSystemPrompt: nil)
        case "gemma": self = .gemma
        default: return nil
        }
    }

    /// Recognises the family of a Jinja chat template.
    public init(templateSource: String?) throws {
        guard let source = templateSource, !source.isEmpty else { throw ChatTemplateError.missingTemplate }
        if source.contains("<|im_start|>") {
            self = .chatML(defaultSystemPrompt: Self.defaultSystemPrompt(inChatML: source))
        } else if source.contains("<start_of_turn>") {
            self = .gemma
        } else {
            throw ChatTemplateError.unrecognizedTemplate(start: String(source.prefix(120)))
        }
    }

    /// The chat format of a GGUF file.
    public static func from(gguf: GGUFFile) throws -> ChatTemplate {
        try from(metadata: gguf.metadata)
    }

    public static func from(metadata: [String: GGUFValue]) throws -> ChatTemplate {
        guard let value = metadata["tokenizer.chat_template"] else { throw ChatTemplateError.missingTemplate }
        guard let source = value.stringValue else {
            throw TokenizerError.wrongMetadataType(key: "tokenizer.chat_template", expected: "a string")
        }
        return try ChatTemplate(templateSource: source)
    }

    /// The special token that closes a turn; generation stops when the model emits it. nil for
    /// the plain-text transcript, whose turns end in text (`stopStrings`).
    public var endOfTurn: String? {
        switch self {
        case .chatML: "<|im_end|>"
        case .gemma: "<end_of_turn>"
        case .transcript: nil
        }
    }

    /// Strings whose appearance in generated text ends the reply (cut from it).
    public var stopStrings: [String] {
        switch self {
        case .chatML, .gemma: [endOfTurn!]
        case .transcript: ["\n\nUser:", "\nUser:"]
        }
    }

    /// What stands between the generation prompt and the reply's first character: the transcript's
    /// `Assistant:` is followed by a space that belongs to the reply's first token (` Paris`), so a
    /// reply is scored as this plus its text, and a generated reply loses it.
    public var replySeparator: String {
        switch self {
        case .chatML, .gemma: ""
        case .transcript: " "
        }
    }

    /// A generated reply as the assistant's text: without `replySeparator`.
    public func replyText(_ generated: String) -> String {
        var trim = ReplyStart(self)
        return trim.take(generated)
    }

    /// The prompt text for `messages`.
    ///
    /// - `addGenerationPrompt`: append the opening of an assistant turn, so the model replies next.
    /// - Assistant prefix rule: when the last message is from the assistant and
    ///   `addGenerationPrompt` is false, that turn is left open (no end-of-turn marker), so
    ///   generation continues its content. Use `renderClosed` to close every turn instead.
    /// - `includeDefaultSystemPrompt`: whether to insert the template's default system prompt when
    ///   the conversation does not start with a system message (as the GGUF template does); false
    ///   renders like llama.cpp's built-in ChatML.
    public func render(_ messages: [ChatMessage], addGenerationPrompt: Bool = true,
                       includeDefaultSystemPrompt: Bool = true) -> String {
        let leaveLastOpen = !addGenerationPrompt && messages.last?.role == .assistant
        return render(messages, addGenerationPrompt: addGenerationPrompt, leaveLastOpen: leaveLastOpen,
                      includeDefaultSystemPrompt: includeDefaultSystemPrompt)
    }

    /// Every turn closed and no generation prompt: a finished conversation (e.g. for scoring).
    public func renderClosed(_ messages: [ChatMessage], includeDefaultSystemPrompt: Bool = true) -> String {
        render(messages, addGenerationPrompt: false, leaveLastOpen: false,
               includeDefaultSystemPrompt: includeDefaultSystemPrompt)
    }

    private func render(_ messages: [ChatMessage], addGenerationPrompt: Bool, leaveLastOpen: Bool,
                        includeDefaultSystemPrompt: Bool) -> String {
        switch self {
        case .chatML(let defaultSystemPrompt):
            var out = ""
            if includeDefaultSystemPrompt, let prompt = defaultSystemPrompt, messages.first?.role != .system {
                out += "<|im_start|>system\n\(prompt)<|im_end|>\n"
            }
            for (i, m) in messages.enumerated() {
                out += "<|im_start|>\(m.role.rawValue)\n\(m.content)" + Self.toolCallText(m)
                if leaveLastOpen && i == messages.count - 1 { return out }
                out += "<|im_end|>\n"
            }
            if addGenerationPrompt { out += "<|im_start|>assistant\n" }
            return out
        case .gemma:
            var out = ""
            var systemPrefix = ""
            for (i, m) in messages.enumerated() {
                if m.role == .system {
                    systemPrefix += m.content + "\n\n"
                    continue
                }
                let role = switch m.role {
                case .assistant: "model"
                case .user, .tool: "user"   // Gemma has no tool role: a tool's result is a user turn
                case .system: "system"      // not reached: system text is folded into the next turn
                }
                out += "<start_of_turn>\(role)\n" + systemPrefix + m.content + Self.toolCallText(m)
                systemPrefix = ""
                if leaveLastOpen && i == messages.count - 1 { return out }
                out += "<end_of_turn>\n"
            }
            // A system message with no turn after it still reaches the model, as a user turn.
            if !systemPrefix.isEmpty { out += "<start_of_turn>user\n\(systemPrefix.dropLast(2))<end_of_turn>\n" }
            if addGenerationPrompt { out += "<start_of_turn>model\n" }
            return out
        case .transcript:
            var out = ""
            for (i, m) in messages.enumerated() {
                switch m.role {
                case .system: out += m.content
                case .user: out += "User: " + m.content
                case .assistant: out += "Assistant:" + replySeparator + m.content + Self.toolCallText(m)
                case .tool: out += "Tool: " + m.content
                }
                if leaveLastOpen && i == messages.count - 1 { return out }
                out += "\n\n"
            }
            if addGenerationPrompt { out += "Assistant:" }
            return out
        }
    }

    /// An assistant turn's tool calls as text after its content: one
    /// `<tool_call>\n{"name": …, "arguments": …}\n</tool_call>` block per call, the layout of
    /// Qwen2.5's ChatML template. Gemma and the transcript have no tool-call syntax of their own
    /// and get the same blocks. Empty for a turn without calls.
    static func toolCallText(_ m: ChatMessage) -> String {
        guard let calls = m.toolCalls, !calls.isEmpty else { return "" }
        var out = ""
        for call in calls {
            var name = ""
            for c in call.name { if c == "\\" || c == "\"" { name.append("\\") }; name.append(c) }
            let arguments = call.arguments.isEmpty ? "{}" : call.arguments
            out += "\n<tool_call>\n{\"name\": \"\(name)\", \"arguments\": \(arguments)}\n</tool_call>"
        }
        return m.content.isEmpty ? String(out.dropFirst()) : out
    }

    /// The prompt of a literal `'<|im_start|>system\n…<|im_end|>'` in the template's Jinja code:
    /// a system turn written out in full is the one inserted when the caller gives none.
    static func defaultSystemPrompt(inChatML source: String) -> String? {
        let opening = "<|im_start|>system\n"
        for literal in JinjaLiterals.strings(in: source) {
            guard let open = literal.firstRange(of: opening),
                  let close = literal[open.upperBound...].firstRange(of: "<|im_end|>")
            else { continue }
            let prompt = String(literal[open.upperBound..<close.lowerBound])
            if !prompt.isEmpty { return prompt }
        }
        return nil
    }
}

/// Drops a chat format's `replySeparator` from the start of a reply streamed in pieces.
public struct ReplyStart: Sendable {
    private var separator: Substring

    public init(_ template: ChatTemplate) { separator = Substring(template.replySeparator) }

    /// The piece as the reply's text.
    public mutating func take(_ piece: String) -> String {
        guard !separator.isEmpty else { return piece }
        var rest = Substring(piece)
        while let c = separator.first, let p = rest.first {
            if c != p { separator = ""; break }
            separator.removeFirst()
            rest.removeFirst()
        }
        if !rest.isEmpty { separator = "" }
        return String(rest)
    }
}

public enum ChatTemplateError: Error, CustomStringConvertible, Equatable {
    case missingTemplate
    case unrecognizedTemplate(start: String)

    public var description: String {
        switch self {
        case .missingTemplate:
            "the model has no chat template (tokenizer.chat_template is absent or empty)"
        case .unrecognizedTemplate(let start):
            "unrecognized chat template (supported: ChatML with <|im_start|>, Gemma with <start_of_turn>); it starts: \"\(start)\""
        }
    }
}

/// String literals inside the `{{ … }}` and `{% … %}` tags of Jinja source, with escapes resolved.
enum JinjaLiterals {
    static func strings(in source: String) -> [String] {
        let s = Array(source.unicodeScalars)
        var out: [String] = []
        var i = 0
        var inTag = false
        while i < s.count {
            let c = s[i]
            if !inTag {
                if c == "{", i + 1 < s.count, s[i + 1] == "{" || s[i + 1] == "%" { inTag = true; i += 2 } else { i += 1 }
                continue
            }
            if (c == "}" || c == "%"), i + 1 < s.count, s[i + 1] == "}" { inTag = false; i += 2; continue }
            guard c == "'" || c == "\"" else { i += 1; continue }
            var value = String.UnicodeScalarView()
            i += 1
            while i < s.count, s[i] != c {
                if s[i] == "\\", i + 1 < s.count {
                    i += 1
                    switch s[i] {
                    case "n": value.append("\n")
                    case "t": value.append("\t")
                    case "r": value.append("\r")
                    default: value.append(s[i])
                    }
                } else {
                    value.append(s[i])
                }
                i += 1
            }
            i += 1
            out.append(String(value))
        }
        return out
    }
}
