import Core
import GGUF

/// How a chat format offers tools to a model and hands their results back.
///
/// The calls themselves are the same in both: `<tool_call>` JSON blocks in the assistant's reply
/// (`ToolCallSyntax`), which is also how `ChatTemplate` renders an assistant turn's `toolCalls`.
public enum ToolPromptFormat: Sendable, Equatable {
    /// Qwen2.5's template (Hermes style): the tool list goes into the system turn as `<tools>` JSON
    /// lines, after the caller's system prompt or the template's default one; each tool result is
    /// `<tool_response>\n…\n</tool_response>` inside a `user` turn, consecutive results sharing one.
    case hermes
    /// emlab's documented text format, for templates with no tool syntax of their own (SmolLM2's
    /// ChatML, Gemma 3, the plain transcript): the same tool list and instructions as a `# Tools`
    /// section at the end of the system message (for Gemma, which has no system role, that text
    /// opens the first user turn; for the transcript it is the first paragraph), calls as
    /// `<tool_call>` blocks, and each result wrapped in `<tool_response>` tags inside the format's
    /// own tool turn (`<|im_start|>tool`, a Gemma `user` turn, a `Tool:` paragraph).
    case text

    /// The format for a model: `hermes` for a ChatML template whose Jinja source writes
    /// `<tool_call>` (Qwen2.5), else `text`.
    public init(template: ChatTemplate, templateSource: String?) {
        if case .chatML = template, let source = templateSource, source.contains(ToolCallSyntax.open) {
            self = .hermes
        } else {
            self = .text
        }
    }

    /// The format for a model file rendered with `template` (the file's own, or one chosen instead).
    public init(template: ChatTemplate, gguf: GGUFFile) {
        self.init(template: template, templateSource: gguf["tokenizer.chat_template"]?.stringValue)
    }
}

/// Writes tools into a conversation so that a chat template renders them as the model expects.
public enum ToolPrompt {
    /// `messages` with the tools' section in the system message and tool results in the format's
    /// shape, ready for `ChatTemplate.render`. With no tools, tool results still get their
    /// `<tool_response>` wrapping.
    public static func messages(_ messages: [ChatMessage], tools: [ToolDefinition], format: ToolPromptFormat,
                                template: ChatTemplate) -> [ChatMessage] {
        var out: [ChatMessage] = []
        var rest = messages[...]
        if !tools.isEmpty {
            var system: String
            if let first = rest.first, first.role == .system {
                system = first.content
                rest = rest.dropFirst()
            } else if format == .hermes, case .chatML(let defaultPrompt?) = template {
                system = defaultPrompt
            } else {
                system = ""
            }
            let section = self.section(tools, format: format)
            system = system.isEmpty ? String(section.drop(while: { $0 == "\n" })) : system + section
            out.append(.system(system))
        }
        var i = rest.startIndex
        while i < rest.endIndex {
            let m = rest[i]
            guard m.role == .tool else {
                out.append(m)
                i += 1
                continue
            }
            let wrapped = "<tool_response>\n\(m.content)\n</tool_response>"
            switch format {
            case .hermes:
                // Consecutive results share one user turn, as Qwen2.5's template writes them.
                var content = wrapped
                i += 1
                while i < rest.endIndex, rest[i].role == .tool {
                    content += "\n<tool_response>\n\(rest[i].content)\n</tool_response>"
                    i += 1
                }
                out.append(.user(content))
            case .text:
                out.append(ChatMessage(role: .tool, content: wrapped, toolCalls: nil, toolCallId: m.toolCallId))
                i += 1
            }
        }
        return out
    }

    /// The `# Tools` section, starting with a blank line (it follows the system prompt).
    public static func section(_ tools: [ToolDefinition], format: ToolPromptFormat) -> String {
        let list = tools.map { "\n" + $0.templateJSON }.joined()
        switch format {
        case .hermes:
            // Qwen2.5's wording, character for character.
            return "\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
                + "You are provided with function signatures within <tools></tools> XML tags:\n<tools>" + list
                + "\n</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n"
                + "<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call>"
        case .text:
            return "\n\n# Tools\n\nYou can call the tools described below, one JSON object per line, within <tools></tools> tags:\n<tools>" + list
                + "\n</tools>\n\nTo call a tool, write a <tool_call></tool_call> block holding a JSON object with the tool's name and its arguments, one block per call:\n"
                + "<tool_call>\n{\"name\": <tool-name>, \"arguments\": <arguments-object>}\n</tool_call>\n"
                + "Each result comes back inside <tool_response></tool_response> tags. When you need no more tools, reply in plain text."
        }
    }
}
