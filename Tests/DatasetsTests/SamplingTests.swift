import Core
import Datasets
import Testing

struct SamplingTests {
    /// Reference outputs of SplitMix64 for seed 1234567 (Vigna's splitmix64.c, also Java's SplittableRandom mixer).
    @Test func splitMixMatchesReferenceOutputs() {
        var rng = SplitMix64(seed: 1_234_567)
        #expect(rng.next() == 6_457_827_717_110_365_317)
        #expect(rng.next() == 3_203_168_211_198_807_973)
        #expect(rng.next() == 9_817_491_932_198_370_423)
    }

    @Test func boundedDrawsStayInRangeAndCoverIt() {
        var rng = SplitMix64(seed: 9)
        var seen = [Int](repeating: 0, count: 7)
        for _ in 0..<7000 { seen[rng.below(7)] += 1 }
        #expect(seen.allSatisfy { $0 > 850 && $0 < 1150 })   // 1000 expected each; 5 sd ≈ 150
    }

    func numbered(_ count: Int) -> ChatDataset {
        ChatDataset(name: "numbers", examples: (0..<count).map { ChatExample(messages: [.user("q\($0)"), .assistant("a\($0)")]) })
    }

    @Test func sampleIsSeededWithoutReplacementAndNested() throws {
        let data = numbered(100)
        let a = try data.sample(k: 32, seed: 42)
        #expect(a == (try data.sample(k: 32, seed: 42)))
        #expect(Set(a).count == 32)
        #expect(a != (try data.sample(k: 32, seed: 43)))
        // Smaller k with the same seed is a prefix: k-shot contexts of one draw are nested.
        #expect(Array(a.prefix(8)) == (try data.sample(k: 8, seed: 42)))
        let all = try data.sample(k: 100, seed: 42)
        #expect(Set(all) == Set(data.examples))
        #expect(all != data.examples)
        #expect(try data.sample(k: 0, seed: 1).isEmpty)
    }

    /// The draw is a pure function of (dataset, k, seed), pinned to values computed by an
    /// independent Python transcription of SplitMix64 + partial Fisher–Yates: a change of generator
    /// or algorithm (which would change every recorded sweep) fails here.
    @Test func sampleOrderIsPinned() throws {
        let picked = try numbered(10).sample(k: 4, seed: 2024).map { $0.messages[0].content }
        #expect(picked == ["q1", "q9", "q0", "q8"])
    }

    @Test func tooManyIsAnError() {
        #expect(throws: DatasetError.sampleTooLarge(dataset: "numbers", requested: 11, available: 10)) {
            try numbered(10).sample(k: 11, seed: 0)
        }
    }

    @Test func statsCountTurnsCharactersAndTokens() {
        let data = ChatDataset(name: "s", examples: [
            ChatExample(messages: [.system("be nice"), .user("hello there"), .assistant("hi")]),       // 7+11+2 = 20 chars, 2+2+1 = 5 tokens
            ChatExample(messages: [.user("a b c d"), .assistant("e f"), .user("g"), .assistant("h i j")]), // 7+3+1+5 = 16 chars, 4+2+1+3 = 10 tokens
        ])
        let s = data.stats()
        #expect(s.examples == 2)
        #expect(s.turns == 7)
        #expect(s.turnsByRole == [.system: 1, .user: 3, .assistant: 3])
        #expect(s.characters == 36)
        #expect(s.meanCharacters == 18)
        #expect(s.maxCharacters == 20)
        #expect(s.tokens == nil)
        let t = data.stats(tokenCount: { $0.split(separator: " ").count })   // space-separated words as tokens
        #expect(t.tokens == 15)
        #expect(t.meanTokens == 7.5)
        #expect(t.maxTokens == 10)
    }
}
