import Testing
import TestSupport
@testable import Tokenizer

/// Splits worked out by hand from the regexes llama.cpp lists for each `tokenizer.ggml.pre`.
struct PreTokenizerTests {
    @Test(arguments: [
        ("Hello world! 123", ["Hello", " world", "!", " ", "1", "2", "3"]),
        ("  multiple   spaces", [" ", " multiple", "  ", " spaces"]),
        ("I'm  here\n\nnow", ["I", "'m", " ", " here", "\n", "\n", "now"]),
        ("trailing  ", ["trailing", "  "]),
        ("ab12 34", ["ab", "1", "2", " ", "3", "4"]),
        ("x²½", ["x", "²", "½"]),                          // \p{N} beyond ASCII digits
        ("we'll they're it'd DON'T", ["we", "'ll", " they", "'re", " it", "'d", " DON", "'", "T"]),
        ("a?!  ...b", ["a", "?!", " ", " ...", "b"]),
        ("\t\tx", ["\t", "\t", "x"]),
        ("naïve café", ["naïve", " café"]),
        ("e\u{301}t\u{301}", ["e", "\u{301}", "t", "\u{301}"]),   // combining marks are not \p{L}
        ("北京 欢迎你。", ["北京", " 欢迎你", "。"]),
        ("😀👍 ok", ["😀👍", " ok"]),
        ("", []),
    ] as [(String, [String])])
    func smollm(text: String, pieces: [String]) throws {
        #expect(try PreTokenizer(name: "smollm").split(text).map(utf8) == pieces.map(utf8))
    }

    @Test(arguments: [
        ("ab12 34", ["ab", "12", " 34"]),
        ("Hello world! 123", ["Hello", " world", "!", " 123"]),
        ("  multiple   spaces", [" ", " multiple", "  ", " spaces"]),
    ] as [(String, [String])])
    func gpt2(text: String, pieces: [String]) throws {
        #expect(try PreTokenizer(name: "gpt2").split(text).map(utf8) == pieces.map(utf8))
    }

    /// llama.cpp's default list: punctuation runs, GPT-2, number runs, digit triples.
    @Test(arguments: [
        ("a+=1234567", ["a", "+=", "123", "456", "7"]),
        ("x 12345", ["x", " ", "123", "45"]),
        ("it's", ["it", "'", "s"]),       // the apostrophe is punctuation, split before GPT-2 sees it
    ] as [(String, [String])])
    func llamaDefault(text: String, pieces: [String]) throws {
        #expect(try PreTokenizer(name: nil).split(text).map(utf8) == pieces.map(utf8))
    }

    /// `\s` is Unicode's White_Space list (PropList.txt), as in llama.cpp's tables.
    @Test func whitespaceClass() {
        let expected = Set<UInt32>([0x20, 0x85, 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000])
            .union(0x09...0x0D).union(0x2000...0x200A)
        let found = Set((0..<0x10000).filter { CharacterClass.flags(UInt32($0)) & CharacterClass.whitespace != 0 }.map(UInt32.init))
        #expect(found == expected)
        #expect(CharacterClass.flags(0x1F600) == 0)                          // emoji: "other"
        #expect(CharacterClass.flags(0x20000) == CharacterClass.letter)      // CJK extension B
        #expect(CharacterClass.flags(0x1D7CE) == CharacterClass.number)      // mathematical bold zero
    }

    @Test func unknownName() {
        #expect(throws: TokenizerError.unsupportedPreTokenizer("llama-bpe")) { try PreTokenizer(name: "llama-bpe") }
    }

    /// Pieces always tile the input, whatever it holds.
    @Test func piecesCoverInput() throws {
        var rng = SplitMix64(seed: 3)
        let alphabet: [Unicode.Scalar] = ["a", "Z", " ", " ", "\n", "\t", "1", "'", "s", "!", "é", "北", "😀", "\u{301}", "\u{A0}", "²"]
        for name in ["smollm", "gpt2", "default"] {
            let pre = try PreTokenizer(name: name)
            for _ in 0..<200 {
                var s = String.UnicodeScalarView()
                for _ in 0..<Int(rng.next() % 30) { s.append(alphabet[Int(rng.next() % UInt64(alphabet.count))]) }
                let text = String(s)
                let pieces = pre.split(text)
                #expect(utf8(pieces.joined()) == utf8(text))
                #expect(!pieces.contains(""))
            }
        }
    }
}
