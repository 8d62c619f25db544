import Core
import Foundation
import Testing
@testable import Tokenizer

struct ChatTemplateTests {
    /// SmolLM2's template as stored in its GGUF (real newlines inside the Jinja strings).
    static let smolSource = "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"

    @Test func extractsDefaultSystemPrompt() throws {
        #expect(try ChatTemplate(templateSource: Self.smolSource)
                == .chatML(defaultSystemPrompt: "You are a helpful AI assistant named SmolLM, trained by Hugging Face"))
        // Escaped newlines, double quotes, another prompt.
        let qwenLike = #"{%- if messages[0]["role"] != "system" %}{{- "<|im_start|>system\nYou are Qwen, a \"helpful\" assistant.<|im_end|>\n" }}{%- endif %}{%- for m in messages %}{{- '<|im_start|>' + m.role + '\n' + m.content + '<|im_end|>\n' }}{%- endfor %}"#
        #expect(try ChatTemplate(templateSource: qwenLike) == .chatML(defaultSystemPrompt: #"You are Qwen, a "helpful" assistant."#))
        // Plain ChatML: a system turn is only ever built from the caller's message.
        let plain = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
        #expect(try ChatTemplate(templateSource: plain) == .chatML(defaultSystemPrompt: nil))
    }

    /// A Gemma-style template (our own minimal Jinja) is recognised by its turn markers.
    @Test func gemmaTemplateIsRecognisedAndRendered() throws {
        let source = "{{ bos_token }}{% for m in messages %}{{ '<start_of_turn>' + (m['role'] == 'assistant' and 'model' or m['role']) + '\n' + m['content'] + '<end_of_turn>\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<start_of_turn>model\n' }}{% endif %}"
        let t = try ChatTemplate(templateSource: source)
        #expect(t == .gemma)
        #expect(t.stopStrings == ["<end_of_turn>"])
        #expect(t.render([.user("Hi")]) == "<start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\n")
        // System text goes in front of the first user turn; an open assistant turn continues.
        #expect(t.render([.system("Short answers."), .user("Hi"), .assistant("Hel")], addGenerationPrompt: false)
                == "<start_of_turn>user\nShort answers.\n\nHi<end_of_turn>\n<start_of_turn>model\nHel")
        #expect(t.renderClosed([.user("a"), .assistant("b")])
                == "<start_of_turn>user\na<end_of_turn>\n<start_of_turn>model\nb<end_of_turn>\n")
        // A lone system message still reaches the model.
        #expect(t.render([.system("Only this.")]) == "<start_of_turn>user\nOnly this.<end_of_turn>\n<start_of_turn>model\n")
    }

    @Test func unknownTemplatesAreRefused() {
        let llama2 = "{% for message in messages %}{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + message['content'] + ' [/INST]' }}{% endif %}{% endfor %}"
        do {
            _ = try ChatTemplate(templateSource: llama2)
            Issue.record("an [INST] template was accepted")
        } catch let error as ChatTemplateError {
            #expect(error == .unrecognizedTemplate(start: String(llama2.prefix(120))))
            #expect(error.description.contains("{% for message in messages %}{% if message['role'] == 'user' %}"))
        } catch {
            Issue.record("unexpected error \(error)")
        }
        #expect(throws: ChatTemplateError.missingTemplate) { try ChatTemplate(templateSource: nil) }
        #expect(throws: ChatTemplateError.missingTemplate) { try ChatTemplate.from(metadata: [:]) }
        #expect(ChatTemplateError.missingTemplate.description.contains("tokenizer.chat_template"))
    }

    @Test func renderingRules() throws {
        let t = try ChatTemplate(templateSource: Self.smolSource)
        let sys = "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
        // Multi-turn, ending with the generation prompt.
        let turns: [ChatMessage] = [.user("Hi"), .assistant("Hello!"), .user("Bye")]
        #expect(t.render(turns) == sys + "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello!<|im_end|>\n<|im_start|>user\nBye<|im_end|>\n<|im_start|>assistant\n")
        #expect(t.render(turns, includeDefaultSystemPrompt: false).hasPrefix("<|im_start|>user\nHi"))
        // A given system message replaces the default one.
        #expect(t.render([.system("Be brief."), .user("Hi")]) == "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")
        // Assistant prefix: last turn left open when no generation prompt is asked for.
        let prefix: [ChatMessage] = [.user("Count"), .assistant("1, 2,")]
        #expect(t.render(prefix, addGenerationPrompt: false, includeDefaultSystemPrompt: false)
                == "<|im_start|>user\nCount<|im_end|>\n<|im_start|>assistant\n1, 2,")
        #expect(t.renderClosed(prefix, includeDefaultSystemPrompt: false)
                == "<|im_start|>user\nCount<|im_end|>\n<|im_start|>assistant\n1, 2,<|im_end|>\n")
        #expect(t.render(prefix, includeDefaultSystemPrompt: false)
                == "<|im_start|>user\nCount<|im_end|>\n<|im_start|>assistant\n1, 2,<|im_end|>\n<|im_start|>assistant\n")
        #expect(t.render([.user("x")], addGenerationPrompt: false, includeDefaultSystemPrompt: false) == "<|im_start|>user\nx<|im_end|>\n")
        #expect(t.endOfTurn == "<|im_end|>")
    }

    /// The plain-text dialogue for base models: paragraphs, a bare `Assistant:` to answer after.
    @Test func transcriptRendering() throws {
        let t = try #require(ChatTemplate(named: "transcript"))
        #expect(t == .transcript)
        #expect(t.endOfTurn == nil)
        #expect(t.render([.user("Hi")]) == "User: Hi\n\nAssistant:")
        #expect(t.render([.system("Be brief."), .user("Hi"), .assistant("Hello!"), .user("Bye")])
                == "Be brief.\n\nUser: Hi\n\nAssistant: Hello!\n\nUser: Bye\n\nAssistant:")
        // An open assistant turn continues its text; a closed conversation ends in a blank line.
        #expect(t.render([.user("Count"), .assistant("1, 2,")], addGenerationPrompt: false) == "User: Count\n\nAssistant: 1, 2,")
        #expect(t.renderClosed([.user("a"), .assistant("b")]) == "User: a\n\nAssistant: b\n\n")
        // The reply loses the space after `Assistant:` and ends before the next user line.
        #expect(t.replyText(" Paris.") == "Paris.")
        #expect(t.replyText("Paris.") == "Paris.")
        #expect(t.replyText("  two") == " two")
        #expect(t.stopStrings.contains("\nUser:"))
        // Other formats by name; unknown names are nil.
        #expect(ChatTemplate(named: "chatml") == .chatML(defaultSystemPrompt: nil))
        #expect(ChatTemplate(named: "gemma") == .gemma)
        #expect(ChatTemplate(named: "Transcript") == nil)
        #expect(ChatTemplate.namedFormats.allSatisfy { ChatTemplate(named: $0) != nil })
        #expect(ChatTemplate.gemma.replyText(" x") == " x")
    }

    /// A streamed reply loses the separator once, wherever the piece boundaries fall.
    @Test func replyStartAcrossPieces() {
        func stream(_ pieces: [String], _ t: ChatTemplate = .transcript) -> [String] {
            var start = ReplyStart(t)
            return pieces.map { start.take($0) }
        }
        #expect(stream([" Hello", " world"]) == ["Hello", " world"])
        #expect(stream(["", " ", " a"]) == ["", "", " a"])
        #expect(stream(["No", " space"]) == ["No", " space"])
        #expect(stream([" Hello"], .chatML(defaultSystemPrompt: nil)) == [" Hello"])
    }

    @Test func toolTurnsPerFamily() {
        let call = ToolCall(id: "c1", name: "weather", arguments: #"{"city":"Paris"}"#)
        let messages: [ChatMessage] = [.user("weather?"), .assistant(toolCalls: [call]), .tool("sunny", callId: "c1")]
        let block = "<tool_call>\n{\"name\": \"weather\", \"arguments\": {\"city\":\"Paris\"}}\n</tool_call>"
        #expect(ChatTemplate.chatML(defaultSystemPrompt: nil).render(messages)
                == "<|im_start|>user\nweather?<|im_end|>\n<|im_start|>assistant\n\(block)<|im_end|>\n<|im_start|>tool\nsunny<|im_end|>\n<|im_start|>assistant\n")
        #expect(ChatTemplate.gemma.render(messages)
                == "<start_of_turn>user\nweather?<end_of_turn>\n<start_of_turn>model\n\(block)<end_of_turn>\n<start_of_turn>user\nsunny<end_of_turn>\n<start_of_turn>model\n")
        #expect(ChatTemplate.transcript.render(messages) == "User: weather?\n\nAssistant: \(block)\n\nTool: sunny\n\nAssistant:")
    }

    @Test func messagesAreCodable() throws {
        let m = ChatMessage.assistant("hé \"quoted\"")
        let json = try JSONEncoder().encode(m)
        #expect(String(decoding: json, as: UTF8.self).contains("\"role\":\"assistant\""))
        #expect(try JSONDecoder().decode(ChatMessage.self, from: json) == m)
    }
}
