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

    /// `,chat=FORMAT` chooses a chat format for a local model, and is part of the spec a run records.
    @Test func localChatFormat() throws {
        let s = try ModelSpec(parsing: "local:gemma3-270m,chat=transcript")
        #expect(s == .local("gemma3-270m", chat: "transcript"))
        #expect(s.description == "local:gemma3-270m,chat=transcript")
        #expect(try ModelSpec(parsing: s.description) == s)
        #expect(s.chatTemplate == .transcript)
        #expect(s.localName == "gemma3-270m")
        #expect(try ModelSpec(parsing: "/m/x.gguf,chat=chatml") == .local("/m/x.gguf", chat: "chatml"))
        #expect(try ModelSpec(parsing: "smollm2-135m").chatTemplate == nil)
        // A file whose name has a comma is a path, not an option.
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("emlab-spec-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let odd = dir.appendingPathComponent("a,chat=x.gguf").path
        #expect(FileManager.default.createFile(atPath: odd, contents: Data()))
        #expect(try ModelSpec(parsing: odd) == .local(odd))
        // Unknown formats and options name what is known.
        expectSpecError("gemma3-270m,chat=alpaca", saying: "unknown chat format 'alpaca' (known: transcript, chatml, gemma)")
        expectSpecError("local:gemma3-270m,temp=1", saying: "unknown option 'temp=1'")
    }

    /// `,prompts=8bit` chooses the 8-bit prompt path; it combines with `chat=` in either order and
    /// is recorded in the spec only when it is not the default.
    @Test func localPromptPath() throws {
        let s = try ModelSpec(parsing: "gemma3-270m,prompts=8bit,chat=transcript")
        #expect(s == .local("gemma3-270m", chat: "transcript", prompts: .eightBit))
        #expect(s.description == "local:gemma3-270m,chat=transcript,prompts=8bit")
        #expect(try ModelSpec(parsing: s.description) == s)
        #expect(s.promptPath == .eightBit && s.chatTemplate == .transcript)
        #expect(try ModelSpec(parsing: "smollm2-135m,prompts=float").description == "local:smollm2-135m")
        #expect(try ModelSpec(parsing: "smollm2-135m").promptPath == .float)
        #expect(try ModelSpec(parsing: "openai:gpt-4o").promptPath == .float)
        // Choosing a chat format keeps the prompt path.
        #expect(try ModelSpec(parsing: "gemma3-270m,prompts=8bit").withChat("transcript") == s)
        expectSpecError("smollm2-135m,prompts=4bit", saying: "unknown prompt path '4bit' (known: float, 8bit)")
        expectSpecError("smollm2-135m,prompts=8bit,prompts=float", saying: "option 'prompts' given twice")
    }

    @Test func rejectsMalformedSpecs() {
        for bad in ["", "local:", "openai:", "openai-compatible:http://x/v1", "openai-compatible:ftp://x#m",
                    "openai-compatible:http://x/v1#", "ollama:llama3", "local:,chat=transcript", "x,chat=", "x,", "x,chat"] {
            #expect(throws: LanguageModelError.self, "\(bad)") { _ = try ModelSpec(parsing: bad) }
        }
    }
}

/// Parsing `text` fails with an error whose description contains `message`.
private func expectSpecError(_ text: String, saying message: String, sourceLocation: SourceLocation = #_sourceLocation) {
    do {
        _ = try ModelSpec(parsing: text)
        Issue.record("'\(text)' was accepted", sourceLocation: sourceLocation)
    } catch let e as LanguageModelError {
        #expect(e.description.contains(message), "\(e.description)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
    }
}
