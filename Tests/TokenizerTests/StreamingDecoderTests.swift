import Testing
import TestSupport
@testable import Tokenizer

struct StreamingDecoderTests {
    /// No merges: every byte is its own token, so each multi-byte character arrives in pieces.
    let v = TinyVocabulary(merges: [], extra: [("<|im_end|>", .control)])

    @Test func holdsBackSplitCharacters() throws {
        let tok = try v.tokenizer()
        var stream = StreamingDecoder(tokenizer: tok)
        let emoji = tok.encode("😀")          // F0 9F 98 80
        #expect(emoji.count == 4)
        #expect(emoji.map { stream.push($0) } == ["", "", "", "😀"])
        let cjk = tok.encode("北a")           // E5 8C 97, then "a"
        #expect(cjk.map { stream.push($0) } == ["", "", "北", "a"])
        #expect(stream.push(v.id("Ã")) == "")    // lead byte 0xC3 of a 2-byte character
        #expect(stream.pendingByteCount == 1)
        #expect(stream.flush() == "\u{FFFD}")   // never completed
        #expect(stream.pendingByteCount == 0)
    }

    @Test func specialTokensFollowTheOption() throws {
        let tok = try v.tokenizer()
        let end = Int32(v.tokens.count - 1)
        var plain = StreamingDecoder(tokenizer: tok)
        #expect(plain.push(end) == "")
        var shown = StreamingDecoder(tokenizer: tok, includeSpecial: true)
        #expect(shown.push(end) == "<|im_end|>")
    }

    /// Random bytes (valid or not, split anywhere): pushes + flush equal a one-shot decode, and no
    /// push returns a replacement character that a later byte could still have avoided.
    @Test func equalsDecodeOnRandomBytes() throws {
        let tok = try v.tokenizer()
        var rng = SplitMix64(seed: 11)
        let interesting: [UInt8] = [0x41, 0x20, 0xC3, 0xA9, 0xE2, 0x82, 0xAC, 0xF0, 0x9F, 0x98, 0x80,
                                    0xED, 0xA0, 0xE0, 0x80, 0xF4, 0x90, 0xC0, 0xFF, 0xBF]
        for _ in 0..<2000 {
            let n = Int(rng.next() % 12)
            let bytes = (0..<n).map { _ in interesting[Int(rng.next() % UInt64(interesting.count))] }
            let ids = bytes.map { Int32($0) }    // ids 0–255 are the bytes
            var stream = StreamingDecoder(tokenizer: tok)
            var text = ""
            for id in ids { text += stream.push(id) }
            text += stream.flush()
            #expect(utf8(text) == utf8(String(decoding: bytes, as: UTF8.self)), "\(bytes)")
        }
    }

    @Test func completePrefix() {
        #expect(StreamingDecoder.completePrefixLength([]) == 0)
        #expect(StreamingDecoder.completePrefixLength([0x41, 0xE2, 0x82]) == 1)   // € unfinished
        #expect(StreamingDecoder.completePrefixLength([0xE2, 0x82, 0xAC]) == 3)   // € whole
        #expect(StreamingDecoder.completePrefixLength([0xF0, 0x9F, 0x98]) == 0)
        #expect(StreamingDecoder.completePrefixLength([0xE0, 0x80]) == 2)         // overlong: cannot complete
        #expect(StreamingDecoder.completePrefixLength([0xED, 0xA0]) == 2)         // surrogate
        #expect(StreamingDecoder.completePrefixLength([0xF4, 0x90]) == 2)         // beyond U+10FFFF
        #expect(StreamingDecoder.completePrefixLength([0x80, 0x80, 0x80, 0x80]) == 4)
    }
}
