import Core
import Datasets
import Evaluation
import Foundation
import Interp
import LanguageModels

/// A persona screen of finetuning data: the mean projection of a dataset's answers on a trait's
/// direction, to predict which data will push a model toward the trait before training on it
/// (after Chen et al.). Each example's last assistant turn is read by teacher forcing after the turns
/// before it, mean-pooled at one layer, and projected on the unit vector; for an SAE latent
/// (`sae:FOLDER#LATENT`), the latent's activation averaged over the answer's tokens.
public struct DatasetScreen: Sendable {
    public var vectors: LayerVectors
    public var layer: Int
    /// Examples read per dataset (the first ones; nil: all).
    public var limit: Int?
    public var maxAnswerTokens: Int?

    public init(vectors: LayerVectors, layer: Int, limit: Int? = 100, maxAnswerTokens: Int? = 512) {
        self.vectors = vectors
        self.layer = layer
        self.limit = limit
        self.maxAnswerTokens = maxAnswerTokens
    }

    public struct Row: Sendable {
        public var dataset: String
        public var projections: [Double]
        public var n: Int { projections.count }
        public var mean: Double { projections.reduce(0, +) / Double(max(n, 1)) }
        /// Mean and its 95 % normal interval.
        public var interval: (low: Double, high: Double) {
            guard n > 1 else { return (mean, mean) }
            let m = mean
            let sd = (projections.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(n - 1)).squareRoot()
            let half = 1.959963984540054 * sd / Double(n).squareRoot()
            return (m - half, m + half)
        }
        public var median: Double {
            let s = projections.sorted()
            guard !s.isEmpty else { return 0 }
            return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
        }
    }

    public func run(model: any WhiteBoxModel, datasets: [ChatDataset], progress: (any ProgressReporter)? = nil) async throws -> [Row] {
        try vectors.check(width: model.width, layerCount: model.layerCount, model: model.identity.spec)
        _ = try vectors.vector(layer: layer)   // a layer the file lacks is an error before anything is read
        var rows: [Row] = []
        for data in datasets {
            let items = Transcripts.dataset(data, limit: limit)
            var values: [Double] = []
            for (i, item) in items.enumerated() {
                values.append(try await vectors.reading(item, layer: layer, before: false, model: model, maxAnswerTokens: maxAnswerTokens))
                progress?.update(phase: "screen \(data.name)", done: i + 1, total: items.count)
            }
            if !items.isEmpty { progress?.finish(phase: "screen \(data.name)") }
            rows.append(Row(dataset: data.name, projections: values))
        }
        return rows
    }
}
