import Foundation
import Interp

/// A logistic regression over named signals (a probe's score and `AnswerSignals`), standardised:
/// p = σ(bias + Σ wᵢ (xᵢ − meanᵢ) · scaleᵢ).
public struct SignalHead: Sendable, Codable, Equatable {
    public var signals: [String]
    public var mean: [Double]
    public var scale: [Double]
    public var weights: [Double]
    public var bias: Double

    public init(signals: [String], mean: [Double], scale: [Double], weights: [Double], bias: Double) {
        self.signals = signals
        self.mean = mean
        self.scale = scale
        self.weights = weights
        self.bias = bias
    }

    /// The probability for signal values given in `signals` order.
    public func predict(_ values: [Double]) -> Double {
        var z = bias
        for i in weights.indices { z += weights[i] * (values[i] - mean[i]) * scale[i] }
        return 1 / (1 + exp(-z))
    }

    /// Fits the head on rows of signal values with targets in [0, 1] (L2 on the weights, not the bias).
    public static func train(signals: [String], rows: [[Double]], targets: [Double], l2: Double) -> SignalHead {
        let d = signals.count, n = Double(max(rows.count, 1))
        var mean = [Double](repeating: 0, count: d), variance = [Double](repeating: 0, count: d)
        for r in rows { for i in 0..<d { mean[i] += r[i] / n } }
        for r in rows { for i in 0..<d { variance[i] += (r[i] - mean[i]) * (r[i] - mean[i]) / max(n - 1, 1) } }
        let scale = variance.map { $0 > 1e-12 ? 1 / $0.squareRoot() : 1 }
        let xs = rows.map { r in (0..<d).map { Float((r[$0] - mean[$0]) * scale[$0]) } }
        let fit = LogisticRegression.train(xs, targets, l2: l2)
        return SignalHead(signals: signals, mean: mean, scale: scale, weights: fit.weights.map(Double.init), bias: Double(fit.bias))
    }
}

/// What a probe file does not hold, kept beside it as `FILE.card.json` (the default probes have one):
/// the head that turns the probe's coherence reading and the answer's signals into the coherence
/// score, and the probe's figures on both gold sets' held-out splits, measured when it was trained.
///
/// A card belongs to one training of its probe (`training` equals the probe's record); a card of
/// another training is ignored.
public struct ProbeCard: Sendable, Codable, Equatable {
    /// The probe's training record (`Probe.training`) this card belongs to.
    public var training: String
    /// Coherence from `probe_coherent` (the probe's coherence logit) and `AnswerSignals`; nil: the
    /// probe's own coherence score.
    public var coherence: SignalHead?
    /// How the card's head was fitted (data, folds, L2).
    public var coherenceTraining: String?
    /// Held-out figures on each gold set, with the digest of the gold file they were measured on.
    public var validation: [Measured]

    public struct Measured: Sendable, Codable, Equatable {
        public var digest: String
        public var figures: ValidationFigures
        public init(digest: String, figures: ValidationFigures) {
            self.digest = digest
            self.figures = figures
        }
    }

    public init(training: String, coherence: SignalHead?, coherenceTraining: String? = nil, validation: [Measured] = []) {
        self.training = training
        self.coherence = coherence
        self.coherenceTraining = coherenceTraining
        self.validation = validation
    }

    /// The card file of a probe file.
    public static func path(forProbe file: String) -> String {
        (file.hasSuffix(".gguf") ? String(file.dropLast(5)) : file) + ".card.json"
    }

    /// The card beside `file` if there is one and it belongs to `probe`'s training.
    public static func read(forProbe file: String, probe: Probe) throws -> ProbeCard? {
        let path = path(forProbe: file)
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let card: ProbeCard
        do { card = try JSONDecoder().decode(ProbeCard.self, from: Data(contentsOf: URL(fileURLWithPath: path))) } catch {
            throw ProbeFileError(file: path, message: "not a probe card: \(error)")
        }
        return card.training == probe.training ? card : nil
    }

    public func write(forProbe file: String) throws {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try e.encode(self).write(to: URL(fileURLWithPath: Self.path(forProbe: file)), options: .atomic)
    }

    /// The figures measured on gold set `set` when its file had `digest`.
    public func validation(set: GoldSet.Builtin, digest: String) -> ValidationFigures? {
        validation.first { $0.digest == digest && $0.figures.set == set.rawValue }?.figures
    }
}
