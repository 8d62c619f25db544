import Foundation
import TestSupport
import GGUF

/// Builds GGUF bytes field by field, independently of `GGUFWriter`, so tests can craft exact
/// (and exactly malformed) files and know the offset of every field.
struct RawGGUF {
    var bytes: [UInt8] = []
    var count: Int { bytes.count }

    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u16(_ v: UInt16) { for i in 0..<2 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * UInt16(i)))) } }
    mutating func u32(_ v: UInt32) { for i in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * UInt32(i)))) } }
    mutating func u64(_ v: UInt64) { for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(i)))) } }
    mutating func f32(_ v: Float) { u32(v.bitPattern) }
    mutating func str(_ s: String) { u64(UInt64(s.utf8.count)); bytes.append(contentsOf: s.utf8) }
    mutating func zeros(_ n: Int) { bytes.append(contentsOf: repeatElement(0, count: n)) }
    mutating func pad(to alignment: Int) { zeros((alignment - count % alignment) % alignment) }

    mutating func header(version: UInt32 = 3, tensors: UInt64, kvs: UInt64) {
        bytes.append(contentsOf: Array("GGUF".utf8))
        u32(version)
        u64(tensors)
        u64(kvs)
    }

    mutating func kvString(_ key: String, _ value: String) { str(key); u32(8); str(value) }
    mutating func kvU32(_ key: String, _ value: UInt32) { str(key); u32(4); u32(value) }

    mutating func tensorInfo(_ name: String, dims: [UInt64], type: UInt32, offset: UInt64) {
        str(name)
        u32(UInt32(dims.count))
        for d in dims { u64(d) }
        u32(type)
        u64(offset)
    }
}


/// The parse error for `bytes`, or nil if they parse.
func parseError(_ bytes: [UInt8]) -> GGUFError? {
    do {
        _ = try GGUFFile(bytes: bytes)
        return nil
    } catch {
        return error
    }
}

func bytesOf(_ floats: [Float]) -> [UInt8] {
    floats.withUnsafeBytes { Array($0) }
}

/// Where the embedded SmolLM2 model lives: $EMLAB_HOME (default ~/.cache/emlab)/models/….
enum RealModel {
    static let fileName = "smollm2-135m-instruct-q4_1.gguf"

    static var expectedPath: String { TestResources.expectedModelPath(fileName) }

    static var path: String? { TestResources.modelPath(fileName) }

    static var isPresent: Bool { path != nil }
}

/// A realistic small file: llama-style metadata, tokenizer-sized (but shortened) arrays, and
/// tensors of several types. Used by round-trip, truncation and fuzz tests.
func syntheticModel(vocab: Int, merges: Int, seed: UInt64 = 1) throws -> GGUFWriter {
    var rng = SplitMix64(seed: seed)
    var w = GGUFWriter()
    w.addMetadata("general.architecture", .string("llama"))
    w.addMetadata("general.name", .string("synthetic ✓ model"))
    w.addMetadata("llama.block_count", .uint32(2))
    w.addMetadata("llama.embedding_length", .uint32(64))
    w.addMetadata("llama.rope.freq_base", .float32(10000))
    w.addMetadata("llama.attention.layer_norm_rms_epsilon", .float32(1e-5))
    w.addMetadata("tokenizer.ggml.model", .string("gpt2"))
    let letters = Array("abcdefghijklmnopqrstuvwxyzĠĊ<>|_".unicodeScalars)
    var tokens: [GGUFValue] = []
    for i in 0..<vocab {
        var s = ""
        for _ in 0..<Int.random(in: 1...12, using: &rng) { s.unicodeScalars.append(letters.randomElement(using: &rng)!) }
        tokens.append(.string(s + String(i)))
    }
    w.addMetadata("tokenizer.ggml.tokens", .array(.string, tokens))
    w.addMetadata("tokenizer.ggml.scores", .array(.float32, (0..<vocab).map { .float32(-Float($0)) }))
    w.addMetadata("tokenizer.ggml.token_type", .array(.int32, (0..<vocab).map { .int32($0 < 3 ? 3 : 1) }))
    w.addMetadata("tokenizer.ggml.merges", .array(.string, (0..<merges).map { .string("t\($0) m\($0 % 7)") }))
    w.addMetadata("tokenizer.ggml.bos_token_id", .uint32(1))
    w.addMetadata("tokenizer.ggml.add_bos_token", .bool(false))
    w.addMetadata("tokenizer.chat_template", .string("{% for m in messages %}{{ m['content'] }}\n{% endfor %}"))

    let norm = (0..<64).map { _ in Float.random(in: 0.5...1.5, using: &rng) }
    try w.addTensor(name: "output_norm.weight", dimensions: [64], type: .f32, values: norm)
    let emb = (0..<64 * 8).map { _ in Float.random(in: -1...1, using: &rng) }
    try w.addTensor(name: "token_embd.weight", dimensions: [64, 8], type: .q8_0, values: emb)
    let q = (0..<64 * 4).map { _ in Float.random(in: -1...1, using: &rng) }
    try w.addTensor(name: "blk.0.attn_q.weight", dimensions: [64, 4], type: .q4_1, values: q)
    let k = (0..<256 * 2).map { _ in Float.random(in: -1...1, using: &rng) }
    try w.addTensor(name: "blk.0.ffn_down.weight", dimensions: [256, 2], type: .q6_K, values: k)
    return w
}
