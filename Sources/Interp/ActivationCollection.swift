import Core
import Foundation
import LanguageModels
import Safetensors

/// A transcript whose activations are read: the messages up to the reply, and the reply (nil: the
/// prompt alone).
public struct ActivationItem: Sendable, Equatable {
    public var id: String
    public var messages: [ChatMessage]
    public var answer: String?
    public init(id: String, messages: [ChatMessage], answer: String?) {
        self.id = id
        self.messages = messages
        self.answer = answer
    }
}

/// A transcript that cannot be read the way asked (a usage mistake: the message says what to change).
public struct ActivationCollectionError: Error, CustomStringConvertible, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Reads activations of many transcripts (teacher forcing through `WhiteBoxModel.activations`) and
/// streams them to safetensors shards, so memory stays flat in the number of transcripts.
///
/// The files hold, per row: `activations` (`[rows, layers, width]`, F32 or F16), `sample` (I64: the
/// transcript's index in the collection) and `prompt_tokens` (I64: its prompt's length), and with
/// every-position pooling `position` (I64: the token's position; positions at or after
/// `prompt_tokens` are the answer's). Pooled collections have one row per transcript. The metadata
/// names the format (`emlab.format` = `emlab-activations/1`), hook, layers, pooling, width and count,
/// plus what the caller adds (model, its file's digest, the source); each shard lists its
/// transcripts' ids (`shard.keys`).
public struct ActivationCollection: Sendable {
    public static let format = "emlab-activations/1"

    public var hook: HookKind
    public var layers: [Int]
    public var pooling: Pooling
    /// F32 or F16 (BF16 works too).
    public var dtype: SafetensorsDType
    /// Longer answers are cut to this many tokens.
    public var maxAnswerTokens: Int?
    public var maxShardBytes: Int
    /// Edits applied while reading (steered or ablated activations).
    public var interventions: [Intervention]

    public init(hook: HookKind = .residualOut, layers: [Int], pooling: Pooling, dtype: SafetensorsDType = .f32,
                maxAnswerTokens: Int? = nil, maxShardBytes: Int = 256 << 20, interventions: [Intervention] = []) {
        self.hook = hook
        self.layers = layers
        self.pooling = pooling
        self.dtype = dtype
        self.maxAnswerTokens = maxAnswerTokens
        self.maxShardBytes = maxShardBytes
        self.interventions = interventions
    }

    var captures: [ActivationCapture] { layers.map { ActivationCapture(hook.point(layer: $0), pooling: pooling) } }

    /// The activations of one transcript: one row per layer (pooled: one vector each; every
    /// position: one per position). An answer-mean of an answer without tokens reads a single space
    /// instead (as probes do).
    public func read(_ item: ActivationItem, model: any WhiteBoxModel) async throws -> [CapturedActivations] {
        if pooling == .answerMean && item.answer == nil {
            throw ActivationCollectionError("\(item.id) has no answer, so it has no answer-mean: pool prompt-last or all for prompts alone")
        }
        var recorded = try await model.activations(messages: item.messages, answer: item.answer ?? "", captures: captures,
                                                   interventions: interventions, maxAnswerTokens: maxAnswerTokens)
        if pooling == .answerMean, recorded.contains(where: { $0.vectors.isEmpty }) {
            recorded = try await model.activations(messages: item.messages, answer: (item.answer ?? "") + " ", captures: captures,
                                                   interventions: interventions, maxAnswerTokens: maxAnswerTokens)
        }
        return recorded
    }

    /// Reads every item and writes the collection to `path` (sharded past `maxShardBytes`); returns
    /// the files written.
    @discardableResult
    public func collect(model: any WhiteBoxModel, items: [ActivationItem], path: String, metadata: [String: String] = [:],
                        progress: (@Sendable (Int, Int) -> Void)? = nil) async throws -> [SafetensorsShardWriter.Shard] {
        if let bad = layers.first(where: { $0 >= model.layerCount }) {
            throw ActivationCollectionError("layer \(bad) is outside 0…\(model.layerCount - 1) of \(model.identity.spec)")
        }
        let width = model.width
        var meta = metadata
        meta["emlab.format"] = Self.format
        meta["emlab.hook"] = hook.rawValue
        meta["emlab.layers"] = "[" + layers.map(String.init).joined(separator: ",") + "]"
        meta["emlab.pooling"] = pooling.rawValue
        meta["emlab.width"] = "\(width)"
        meta["emlab.samples"] = "\(items.count)"
        meta["emlab.numerics"] = model.numerics
        var columns = [SafetensorsShardWriter.Column("activations", rowShape: [layers.count, width], dtype: dtype),
                       .init("sample", rowShape: [], dtype: .i64), .init("prompt_tokens", rowShape: [], dtype: .i64)]
        if pooling == .everyPosition { columns.append(.init("position", rowShape: [], dtype: .i64)) }
        let writer = try SafetensorsShardWriter(path: path, columns: columns, metadata: meta, maxShardBytes: maxShardBytes)
        for (index, item) in items.enumerated() {
            let recorded = try await read(item, model: model)
            let promptTokens = Int64(try model.promptTokenCount(item.messages))
            let rows = recorded.first?.vectors.count ?? 0
            var values = [Float]()
            values.reserveCapacity(rows * layers.count * width)
            for r in 0..<rows { for c in recorded { values += c.vectors[r] } }
            var group: [SafetensorsShardWriter.Values] = [.floats(values), .integers(Array(repeating: Int64(index), count: rows)),
                                                          .integers(Array(repeating: promptTokens, count: rows))]
            if pooling == .everyPosition { group.append(.integers((0..<rows).map(Int64.init))) }
            try writer.append(rows: rows, group, key: item.id)
            progress?(index + 1, items.count)
        }
        return try writer.finish()
    }
}
