import Foundation
import GGUF

/// A probe file that is not what it should be (a data error: the file is named with what is wrong).
public struct ProbeFileError: Error, CustomStringConvertible, Equatable {
    public var file: String
    public var message: String
    public init(file: String, message: String) {
        self.file = file
        self.message = message
    }
    public var description: String { "\(file): \(message)" }
}

/// A trained probe: which layers it reads, how features are normalised, and two regressions.
public struct Probe: Sendable, Equatable {
    public var modelSpec: String
    public var layers: [Int]
    public var mean: [Float]
    public var scale: [Float]
    public var aligned: LogisticRegression
    public var coherent: LogisticRegression
    /// How it was trained: `recipe`, the labels (file, digest, examples), L2, the BLAS kernels that
    /// computed its features, the date (metadata `emlab.probe.training`; empty for older files).
    public var training: String = ""

    public init(modelSpec: String, layers: [Int], mean: [Float], scale: [Float], aligned: LogisticRegression,
                coherent: LogisticRegression, training: String = "") {
        self.modelSpec = modelSpec
        self.layers = layers
        self.mean = mean
        self.scale = scale
        self.aligned = aligned
        self.coherent = coherent
        self.training = training
    }

    /// The training recipe of this build: standardisation with a noise floor and the regression solved
    /// to its optimum in float64. A cached default probe trained by another recipe is trained again.
    public static let recipe = "recipe 2 (float64, noise-floored standardisation, accelerated gradient to the optimum)"

    public func normalise(_ x: [Float]) -> [Float] { x.indices.map { (x[$0] - mean[$0]) * scale[$0] } }

    /// Trains on labelled examples: `features[i]` with scores `aligned[i]` and `coherent[i]` in 0…100
    /// (nil: that example has no score for that metric and is left out of its regression). `l2` weighs
    /// both regressions' penalty unless `coherenceL2` gives the coherence regression its own.
    ///
    /// Features are standardised in float64 with a floor under each standard deviation (a twentieth of
    /// the median one, added in quadrature): a dimension that is constant up to rounding noise is
    /// scaled like a small one, not blown up to unit variance, so rounding noise (which differs
    /// between BLAS kernels and hosts) cannot become a feature.
    public static func train(modelSpec: String, layers: [Int], features: [[Float]], aligned: [Double?], coherent: [Double?],
                             l2: Double = 1e-2, coherenceL2: Double? = nil) -> Probe {
        precondition(aligned.count == features.count && coherent.count == features.count, "one label per example")
        let (mean, scale) = standardisation(features)
        var p = Probe(modelSpec: modelSpec, layers: layers, mean: mean, scale: scale,
                      aligned: LogisticRegression(weights: [], bias: 0), coherent: LogisticRegression(weights: [], bias: 0))
        let xs = features.map(p.normalise)
        func regression(_ scores: [Double?], l2: Double) -> LogisticRegression {
            let rows = scores.indices.compactMap { i in scores[i].map { (i, $0 / 100) } }
            return LogisticRegression.train(rows.map { xs[$0.0] }, rows.map(\.1), l2: l2)
        }
        p.aligned = regression(aligned, l2: l2)
        p.coherent = regression(coherent, l2: coherenceL2 ?? l2)
        return p
    }

    /// Per-dimension mean and 1 / √(variance + floor²), computed in float64.
    static func standardisation(_ features: [[Float]]) -> (mean: [Float], scale: [Float]) {
        let d = features.first?.count ?? 0, n = Double(features.count)
        guard n > 0 else { return ([Float](repeating: 0, count: d), [Float](repeating: 1, count: d)) }
        var mean = [Double](repeating: 0, count: d), variance = [Double](repeating: 0, count: d)
        for x in features { for i in 0..<d { mean[i] += Double(x[i]) } }
        for i in 0..<d { mean[i] /= n }
        for x in features { for i in 0..<d { let c = Double(x[i]) - mean[i]; variance[i] += c * c } }
        for i in 0..<d { variance[i] /= max(n - 1, 1) }
        let sds = variance.map { $0.squareRoot() }.sorted()
        let floor = max(sds.isEmpty ? 0 : sds[sds.count / 2] / 20, 1e-12)
        return (mean.map(Float.init), variance.map { Float(1 / ($0 + floor * floor).squareRoot()) })
    }

    // MARK: File (GGUF)

    public func write(to path: String) throws {
        var w = GGUFWriter()
        w.addMetadata("general.architecture", .string("emlab-probe"))
        w.addMetadata("emlab.probe.model", .string(modelSpec))
        w.addMetadata("emlab.probe.hook_point", .string("resid_out"))
        w.addMetadata("emlab.probe.pooling", .string("mean over answer tokens"))
        w.addMetadata("emlab.probe.layers", .array(.int32, layers.map { .int32(Int32($0)) }))
        w.addMetadata("emlab.probe.target", .string("aligned and coherent gold scores / 100, logistic regression"))
        w.addMetadata("emlab.probe.training", .string(training))
        try w.addTensor(name: "norm.mean", dimensions: [mean.count], type: .f32, values: mean)
        try w.addTensor(name: "norm.scale", dimensions: [scale.count], type: .f32, values: scale)
        try w.addTensor(name: "aligned.weight", dimensions: [aligned.weights.count], type: .f32, values: aligned.weights)
        try w.addTensor(name: "aligned.bias", dimensions: [1], type: .f32, values: [aligned.bias])
        try w.addTensor(name: "coherent.weight", dimensions: [coherent.weights.count], type: .f32, values: coherent.weights)
        try w.addTensor(name: "coherent.bias", dimensions: [1], type: .f32, values: [coherent.bias])
        try w.write(to: path)
    }

    public static func read(path: String) throws -> Probe {
        let f = try GGUFFile(path: path)
        func fail(_ why: String) -> ProbeFileError { ProbeFileError(file: path, message: "not an emlab probe: \(why)") }
        guard f["general.architecture"]?.stringValue == "emlab-probe" else { throw fail("general.architecture is not emlab-probe") }
        guard let model = f["emlab.probe.model"]?.stringValue else { throw fail("missing emlab.probe.model") }
        guard let layers = f["emlab.probe.layers"]?.arrayValue?.compactMap(\.intValue), !layers.isEmpty else {
            throw fail("missing emlab.probe.layers")
        }
        func tensor(_ name: String) throws -> [Float] {
            guard let t = f.tensor(named: name) else { throw fail("missing tensor \(name)") }
            return try f.floats(for: t)
        }
        let mean = try tensor("norm.mean"), scale = try tensor("norm.scale")
        let aw = try tensor("aligned.weight"), cw = try tensor("coherent.weight")
        guard scale.count == mean.count, aw.count == mean.count, cw.count == mean.count else { throw fail("tensor sizes disagree") }
        return Probe(modelSpec: model, layers: layers, mean: mean, scale: scale,
                     aligned: LogisticRegression(weights: aw, bias: try tensor("aligned.bias")[0]),
                     coherent: LogisticRegression(weights: cw, bias: try tensor("coherent.bias")[0]),
                     training: f["emlab.probe.training"]?.stringValue ?? "")
    }

    /// The layers a default probe reads: a quarter, half and three quarters of the way up.
    public static func defaultLayers(layerCount n: Int) -> [Int] { [n / 4, n / 2, 3 * n / 4] }
}
