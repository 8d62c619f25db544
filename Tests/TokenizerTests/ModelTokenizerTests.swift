import Foundation
import GGUF
import Testing
import TestSupport
@testable import Tokenizer

/// The tokenizer a model file declares (`loadTokenizer(gguf:)`, the engine's and the commands' one
/// way to open it) and its BOS rule (`encode(_:addSpecial:parseSpecial:)` follows
/// `tokenizer.ggml.add_bos_token`), on the real files.
struct ModelTokenizerTests {
    @Test(.enabled(if: Gemma3.available, Gemma3.missingMessage))
    func gemmaOpensAsSentencePieceAndAddsBOS() throws {
        let file = try #require(Gemma3.file)
        #expect(file["tokenizer.ggml.model"]?.stringValue == "llama")
        #expect(file["tokenizer.ggml.add_bos_token"]?.boolValue == true)
        let tok = try loadTokenizer(gguf: file)
        #expect(tok is SentencePieceTokenizer)
        #expect(tok.addsBOS && tok.bosId == 2)
        let plain = tok.encode("Hello world", parseSpecial: true)
        #expect(!plain.isEmpty && plain.first != 2)
        #expect(tok.encode("Hello world", addSpecial: true, parseSpecial: true) == [2] + plain)
        #expect(tok.encode("Hello world", addSpecial: false, parseSpecial: true) == plain)
        // The same ids as the concrete tokenizer the tests load directly.
        #expect(plain == Gemma3.tokenizer?.encode("Hello world", parseSpecial: true))
    }

    @Test(.enabled(if: SmolLM2.available, SmolLM2.missingMessage))
    func smolLM2OpensAsBPEAndAddsNoBOS() throws {
        let file = try #require(SmolLM2.file)
        #expect(file["tokenizer.ggml.model"]?.stringValue == "gpt2")
        #expect(file["tokenizer.ggml.add_bos_token"]?.boolValue == false)
        let tok = try loadTokenizer(gguf: file)
        #expect(tok is BPETokenizer)
        #expect(!tok.addsBOS)
        let plain = tok.encode("Hello world", parseSpecial: true)
        #expect(tok.encode("Hello world", addSpecial: true, parseSpecial: true) == plain)
        #expect(plain == SmolLM2.tokenizer?.encode("Hello world", parseSpecial: true))
    }
}

/// `emlab tokenize` and `emlab datasets stats --tokens` run as a user runs them, on the models by name.
@Suite(.enabled(if: EmlabCLI.built, "emlab binary not built"))
struct TokenizerCommandTests {
    /// Runs emlab; its exit status and standard output (standard error is appended on failure).
    func run(_ args: [String]) throws -> (status: Int32, output: String) {
        let r = try EmlabCLI.run(args)
        return (r.status, r.status == 0 ? r.stdout : r.stdout + r.stderr)
    }

    func ids(_ output: String) -> [Int32] {
        output.split(whereSeparator: \.isWhitespace).compactMap { Int32($0) }
    }

    @Test(.enabled(if: Gemma3.available, Gemma3.missingMessage))
    func gemmaTokenizeStartsWithBOSUnlessNoBOS() throws {
        let tok = try #require(Gemma3.tokenizer)
        let text = "Hello world! How are you?"
        let plain = tok.encode(text, parseSpecial: true)
        let withBOS = try run(["tokenize", "-m", "gemma3-270m", text])
        #expect(withBOS.status == 0, "\(withBOS.output)")
        #expect(ids(withBOS.output) == [2] + plain)
        let without = try run(["tokenize", "-m", "gemma3-270m", "--no-bos", text])
        #expect(without.status == 0, "\(without.output)")
        #expect(ids(without.output) == plain)
    }

    @Test(.enabled(if: SmolLM2.available, SmolLM2.missingMessage))
    func smolLM2TokenizeIsUnchanged() throws {
        let tok = try #require(SmolLM2.tokenizer)
        let text = "<|im_start|>user\nHello world<|im_end|>"
        let expected = tok.encode(text, parseSpecial: true)
        for extra in [[], ["--no-bos"]] {
            let r = try run(["tokenize", "-m", "smollm2-135m"] + extra + [text])
            #expect(r.status == 0, "\(r.output)")
            #expect(ids(r.output) == expected)
        }
    }

    @Test(.enabled(if: Gemma3.available, Gemma3.missingMessage))
    func datasetStatsCountsGemmaTokens() throws {
        let tok = try #require(Gemma3.tokenizer)
        let path = NSTemporaryDirectory() + "emlab-stats-\(UUID().uuidString).jsonl"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try """
        {"messages":[{"role":"user","content":"Hello world! How are you?"},{"role":"assistant","content":"Fine, thanks."}]}
        {"messages":[{"role":"user","content":"Write a haiku about rain."},{"role":"assistant","content":"Soft rain on the roof"}]}

        """.write(toFile: path, atomically: true, encoding: .utf8)
        let counts = [["Hello world! How are you?", "Fine, thanks."], ["Write a haiku about rain.", "Soft rain on the roof"]]
            .map { $0.reduce(0) { $0 + tok.encode($1).count } }
        let r = try run(["datasets", "stats", path, "--tokens", "-m", "gemma3-270m", "--json"])
        #expect(r.status == 0, "\(r.output)")
        struct Stats: Decodable { let tokens: Int?, max_tokens: Int? }
        let stats = try JSONDecoder().decode(Stats.self, from: Data(r.output.utf8))
        #expect(stats.tokens == counts.reduce(0, +))
        #expect(stats.max_tokens == counts.max())
    }
}
