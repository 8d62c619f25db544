import GGUF

public enum ModelError: Error, CustomStringConvertible, Equatable {
    case unsupportedArchitecture(String)
    case missingMetadata(String)
    case invalidMetadata(key: String, reason: String)
    case missingTensor(String)
    case tensorShape(name: String, expected: [Int], found: [Int])
    case unsupportedTensorType(name: String, type: String)
    case contextOverflow(requested: Int, capacity: Int)
    case invalidToken(Int32, vocabulary: Int)
    case invalidHookVector(point: String, expected: Int, found: Int)
    case hookLayerOutOfRange(point: String, layers: Int)
    case invalidHook(String)
    case invalidBatch(String)

    public var description: String {
        switch self {
        case .unsupportedArchitecture(let a): return "unsupported model architecture '\(a)' (supported: llama, gemma3, qwen2)"
        case .missingMetadata(let k): return "GGUF metadata key '\(k)' is missing"
        case .invalidMetadata(let k, let r): return "GGUF metadata key '\(k)' is invalid: \(r)"
        case .missingTensor(let n): return "GGUF tensor '\(n)' is missing"
        case .tensorShape(let n, let e, let f): return "tensor '\(n)' has shape \(f), expected \(e)"
        case .unsupportedTensorType(let n, let t): return "tensor '\(n)' has type \(t), which the engine cannot compute with"
        case .contextOverflow(let r, let c): return "sequence needs \(r) positions but the context holds \(c)"
        case .invalidToken(let t, let v): return "token id \(t) is outside the vocabulary (size \(v))"
        case .invalidHookVector(let p, let e, let f): return "vector for hook \(p) has \(f) elements, expected \(e)"
        case .hookLayerOutOfRange(let p, let n): return "hook \(p) names a layer the model does not have (it has \(n))"
        case .invalidHook(let why): return why
        case .invalidBatch(let r): return "invalid batch: \(r)"
        }
    }
}

/// Hyper-parameters of a decoder-only transformer, read from `{arch}.*` GGUF keys.
public struct ModelConfig: Sendable, Equatable {
    public var architecture: String
    public var layerCount: Int
    public var embeddingLength: Int
    public var feedForwardLength: Int
    public var headCount: Int
    public var kvHeadCount: Int
    public var headDimension: Int
    public var contextLength: Int
    public var vocabularySize: Int
    public var ropeBase: Float
    public var ropeDimensions: Int
    public var rmsEpsilon: Float

    public var kvDimension: Int { kvHeadCount * headDimension }
    public var qDimension: Int { headCount * headDimension }

    public init(gguf: GGUFFile) throws {
        guard let arch = gguf["general.architecture"]?.stringValue else {
            throw ModelError.missingMetadata("general.architecture")
        }
        architecture = arch
        func int(_ key: String) throws -> Int {
            guard let v = gguf["\(arch).\(key)"] else { throw ModelError.missingMetadata("\(arch).\(key)") }
            guard let i = v.intValue, i > 0 else {
                throw ModelError.invalidMetadata(key: "\(arch).\(key)", reason: "expected a positive integer")
            }
            return i
        }
        func float(_ key: String, default d: Float? = nil) throws -> Float {
            guard let v = gguf["\(arch).\(key)"] else {
                if let d { return d }
                throw ModelError.missingMetadata("\(arch).\(key)")
            }
            guard let f = v.floatValue, f.isFinite, f > 0 else {
                throw ModelError.invalidMetadata(key: "\(arch).\(key)", reason: "expected a positive number")
            }
            return Float(f)
        }
        layerCount = try int("block_count")
        embeddingLength = try int("embedding_length")
        feedForwardLength = try int("feed_forward_length")
        headCount = try int("attention.head_count")
        kvHeadCount = gguf["\(arch).attention.head_count_kv"] == nil ? headCount : try int("attention.head_count_kv")
        contextLength = try int("context_length")
        headDimension = gguf["\(arch).attention.key_length"] == nil
            ? embeddingLength / headCount : try int("attention.key_length")
        ropeDimensions = gguf["\(arch).rope.dimension_count"] == nil ? headDimension : try int("rope.dimension_count")
        ropeBase = try float("rope.freq_base", default: 10_000)
        rmsEpsilon = try float("attention.layer_norm_rms_epsilon", default: 1e-5)
        if let v = gguf["\(arch).vocab_size"]?.intValue {
            vocabularySize = v
        } else if let tokens = gguf["tokenizer.ggml.tokens"]?.arrayValue {
            vocabularySize = tokens.count
        } else {
            throw ModelError.missingMetadata("\(arch).vocab_size")
        }
        guard headCount % kvHeadCount == 0 else {
            throw ModelError.invalidMetadata(key: "\(arch).attention.head_count_kv",
                                             reason: "\(kvHeadCount) does not divide head_count \(headCount)")
        }
        guard headDimension % 8 == 0, headCount / kvHeadCount <= 8 else {
            throw ModelError.invalidMetadata(key: "\(arch).attention.head_count",
                                             reason: "head dimension \(headDimension) must be a multiple of 8 and at most 8 query heads may share a KV head")
        }
        guard ropeDimensions <= headDimension, ropeDimensions % 2 == 0 else {
            throw ModelError.invalidMetadata(key: "\(arch).rope.dimension_count",
                                             reason: "\(ropeDimensions) must be even and at most the head dimension")
        }
    }
}
