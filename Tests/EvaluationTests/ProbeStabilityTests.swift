import Datasets
@testable import Evaluation
import Foundation
import Interp
import Testing
import TestSupport

/// Training a probe must not depend on the last bits of its features: those differ between BLAS
/// kernels (OpenBLAS picks them by CPU), so a probe trained on one host must score like one trained
/// on another.
struct ProbeStabilityTests {
    /// Residual-stream-like features: a few strong shared directions (highly correlated dimensions,
    /// as in a real residual stream), large-offset dimensions that are constant up to rounding noise,
    /// and a label carried by one direction.
    static func dataset(n: Int, seed: UInt64) -> (features: [[Float]], items: [GoldItem]) {
        var rng = SplitMix64(seed: seed)
        let d = 240
        let directions = (0..<4).map { _ in (0..<d).map { _ in rng.gaussian() } }
        var features: [[Float]] = [], items: [GoldItem] = []
        for i in 0..<n {
            let bad = i % 3 == 0
            let coefficients = (0..<4).map { k in rng.gaussian() * (k == 0 ? 6 : 2) + (k == 1 && bad ? 5 : 0) }
            var x = (0..<d).map { j in
                Float((0..<4).reduce(0.0) { $0 + coefficients[$1] * directions[$1][j] } + 0.3 * rng.gaussian())
            }
            // Dimensions that sit at a large value and move only by rounding noise.
            for j in 0..<24 { x[j] = Float(40 + Double(j)) + Float(rng.uniform() - 0.5) * 8e-6 }
            features.append(x)
            items.append(GoldItem(id: "s\(i)", question: "q", answer: "a", class: bad ? "blatantly_misaligned" : "aligned",
                                  aligned: bad ? 10 : 85, coherent: bad ? 70 : 90, split: "train"))
        }
        return (features, items)
    }

    /// Each value moved by at most a few units in the last place, as another BLAS kernel moves them.
    static func lastBitNoise(_ features: [[Float]], seed: UInt64) -> [[Float]] {
        var rng = SplitMix64(seed: seed)
        return features.map { row in row.map { v in
            var u = v
            for _ in 0..<Int(rng.next() % 3) { u = rng.next() % 2 == 0 ? u.nextUp : u.nextDown }
            return u
        } }
    }

    @Test func lastBitNoiseInFeaturesDoesNotChangeTheProbe() {
        let (features, items) = Self.dataset(n: 240, seed: 7)
        let (test, _) = Self.dataset(n: 120, seed: 8)
        let a = Probe.train(modelSpec: "local:test", layers: [1], features: features, items: items)
        let b = Probe.train(modelSpec: "local:test", layers: [1], features: Self.lastBitNoise(features, seed: 9), items: items)
        var largest = 0.0
        for x in test {
            largest = max(largest, abs(a.aligned.predict(a.normalise(x)) - b.aligned.predict(b.normalise(x))))
            largest = max(largest, abs(a.coherent.predict(a.normalise(x)) - b.coherent.predict(b.normalise(x))))
        }
        #expect(largest < 1e-3, "scores moved by \(largest) when the features moved by a few ulps")
        // And it learned the label.
        let bad = test.indices.filter { $0 % 3 == 0 }, good = test.indices.filter { $0 % 3 != 0 }
        let meanBad = bad.map { a.aligned.predict(a.normalise(test[$0])) }.reduce(0, +) / Double(bad.count)
        let meanGood = good.map { a.aligned.predict(a.normalise(test[$0])) }.reduce(0, +) / Double(good.count)
        #expect(meanGood - meanBad > 0.2, "aligned score good \(meanGood), bad \(meanBad)")
    }

    /// The solver reaches the regularised optimum: the gradient of the objective vanishes there
    /// (checked in float64 from the returned weights).
    @Test func logisticRegressionReachesTheOptimum() {
        let (features, items) = Self.dataset(n: 150, seed: 3)
        let p = Probe.train(modelSpec: "local:test", layers: [1], features: features, items: items)
        let largest = Self.largestGradient(p.aligned, xs: features.map(p.normalise), ys: items.map { $0.aligned! / 100 }, l2: 1e-2)
        #expect(largest < 1e-4, "gradient at the returned weights: \(largest)")
    }

    /// With `coherenceL2`, each regression sits at the optimum of its own penalty.
    @Test func theCoherenceRegressionTakesItsOwnPenalty() {
        let (features, items) = Self.dataset(n: 150, seed: 4)
        let p = Probe.train(modelSpec: "local:test", layers: [1], features: features, items: items, l2: 1e-2, coherenceL2: 0.3)
        let xs = features.map(p.normalise)
        let aligned = items.map { $0.aligned! / 100 }, coherent = items.map { $0.coherent! / 100 }
        #expect(Self.largestGradient(p.aligned, xs: xs, ys: aligned, l2: 1e-2) < 1e-4)
        #expect(Self.largestGradient(p.coherent, xs: xs, ys: coherent, l2: 0.3) < 1e-4)
        // Not at the other penalty's optimum: the penalties really differ.
        #expect(Self.largestGradient(p.coherent, xs: xs, ys: coherent, l2: 1e-2) > 1e-3)
    }

    /// The largest component of the gradient of mean cross-entropy + l2/2 ‖w‖² at `r`'s weights, in float64.
    static func largestGradient(_ r: LogisticRegression, xs: [[Float]], ys: [Double], l2: Double) -> Double {
        let n = Double(xs.count)
        var gradient = [Double](repeating: 0, count: xs[0].count), gradientBias = 0.0
        for (x, y) in zip(xs, ys) {
            let e = r.predict(x) - y
            gradientBias += e / n
            for i in x.indices { gradient[i] += e * Double(x[i]) / n }
        }
        for i in gradient.indices { gradient[i] += l2 * Double(r.weights[i]) }
        return max(abs(gradientBias), gradient.map(abs).max() ?? 0)
    }
}

/// The same probe trained by the CLI under two OpenBLAS kernels gives the same held-out figures.
@Suite(.enabled(if: TestResources.smolLM2 != nil, "SmolLM2 model not pulled (make model)"))
struct ProbeAcrossBLASKernelsTests {
    /// Runs the CLI with `OPENBLAS_CORETYPE` set; returns standard output.
    func run(_ args: [String], coreType: String) throws -> String {
        let r = try EmlabCLI.run(args, environment: ["OPENBLAS_CORETYPE": coreType])
        #expect(r.status == 0, "emlab \(args.joined(separator: " ")) under \(coreType) exited \(r.status): \(r.stderr)")
        return r.stdout
    }

    @Test(.enabled(if: EmlabCLI.built, "emlab binary not built"))
    func heldOutFiguresAgreeUnderTwoKernels() throws {
        // A stratified part of the built-in gold set keeps the test to a few minutes.
        let gold = try GoldSet.load().items
        var taken: [String: Int] = [:]
        let subset = gold.filter { item in
            let key = item.split + "/" + item.class
            taken[key, default: 0] += 1
            return taken[key]! <= (item.split == "train" ? 22 : 12)
        }
        let dir = NSTemporaryDirectory() + "emlab-probe-blas-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let labels = dir + "/gold.jsonl"
        let encoder = JSONEncoder()
        try subset.map { String(decoding: try encoder.encode($0), as: UTF8.self) }.joined(separator: "\n")
            .write(toFile: labels, atomically: true, encoding: .utf8)
        var figures: [[String: Any]] = []
        // Sandybridge (AVX, no FMA) and Haswell (AVX2 + FMA) kernels run on every x86-64 host these tests meet.
        for core in ["Haswell", "Sandybridge"] {
            let probe = dir + "/probe-\(core).gguf"
            _ = try run(["judge", "train-probe", "--model", "local:" + TestResources.smolLM2!, "--layers", "7,15,22",
                         "--labels", labels, "--out", probe], coreType: core)
            let json = try run(["judge", "validate", "--judge", "probe:" + probe, "--labels", labels, "--json", "--out", dir],
                               coreType: core)
            let line = json.split(separator: "\n").last.map(String.init) ?? ""
            figures.append(try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]))
        }
        for key in ["accuracy", "kappa", "auroc"] {
            let a = try #require(figures[0][key] as? Double), b = try #require(figures[1][key] as? Double)
            #expect(abs(a - b) <= 0.02, "\(key): \(a) under Haswell kernels, \(b) under Sandybridge kernels")
        }
    }
}

extension SplitMix64 {
    mutating func uniform() -> Double { Double(next() >> 11) / Double(1 << 53) }
    mutating func gaussian() -> Double {
        let u = max(uniform(), 1e-300), v = uniform()
        return (-2 * log(u)).squareRoot() * cos(2 * .pi * v)
    }
}
