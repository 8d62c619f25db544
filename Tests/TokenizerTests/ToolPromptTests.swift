import Core
import Testing
import Tokenizer

/// Tools in the prompt: Qwen2.5's template output (rendered by Jinja from the GGUF's own template) and
/// emlab's text format for templates without a tool syntax.
@Suite struct ToolPromptTests {
    static let tool = ToolDefinition(name: "read_email", description: "Read one e-mail.", parameters: .object([
        "type": .string("object"), "required": .array([.string("id")]),
        "properties": .object(["id": .object(["type": .string("string"), "description": .string("The id.")])]),
    ]))
    static let qwen = ChatTemplate.chatML(defaultSystemPrompt: "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.")
    static let conversation: [ChatMessage] = [
        .system("You are an agent."), .user("Read e1."),
        .assistant(toolCalls: [ToolCall(id: "c1", name: "read_email", arguments: #"{"id": "e1"}"#)]),
        .tool("Hello.", callId: "c1"), .tool("Second.", callId: "c2"),
    ]

    /// The expected strings are Jinja2's rendering of qwen2.5-coder-0.5b-instruct's `tokenizer.chat_template`
    /// (`tojson` as Hugging Face defines it), with `tools=[read_email]` and `add_generation_prompt=True`.
    @Test func hermesFormatMatchesQwenTemplate() {
        let rendered = Self.qwen.render(ToolPrompt.messages(Self.conversation, tools: [Self.tool], format: .hermes, template: Self.qwen))
        let expected = "<|im_start|>system\nYou are an agent.\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\nYou are provided with function signatures within <tools></tools> XML tags:\n<tools>\n{\"type\": \"function\", \"function\": {\"name\": \"read_email\", \"description\": \"Read one e-mail.\", \"parameters\": {\"properties\": {\"id\": {\"description\": \"The id.\", \"type\": \"string\"}}, \"required\": [\"id\"], \"type\": \"object\"}}}\n</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call><|im_end|>\n<|im_start|>user\nRead e1.<|im_end|>\n<|im_start|>assistant\n<tool_call>\n{\"name\": \"read_email\", \"arguments\": {\"id\": \"e1\"}}\n</tool_call><|im_end|>\n<|im_start|>user\n<tool_response>\nHello.\n</tool_response>\n<tool_response>\nSecond.\n</tool_response><|im_end|>\n<|im_start|>assistant\n"
        #expect(rendered == expected)
        // Without a system message the template's default prompt carries the tools.
        let bare = Self.qwen.render(ToolPrompt.messages([.user("Read e1.")], tools: [Self.tool], format: .hermes, template: Self.qwen))
        #expect(bare.hasPrefix("<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.\n\n# Tools\n"))
        #expect(bare.hasSuffix("</tool_call><|im_end|>\n<|im_start|>user\nRead e1.<|im_end|>\n<|im_start|>assistant\n"))
    }

    @Test func formatIsChosenFromTheTemplateSource() {
        #expect(ToolPromptFormat(template: Self.qwen, templateSource: "{%- if tools %}…<tool_call>…{% endif %}<|im_start|>") == .hermes)
        #expect(ToolPromptFormat(template: .chatML(defaultSystemPrompt: nil), templateSource: "<|im_start|>{{ message }}") == .text)
        #expect(ToolPromptFormat(template: .gemma, templateSource: "<start_of_turn><tool_call>") == .text)
        #expect(ToolPromptFormat(template: .transcript, templateSource: nil) == .text)
    }

    /// The documented text format on each template without a tool syntax: a `# Tools` section in the
    /// system text, `<tool_call>` blocks, results in `<tool_response>` tags in the format's tool turn.
    @Test func textFormatOnEveryTemplate() {
        let smol = ChatTemplate.chatML(defaultSystemPrompt: "You are a helpful AI assistant named SmolLM, trained by Hugging Face")
        for template in [smol, ChatTemplate.gemma, ChatTemplate.transcript] {
            let text = template.render(ToolPrompt.messages(Self.conversation, tools: [Self.tool], format: .text, template: template))
            #expect(text.contains("You are an agent.\n\n# Tools\n\nYou can call the tools described below"))
            #expect(text.contains(Self.tool.templateJSON))
            #expect(text.contains("<tool_call>\n{\"name\": \"read_email\", \"arguments\": {\"id\": \"e1\"}}\n</tool_call>"))
            #expect(text.contains("<tool_response>\nHello.\n</tool_response>"))
        }
        let smolText = smol.render(ToolPrompt.messages(Self.conversation, tools: [Self.tool], format: .text, template: smol))
        #expect(smolText.contains("<|im_start|>tool\n<tool_response>\nSecond.\n</tool_response><|im_end|>"))
        let gemma = ChatTemplate.gemma.render(ToolPrompt.messages(Self.conversation, tools: [Self.tool], format: .text, template: .gemma))
        #expect(gemma.hasPrefix("<start_of_turn>user\nYou are an agent.\n\n# Tools"))
        #expect(gemma.contains("<start_of_turn>user\n<tool_response>\nHello.\n</tool_response><end_of_turn>"))
        let transcript = ChatTemplate.transcript.render(ToolPrompt.messages(Self.conversation, tools: [Self.tool], format: .text, template: .transcript))
        #expect(transcript.contains("\n\nTool: <tool_response>\nHello.\n</tool_response>\n\n"))
        #expect(transcript.hasSuffix("Assistant:"))
    }

    /// What the template renders for an assistant turn with calls is what the parser reads back.
    @Test func renderedCallsParseBack() {
        let call = ToolCall(id: "x", name: "send_email", arguments: #"{"body":"Hi \"you\"\nbye","to":"a@b.example"}"#)
        let parsed = ToolCallSyntax.parse("Sending.\n" + ToolCallSyntax.block(call))
        #expect(parsed.content == "Sending.")
        #expect(parsed.calls.count == 1)
        #expect(parsed.calls.first?.name == "send_email")
        #expect(parsed.calls.first?.arguments == call.arguments)
        #expect(parsed.failures.isEmpty)
    }
}
