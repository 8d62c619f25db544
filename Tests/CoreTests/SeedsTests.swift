import Core
import Testing

/// Seeds are stored with runs and datasets: these values were printed by the mixers as they were
/// before they moved into Core (Datasets' SplitMix64, the eval runner's `Hashing.mix`), so a
/// change to a derivation rule fails here.
struct SeedsTests {
    @Test func splitMixMatchesReferenceOutputs() {
        var rng = SplitMix64(seed: 1_234_567)   // Vigna's splitmix64.c
        #expect(rng.next() == 6_457_827_717_110_365_317)
        #expect(rng.next() == 3_203_168_211_198_807_973)
        #expect(rng.next() == 9_817_491_932_198_370_423)
    }

    @Test func mixIsTheEvalRunnersFormerHashingMix() {
        #expect(SplitMix64.mix(0, 0) == 0xe220_a839_7b1d_cdaf)
        #expect(SplitMix64.mix(1, 2) == 0x1d0b_14e4_db01_8fed)
        #expect(SplitMix64.mix(42, 0x1C1) == 0x48c4_c3f1_28bf_413e)          // an ICL draw's seed
        #expect(SplitMix64.mix(12345, 0x15f4_7951_f497_df18) == 0xb237_3762_433c_899f)   // a slot seed
    }

    @Test func derivedStreamsAreUnchanged() {
        var d = SplitMix64.derived(seed: 42, stream: 2)
        #expect([d.next(), d.next(), d.next()] == [0xb9f9_a02c_3258_fdd6, 0xf274_fa4d_e5ab_dcfb, 0xd727_19e4_81e1_0ff4])
    }

    @Test func samplerStreamSeedIsXorOfTheScaledIndex() {
        #expect(SplitMix64.samplerStreamSeed(seed: 5, stream: 3) == 5 ^ (4 &* UInt64(0xD1B5_4A32_D192_ED03)))
        #expect(SplitMix64.samplerStreamSeed(seed: 0, stream: 0) == 0xD1B5_4A32_D192_ED03)
    }

    /// The published FNV-1a 64-bit test vectors.
    @Test func fnv1aMatchesTheReferenceVectors() {
        #expect(FNV1a.hash("") == 0xcbf2_9ce4_8422_2325)
        #expect(FNV1a.hash("a") == 0xaf63_dc4c_8601_ec8c)
        #expect(FNV1a.hash("foobar") == 0x8594_4171_f739_67e8)
    }
}
