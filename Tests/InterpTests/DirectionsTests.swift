import Foundation
import Interp
import Testing
import TestSupport

/// Mean differences, projections, Cohen's d and AUROC against independent float64 recomputations.
@Suite struct DirectionsTests {
    /// AUROC by brute force: every (positive, negative) pair, ties one half.
    static func bruteAUROC(_ p: [Double], _ n: [Double]) -> Double {
        var s = 0.0
        for a in p { for b in n { s += a > b ? 1 : a == b ? 0.5 : 0 } }
        return s / Double(p.count * n.count)
    }

    @Test func aurocEqualsThePairCount() {
        var rng = SplitMix64(seed: 11)
        for trial in 0..<20 {
            // Values on a coarse grid so that ties happen.
            let p = (0..<(3 + trial)).map { _ in Double(rng.next() % 7) }
            let n = (0..<(5 + trial % 4)).map { _ in Double(rng.next() % 7) - 1 }
            #expect(abs(ROC.auroc(positives: p, negatives: n)! - Self.bruteAUROC(p, n)) < 1e-12)
        }
        #expect(ROC.auroc(positives: [], negatives: [1]) == nil)
        #expect(ROC.auroc(positives: [2, 3], negatives: [0, 1]) == 1)
        let iv = ROC.interval(auroc: 0.8, positives: 30, negatives: 40)
        #expect(iv.low < 0.8 && iv.high > 0.8 && iv.low > 0.6 && iv.high < 0.95)
    }

    @Test func meanDifferenceAndProjectionInFloat64() {
        var rng = SplitMix64(seed: 3)
        func vec() -> [Float] { (0..<16).map { _ in Float(Int(rng.next() % 2001) - 1000) / 37 } }
        let a = (0..<9).map { _ in vec() }, b = (0..<6).map { _ in vec() }
        let d = Directions.meanDifference(a, b)!
        for i in 0..<16 {
            let ma = a.reduce(0.0) { $0 + Double($1[i]) } / 9, mb = b.reduce(0.0) { $0 + Double($1[i]) } / 6
            #expect(d[i] == Float(ma - mb))
        }
        let x = vec()
        let norm = d.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        let expected = zip(x, d).reduce(0.0) { $0 + Double($1.0) * Double($1.1) } / norm
        #expect(abs(Directions.projection(x, onto: d) - expected) < 1e-9 * max(1, abs(expected)))
        #expect(Directions.projection(x, onto: [Float](repeating: 0, count: 16)) == 0)
    }

    @Test func cohensDOfKnownGroups() {
        // Means 2 and 0, each with sample variance 1: d = 2.
        #expect(abs(Directions.cohensD([1, 2, 3], [-1, 0, 1])! - 2) < 1e-12)
        #expect(Directions.cohensD([1], [0, 1]) == nil)
    }

    /// Two well-separated clouds: held-out separation is large; two draws of one cloud: small.
    @Test func separationIsHeldOut() {
        var rng = SplitMix64(seed: 5)
        func noise() -> Float { Float(Int(rng.next() % 1001) - 500) / 500 }
        let shift: [Float] = (0..<32).map { $0 == 3 ? 4 : 0 }
        let p = (0..<40).map { _ in (0..<32).map { shift[$0] + noise() } }
        let n = (0..<40).map { _ in (0..<32).map { _ in noise() } }
        let s = Directions.separation(p, n)
        #expect(s.crossValidated)
        #expect(s.auroc! > 0.99 && s.cohensD! > 3)
        let same = Directions.separation(Array(n.prefix(20)), Array(n.suffix(20)))
        #expect(abs(same.auroc! - 0.5) < 0.3)
    }
}
