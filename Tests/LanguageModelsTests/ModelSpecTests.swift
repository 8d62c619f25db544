import Foundation
import LanguageModels
import Testing

struct ModelSpecTests {
    @Test func parsesEveryKind() throws {
        #expect(try ModelSpec(parsing: "smollm2-135m") == .local("smollm2-135m"))
        #expect(try ModelSpec(parsing: "local:/tmp/x.gguf") == .local("/tmp/x.gguf"))
        #expect(try ModelSpec(parsing: "/tmp/x.gguf") == .local("/tmp/x.gguf"))
        #expect(try ModelSpec(parsing: "openai:gpt-4o") == .openAI(model: "gpt-4o"))
        let c = try ModelSpec(parsing: "openai-compatible:http://127.0.0.1:8000/v1#Qwen/Qwen2.5-7B")
        #expect(c == .openAICompatible(baseURL: URL(string: "http://127.0.0.1:8000/v1")!, model: "Qwen/Qwen2.5-7B"))
        #expect(try ModelSpec(parsing: "openai-compatible:http://127.0.0.1:8000/v1#served").description
                == "openai-compatible:http://127.0.0.1:8000/v1#served")
    }

    @Test func rejectsMalformedSpecs() {
        for bad in ["", "local:", "openai:", "openai-compatible:http://x/v1", "openai-compatible:ftp://x#m",
                    "openai-compatible:http://x/v1#", "ollama:llama3"] {
            #expect(throws: LanguageModelError.self, "\(bad)") { _ = try ModelSpec(parsing: bad) }
        }
    }
}
