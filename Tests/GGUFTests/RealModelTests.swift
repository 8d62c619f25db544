import Foundation
import Testing
import GGUF

/// The embedded SmolLM2-135M-Instruct Q4_1 file, checked against the facts recorded in
/// shared/reference/smollm2.md (measured with llama.cpp).
@Suite("SmolLM2 GGUF file", .enabled(if: RealModel.isPresent, "SmolLM2 model not found at \(RealModel.expectedPath)"))
struct RealModelTests {
    @Test func headerAndHyperparameters() throws {
        let f = try GGUFFile(path: RealModel.path!)
        #expect(f.version == 3)
        #expect(f.architecture == "llama")
        #expect(f.tensors.count == 272)
        #expect(f["llama.block_count"]?.intValue == 30)
        #expect(f["llama.embedding_length"]?.intValue == 576)
        #expect(f.architectureValue("feed_forward_length")?.intValue == 1536)
        #expect(f.architectureValue("attention.head_count")?.intValue == 9)
        #expect(f.architectureValue("attention.head_count_kv")?.intValue == 3)
        #expect(f.architectureValue("context_length")?.intValue == 8192)
        #expect(f.architectureValue("rope.freq_base")?.floatValue == 100_000)
        #expect(f["tokenizer.ggml.model"]?.stringValue == "gpt2")
        #expect(f["tokenizer.ggml.pre"]?.stringValue == "smollm")
        #expect(f.alignment == 32 && f.dataOffset % 32 == 0)
    }

    @Test func tensorTypesAndVocabulary() throws {
        let f = try GGUFFile(path: RealModel.path!)
        var counts: [GGMLType: Int] = [:]
        for t in f.tensors { counts[t.type, default: 0] += 1 }
        #expect(counts == [.q4_1: 210, .q8_0: 1, .f32: 61])
        let embd = try #require(f.tensor(named: "token_embd.weight"))
        #expect(embd.type == .q8_0 && embd.dimensions == [576, 49152])

        let tokens = try #require(f["tokenizer.ggml.tokens"]?.stringArray)
        #expect(tokens.count == 49152)
        #expect(f["tokenizer.ggml.token_type"]?.intArray?.count == 49152)
        #expect(f["tokenizer.ggml.merges"]?.stringArray?.first == "Ġ t")
        // Token ids recorded from llama.cpp's tokenizer (smollm2.md).
        #expect(tokens[1] == "<|im_start|>" && tokens[198] == "Ċ" && tokens[905] == "Ġworld")

        // Every tensor lies inside the file, and the last one ends within the file's final alignment padding.
        let end = f.tensors.map { f.dataOffset + $0.offset + $0.byteCount }.max()!
        #expect(end <= f.fileSize && f.fileSize - end < f.alignment)
    }

    @Test func dequantizedWeightsAreSane() throws {
        let f = try GGUFFile(path: RealModel.path!)
        for name in ["token_embd.weight", "blk.0.attn_q.weight", "blk.29.ffn_down.weight", "output_norm.weight"] {
            let t = try #require(f.tensor(named: name))
            let data = f.data(for: t)
            var row = [Float](repeating: 0, count: t.rowLength)
            row.withUnsafeMutableBufferPointer { Dequantize.row(t.type, data.baseAddress!, $0.baseAddress!, count: t.rowLength) }
            #expect(row.allSatisfy { $0.isFinite && abs($0) < 50 }, "\(name)")
            #expect(row.contains { $0 != 0 }, "\(name)")
        }
    }

    /// Prints how long opening (mapping + parsing every header field) takes; no assertion on time.
    @Test func openTime() throws {
        let clock = ContinuousClock()
        var best = Duration.seconds(1000)
        for _ in 0..<5 {
            let start = clock.now
            let f = try GGUFFile(path: RealModel.path!)
            let took = clock.now - start
            best = min(best, took)
            #expect(f.tensors.count == 272)
        }
        print("GGUF open of \(RealModel.fileName): best of 5 = \(best)")
    }
}
