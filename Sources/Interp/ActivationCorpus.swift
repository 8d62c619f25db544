import Foundation
import LanguageModels
import Safetensors

/// A corpus of one layer's residual activations for training sparse autoencoders: sources taken in
/// order until a token budget is reached, one activation file per source in a folder (every token's
/// vector, f16). A source whose file exists counts as collected and is skipped, so a killed run
/// continues where it stopped; the source that crosses the budget is cut to it.
public struct ActivationCorpus: Sendable {
    /// A named source; its items are built only when it is collected (a model's own answers take
    /// minutes, and a finished source costs nothing on a rerun).
    public struct Source: Sendable {
        public let name: String
        public let items: @Sendable () async throws -> [ActivationItem]
        public init(name: String, items: @escaping @Sendable () async throws -> [ActivationItem]) {
            self.name = name
            self.items = items
        }
    }

    /// What happened to one source.
    public struct Outcome: Sendable, Equatable {
        public let name: String
        public let path: String
        /// Transcripts read this time (0 when the file was already there).
        public let transcripts: Int
        public let vectors: Int
        public let alreadyCollected: Bool
    }

    public let folder: String
    public let layer: Int
    /// Stop after about this many token vectors.
    public let tokens: Int
    /// Answers are cut to this many tokens when read.
    public let maxAnswerTokens: Int

    public init(folder: String, layer: Int, tokens: Int, maxAnswerTokens: Int = 512) {
        self.folder = folder
        self.layer = layer
        self.tokens = tokens
        self.maxAnswerTokens = maxAnswerTokens
    }

    /// The file a source's vectors go to.
    public func path(of source: String) -> String { (folder as NSString).appendingPathComponent(source + ".safetensors") }

    /// Collects `sources` in order until the budget is spent. `metadata` goes into every file (with
    /// `emlab.source`); `progress` is called while a source is read, `finished` as each one is done.
    public func collect(sources: [Source], model: any WhiteBoxModel, metadata: [String: String] = [:],
                        progress: (@Sendable (String, Int, Int) -> Void)? = nil,
                        finished: ((Outcome) -> Void)? = nil) async throws -> [Outcome] {
        guard layer >= 0, layer < model.layerCount else {
            throw ActivationCollectionError("layer \(layer) is outside 0…\(model.layerCount - 1) of \(model.identity.spec)")
        }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let collection = ActivationCollection(hook: .residualOut, layers: [layer], pooling: .everyPosition, dtype: .f16,
                                              maxAnswerTokens: maxAnswerTokens)
        var outcomes: [Outcome] = []
        var collected = 0
        for source in sources {
            let path = path(of: source.name)
            if let existing = try? SafetensorsShardWriter.files(at: path) {
                let rows = existing.reduce(0) { $0 + ($1.tensor(named: "sample")?.shape.first ?? 0) }
                collected += rows
                outcomes.append(Outcome(name: source.name, path: path, transcripts: 0, vectors: rows, alreadyCollected: true))
                finished?(outcomes.last!)
                continue
            }
            guard collected < tokens else { break }
            var list = try await source.items()
            // Cut the list where the token budget runs out.
            var budget = tokens - collected, keep = 0
            for item in list {
                guard budget > 0 else { break }
                budget -= try model.promptTokenCount(item.messages) + min(model.tokenCount(item.answer ?? ""), maxAnswerTokens)
                keep += 1
            }
            list = Array(list.prefix(keep))
            guard !list.isEmpty else { break }
            var meta = metadata
            meta["emlab.source"] = source.name
            let name = source.name
            let shards = try await collection.collect(model: model, items: list, path: path, metadata: meta) { d, t in
                progress?(name, d, t)
            }
            let rows = shards.reduce(0) { $0 + $1.rows }
            collected += rows
            outcomes.append(Outcome(name: source.name, path: path, transcripts: list.count, vectors: rows, alreadyCollected: false))
            finished?(outcomes.last!)
        }
        return outcomes
    }
}
