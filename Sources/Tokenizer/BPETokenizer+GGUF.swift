import GGUF

extension BPETokenizer {
    /// The tokenizer stored in a GGUF file's `tokenizer.ggml.*` metadata.
    public convenience init(gguf: GGUFFile) throws {
        try self.init(metadata: gguf.metadata)
    }

    /// The tokenizer described by GGUF metadata (keys as llama.cpp reads them).
    public convenience init(metadata: [String: GGUFValue]) throws {
        let m = MetadataReader(metadata)
        let model = try m.string("tokenizer.ggml.model")
        guard model == "gpt2" else { throw TokenizerError.unsupportedModel(model) }
        let tokens = try m.strings("tokenizer.ggml.tokens")
        let merges = try m.strings("tokenizer.ggml.merges")
        let types = try m.optionalInts("tokenizer.ggml.token_type") ?? []
        try self.init(
            tokens: tokens, merges: merges, tokenTypes: types.map { Int32(truncatingIfNeeded: $0) },
            bosId: try m.optionalId("tokenizer.ggml.bos_token_id"),
            eosId: try m.optionalId("tokenizer.ggml.eos_token_id"),
            eotId: try m.optionalId("tokenizer.ggml.eot_token_id"),
            paddingId: try m.optionalId("tokenizer.ggml.padding_token_id"),
            addBOS: try m.optionalBool("tokenizer.ggml.add_bos_token") ?? false,
            preTokenizer: try m.optionalString("tokenizer.ggml.pre"))
    }
}

/// The tokenizer a GGUF file declares in `tokenizer.ggml.model`: `gpt2` (byte-level BPE) or
/// `llama` (SentencePiece).
public func loadTokenizer(gguf: GGUFFile) throws -> any Tokenizer {
    try loadTokenizer(metadata: gguf.metadata)
}

public func loadTokenizer(metadata: [String: GGUFValue]) throws -> any Tokenizer {
    let model = try MetadataReader(metadata).string("tokenizer.ggml.model")
    switch model {
    case "gpt2": return try BPETokenizer(metadata: metadata)
    case "llama": return try SentencePieceTokenizer(metadata: metadata)
    default: throw TokenizerError.unsupportedModel(model)
    }
}

/// Typed access to metadata with errors that name the key.
struct MetadataReader {
    let metadata: [String: GGUFValue]
    init(_ metadata: [String: GGUFValue]) { self.metadata = metadata }

    func string(_ key: String) throws -> String {
        guard let v = metadata[key] else { throw TokenizerError.missingMetadata(key: key) }
        guard let s = v.stringValue else { throw TokenizerError.wrongMetadataType(key: key, expected: "a string") }
        return s
    }

    func optionalString(_ key: String) throws -> String? {
        metadata[key] == nil ? nil : try string(key)
    }

    func strings(_ key: String) throws -> [String] {
        guard let v = metadata[key] else { throw TokenizerError.missingMetadata(key: key) }
        guard let a = v.stringArray else { throw TokenizerError.wrongMetadataType(key: key, expected: "an array of strings") }
        return a
    }

    func optionalInts(_ key: String) throws -> [Int]? {
        guard let v = metadata[key] else { return nil }
        guard let a = v.intArray else { throw TokenizerError.wrongMetadataType(key: key, expected: "an array of integers") }
        return a
    }

    func optionalFloats(_ key: String) throws -> [Float]? {
        guard let v = metadata[key] else { return nil }
        guard let a = v.floatArray else { throw TokenizerError.wrongMetadataType(key: key, expected: "an array of numbers") }
        return a
    }

    func optionalId(_ key: String) throws -> Int32? {
        guard let v = metadata[key] else { return nil }
        guard let i = v.intValue else { throw TokenizerError.wrongMetadataType(key: key, expected: "an integer") }
        guard let id = Int32(exactly: i) else {
            throw TokenizerError.specialIdOutOfRange(key: key, id: i, vocabularySize: Int(Int32.max))
        }
        return id
    }

    func optionalBool(_ key: String) throws -> Bool? {
        guard let v = metadata[key] else { return nil }
        guard let b = v.boolValue else { throw TokenizerError.wrongMetadataType(key: key, expected: "a bool") }
        return b
    }
}
