import Agents
import Core
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Inference
import LanguageModels
import Server
import Testing
import TestSupport
import Tokenizer

/// Tool calling on the embedded engine, per architecture: the tools go into the prompt in the
/// template's format and `<tool_call>` blocks come back as `toolCalls`.
@Suite(.serialized) struct LocalToolCallTests {
    static let tool = ToolDefinition(name: "read_email", description: "Read one e-mail by its id.", parameters: .object([
        "type": .string("object"), "required": .array([.string("id")]),
        "properties": .object(["id": .object(["type": .string("string"), "description": .string("The e-mail's id, e.g. e1.")])]),
    ]))
    /// Qwen2.5-Coder 0.5B answers this with the call as a ```json block (read as a call, since it names an
    /// offered tool); SmolLM2 and Gemma 3 answer in text, which must come back as text.
    static let conversation: [ChatMessage] = [
        .system("You are an e-mail assistant. You read e-mails by calling the read_email tool."),
        .user("Read e-mail e2."),
    ]

    static func open(_ file: String, chat: ChatTemplate? = nil) -> LocalModel? {
        guard let path = TestResources.modelPath(file) else { return nil }
        Parallel.configure(threads: 2)
        guard let engine = try? Engine(path: path, chatTemplate: chat) else { return nil }
        return LocalModel(engine: engine, identity: ModelIdentity(spec: "local:\(file)", resolved: path))
    }

    static let architectures: [(file: String, chat: ChatTemplate?, format: ToolPromptFormat, mustCall: Bool)] = [
        ("smollm2-135m-instruct-q4_1.gguf", nil, .text, false),                // llama, ChatML without a tool syntax
        (TestResources.gemma3FileName, .transcript, .text, false),            // gemma3 base model, chat=transcript
        ("qwen2.5-coder-0.5b-instruct-q4_k_m.gguf", nil, .hermes, true),      // qwen2, ChatML with <tool_call>
    ]

    @Test(arguments: 0..<3) func toolCallsOnEachArchitecture(_ i: Int) async throws {
        let a = Self.architectures[i]
        guard let model = Self.open(a.file, chat: a.chat) else {
            print("skipped \(a.file): not in the model store (emlab models pull)")
            return
        }
        defer { model.shutdown() }
        #expect(model.toolPromptFormat == a.format)
        let plain = try model.promptTokenCount(Self.conversation)
        let withTools = try model.promptTokenCount(Self.conversation, tools: [Self.tool])
        #expect(withTools > plain + 40)
        // A conversation with a call and its result renders in the format's shape.
        let history = Self.conversation + [.assistant(toolCalls: [ToolCall(id: "c1", name: "read_email", arguments: #"{"id": "e2"}"#)]),
                                           .tool("From: ana@example.com\nSubject: Lunch", callId: "c1")]
        #expect(try model.promptTokenCount(history, tools: [Self.tool]) > withTools)
        let request = CompletionRequest(messages: Self.conversation, n: 1, temperature: 0, maxTokens: 48, seed: 1, tools: [Self.tool])
        let c = try await model.complete(request)
        let choice = c.choices[0]
        print("\(a.file): text \(choice.text.debugDescription), calls \(choice.toolCalls.map { $0.map { "\($0.name)(\($0.arguments))" } } ?? []), finish \(choice.finishReason)")
        // Whatever the model wrote, the reply is either calls or text whose leftover blocks are reported, never a crash.
        let leftovers = ToolCallSyntax.parse(choice.text)
        #expect(leftovers.calls.isEmpty)
        if let calls = choice.toolCalls {
            #expect(choice.finishReason == "tool_calls")
            #expect(calls.allSatisfy { (try? JSONTree(parsing: $0.arguments))?.objectValue != nil })
        }
        if a.mustCall {
            #expect(choice.toolCalls?.first?.name == "read_email")
            #expect(choice.toolCalls?.first?.arguments == #"{"id":"e2"}"#)
        }
    }

    /// `emlab serve` takes `tools` and tool turns, and answers with `tool_calls` (whole and streamed).
    @Test func serverAnswersWithToolCalls() async throws {
        guard let model = Self.open("qwen2.5-coder-0.5b-instruct-q4_k_m.gguf") else {
            print("skipped: qwen2.5-coder-0.5b is not in the model store")
            return
        }
        let server = try OpenAIServer(model: model, configuration: ServerConfiguration(servedModelName: "qwen", port: 0))
        let port = try await server.start()
        defer { Task { await server.shutdown(); model.shutdown() } }
        let client = OpenAICompatibleModel(baseURL: URL(string: "http://127.0.0.1:\(port)/v1")!, model: "qwen", apiKey: nil)
        let request = CompletionRequest(messages: Self.conversation, n: 1, temperature: 0, maxTokens: 48, seed: 1, tools: [Self.tool])
        let whole = try await client.complete(request)
        #expect(whole.choices[0].toolCalls?.first?.name == "read_email")
        #expect(whole.choices[0].finishReason == "tool_calls")
        let streamed = try await client.complete(request, onChoice: nil, onText: { _, _ in true })
        #expect(streamed.choices[0].toolCalls == whole.choices[0].toolCalls)
        // Bad tools are a 400 that names the field.
        var raw = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/v1/chat/completions")!)
        raw.httpMethod = "POST"
        raw.setValue("application/json", forHTTPHeaderField: "Content-Type")
        raw.httpBody = Data(#"{"model":"qwen","messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"bad name"}}]}"#.utf8)
        let (body, response) = try await URLSession.shared.data(for: raw)
        #expect((response as? HTTPURLResponse)?.statusCode == 400)
        #expect(String(decoding: body, as: UTF8.self).contains("tools[0].function.name"))
        // A tool turn without its call id is refused the same way.
        raw.httpBody = Data(#"{"model":"qwen","messages":[{"role":"tool","content":"x"}]}"#.utf8)
        let (body2, response2) = try await URLSession.shared.data(for: raw)
        #expect((response2 as? HTTPURLResponse)?.statusCode == 400)
        #expect(String(decoding: body2, as: UTF8.self).contains("messages[0].tool_call_id"))
    }
}
