import Core
import Foundation
import GGUF
import Testing
import TestSupport
@testable import Tokenizer

/// The `qwen2` pre-tokenizer worked out by hand from llama.cpp's regex for it
/// (LLAMA_VOCAB_PRE_TYPE_QWEN2), and Qwen2.5-Coder's tokenizer and chat template against llama.cpp.
struct Qwen2PreTokenizerTests {
    @Test(arguments: [
        ("Hello world! 123", ["Hello", " world", "!", " ", "1", "2", "3"]),   // every digit alone
        ("(word $x \tfoo", ["(word", " $", "x", " ", "\tfoo"]),  // one leading non-letter joins a letter run
        ("a\nfoo", ["a", "\n", "foo"]),                      // … but not a newline
        ("I'M SURE DON'T 'Sx it's", ["I", "'M", " SURE", " DON", "'T", " '", "Sx", " it", "'s"]),
        ("a!!\n\nb", ["a", "!!\n\n", "b"]),                 // punctuation takes the newlines after it
        ("a ...\nb", ["a", " ...\n", "b"]),
        ("x  \n  y", ["x", "  \n", " ", " y"]),             // whitespace up to its last newline
        ("a\r\n\r\nb", ["a", "\r\n\r\n", "b"]),
        ("end   ", ["end", "   "]),
        ("  two", [" ", " two"]),
        ("12.5%", ["1", "2", ".", "5", "%"]),
        ("x²½", ["x", "²", "½"]),
        ("北京 欢迎你。", ["北京", " 欢迎你", "。"]),
        ("😀👍 ok", ["😀👍", " ok"]),
        ("e\u{301}t", ["e", "\u{301}t"]),                   // a combining mark is a prefix, not a letter
        ("", []),
    ] as [(String, [String])])
    func qwen2(text: String, pieces: [String]) throws {
        let pre = try PreTokenizer(name: "qwen2")
        #expect(pre.split(text).map(utf8) == pieces.map(utf8))
        #expect(pre.split(text).joined() == text)
    }

    @Test func namesSharingTheRegex() throws {
        for name in ["qwen2", "deepseek-r1-qwen", "megrez"] {
            #expect(try PreTokenizer(name: name).split("ab12") == ["ab", "1", "2"])
            #expect(PreTokenizer.supportedNames.contains(name))
        }
    }
}

/// Qwen2.5-Coder-0.5B-Instruct (`emlab models pull qwen2.5-coder-0.5b`).
enum Qwen05 {
    static let path = TestResources.expectedModelPath(TestResources.qwen05FileName)
    static let available = FileManager.default.fileExists(atPath: path)
    static let missingMessage: Comment = "Qwen2.5-Coder 0.5B not found at \(path) (emlab models pull qwen2.5-coder-0.5b)"
    static let file: GGUFFile? = available ? try? GGUFFile(path: path) : nil
    static let tokenizer: (any Tokenizer)? = file.flatMap { try? loadTokenizer(gguf: $0) }

    static let tokenReferences: [TokenReference] = TestResources.repositoryReference("qwen2.5-coder-0.5b-tokens.txt")
        .flatMap { try? TokenReference.load($0) } ?? []
    static let greedyReferences: [GreedyReference] = TestResources.repositoryReference("qwen2.5-coder-0.5b-greedy.txt")
        .flatMap { try? GreedyReference.load($0) } ?? []
}

@Suite(.enabled(if: Qwen05.available, Qwen05.missingMessage))
struct Qwen2TokenizerTests {
    @Test func opensAsBPEWithQwen2PreTokenizerAndNoBOS() throws {
        let tok = try #require(Qwen05.tokenizer as? BPETokenizer)
        #expect(!tok.addsBOS)
        #expect(Qwen05.file?["tokenizer.ggml.pre"]?.stringValue == "qwen2")
        #expect(tok.encode("<|im_start|>", parseSpecial: true) == [151644])
        #expect(tok.encode("<tool_call>", parseSpecial: false) == [151657])   // user-defined: always split out
    }

    /// llama.cpp's ids for each text of `Tests/References/qwen2.5-coder-0.5b-tokens.txt` (code, Chinese,
    /// emoji, numbers, whitespace runs, special tokens), and the ids decode back to the text.
    @Test func tokenIdsMatchLlamaCpp() throws {
        let tok = try #require(Qwen05.tokenizer)
        let refs = Qwen05.tokenReferences
        #expect(refs.count >= 12, "reference file missing or short")
        var agree = 0
        for ref in refs {
            let ids = tok.encode(ref.text, parseSpecial: true)
            #expect(ids == ref.ids, "\(ref.title)")
            if ids == ref.ids { agree += 1 }
            #expect(tok.decode(ref.ids, includeSpecial: true) == ref.text, "\(ref.title): decoding")
        }
        print("[reference] qwen2 token ids: \(agree) of \(refs.count) texts agree with llama.cpp")
    }

    /// The chat template recognised from the file inserts Qwen's default system prompt, and the
    /// rendered prompts tokenize to llama.cpp's prompt ids.
    @Test func chatTemplateAndPromptIds() throws {
        let file = try #require(Qwen05.file)
        let template = try ChatTemplate.from(gguf: file)
        #expect(template == .chatML(defaultSystemPrompt: "You are Qwen, created by Alibaba Cloud. You are a helpful assistant."))
        #expect(template.endOfTurn == "<|im_end|>")
        let ruler = "If you were ruler of the world, what are some things you'd do?"
        let refs = Qwen05.greedyReferences
        let rulerRef = try #require(refs.first { $0.title.contains("ruler") })
        #expect(template.render([.user(ruler)]) == rulerRef.promptText)
        let sky = try #require(refs.first { $0.title.contains("sky") })
        #expect(template.render([.system("You answer in one short sentence."), .user("Why is the sky blue?")]) == sky.promptText)
        let tok = try #require(Qwen05.tokenizer)
        for ref in refs {
            #expect(tok.encode(ref.promptText, parseSpecial: true) == ref.promptIds, "\(ref.title)")
        }
    }
}
