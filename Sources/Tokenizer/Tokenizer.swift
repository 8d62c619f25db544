/// How a vocabulary entry behaves: the values of GGUF `tokenizer.ggml.token_type`
/// (llama.cpp's `llama_token_type`).
public enum TokenType: Int32, Sendable, CaseIterable {
    case undefined = 0, normal = 1, unknown = 2, control = 3, userDefined = 4, unused = 5, byte = 6
}

/// Text ⇄ token ids for one model's vocabulary.
///
/// Implemented by `BPETokenizer` (GPT-2 style byte-level BPE) and `SentencePieceTokenizer`
/// (`loadTokenizer(gguf:)` picks the one a file declares): a conformer supplies encoding and the
/// bytes of each token; decoding, streaming and the convenience overloads are built on those.
public protocol Tokenizer: Sendable {
    /// Number of entries in the vocabulary (valid ids are `0..<vocabularySize`).
    var vocabularySize: Int { get }
    var bosId: Int32? { get }
    var eosId: Int32? { get }
    /// End-of-turn token, when the model declares one apart from EOS.
    var eotId: Int32? { get }
    /// Whether prompts should start with BOS (GGUF `tokenizer.ggml.add_bos_token`).
    var addsBOS: Bool { get }
    /// Ids that end generation: EOS, EOT and the vocabulary's end-of-turn markers.
    var endOfGenerationIds: Set<Int32> { get }

    /// Token ids for `text`, without BOS. With `parseSpecial`, control-token texts in `text`
    /// (e.g. `<|im_start|>`) become their single ids; without it they are tokenized as plain text.
    func encode(_ text: String, parseSpecial: Bool) -> [Int32]

    /// The raw vocabulary string of `id` (e.g. "Ġworld" for a byte-level BPE), "" when out of range.
    func piece(_ id: Int32) -> String

    /// The type of `id`; `.undefined` when out of range.
    func tokenType(_ id: Int32) -> TokenType

    /// The id of a special (control or user-defined) token by its exact text.
    func id(forSpecial text: String) -> Int32?

    /// Appends the bytes `id` stands for. Control tokens contribute their text only when
    /// `includeSpecial`; ids out of range contribute nothing.
    func appendBytes(of id: Int32, includeSpecial: Bool, to bytes: inout [UInt8])

    /// Text of `ids` as valid UTF-8 (invalid byte sequences become U+FFFD).
    func decode(_ ids: [Int32], includeSpecial: Bool) -> String

    func isControl(_ id: Int32) -> Bool
}

extension Tokenizer {
    public func decode(_ ids: [Int32], includeSpecial: Bool) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(ids.count * 4)
        for id in ids { appendBytes(of: id, includeSpecial: includeSpecial, to: &bytes) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Text of `ids`, leaving out control tokens.
    public func decode(_ ids: [Int32]) -> String { decode(ids, includeSpecial: false) }

    public func isControl(_ id: Int32) -> Bool { tokenType(id) == .control }

    public func isEndOfGeneration(_ id: Int32) -> Bool { endOfGenerationIds.contains(id) }

    /// Plain-text encoding (special-token texts are not parsed).
    public func encode(_ text: String) -> [Int32] { encode(text, parseSpecial: false) }

    /// Encoding as llama.cpp's `tokenize(text, add_special, parse_special)`: BOS first when
    /// `addSpecial` and the model asks for it.
    public func encode(_ text: String, addSpecial: Bool, parseSpecial: Bool) -> [Int32] {
        let ids = encode(text, parseSpecial: parseSpecial)
        guard addSpecial, addsBOS, let bos = bosId else { return ids }
        return [bos] + ids
    }

    /// The bytes of one token (its decoded form, not its vocabulary spelling).
    public func bytes(of id: Int32, includeSpecial: Bool = false) -> [UInt8] {
        var out: [UInt8] = []
        appendBytes(of: id, includeSpecial: includeSpecial, to: &out)
        return out
    }
}

/// Problems in tokenizer data, each naming the field or entry at fault.
public enum TokenizerError: Error, CustomStringConvertible, Equatable {
    case missingMetadata(key: String)
    case wrongMetadataType(key: String, expected: String)
    case unsupportedModel(String)
    case unsupportedPreTokenizer(String)
    case emptyVocabulary
    case countMismatch(key: String, expected: Int, found: Int)
    case invalidMerge(index: Int, text: String)
    case specialIdOutOfRange(key: String, id: Int, vocabularySize: Int)

    public var description: String {
        switch self {
        case .missingMetadata(let key):
            "tokenizer metadata key '\(key)' is missing"
        case .wrongMetadataType(let key, let expected):
            "tokenizer metadata key '\(key)' is not \(expected)"
        case .unsupportedModel(let name):
            "tokenizer.ggml.model '\(name)' is not supported here (emlab reads 'gpt2' byte-level BPE and 'llama' SentencePiece)"
        case .unsupportedPreTokenizer(let name):
            "tokenizer.ggml.pre '\(name)' is not supported (supported: \(PreTokenizer.supportedNames.joined(separator: ", ")))"
        case .emptyVocabulary:
            "tokenizer.ggml.tokens is empty"
        case .countMismatch(let key, let expected, let found):
            "'\(key)' has \(found) entries, expected \(expected) (one per token)"
        case .invalidMerge(let index, let text):
            "tokenizer.ggml.merges[\(index)] = \"\(text)\" is not of the form \"left right\""
        case .specialIdOutOfRange(let key, let id, let size):
            "'\(key)' = \(id) is outside the vocabulary (size \(size))"
        }
    }
}
