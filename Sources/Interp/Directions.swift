import Foundation

/// Directions in activation space from two groups of vectors, and how well they separate the groups.
/// Sums are taken in float64, so the result does not depend on the order vectors come in beyond
/// rounding at the last bit of a double.
public enum Directions {
    /// Running sum of vectors of one width, in float64.
    public struct Mean: Sendable {
        public private(set) var sum: [Double]
        public private(set) var count = 0
        public init(width: Int) { sum = [Double](repeating: 0, count: width) }
        public mutating func add(_ x: [Float]) {
            precondition(x.count == sum.count, "vector of width \(x.count) added to a mean of width \(sum.count)")
            for i in sum.indices { sum[i] += Double(x[i]) }
            count += 1
        }
        /// nil when nothing was added.
        public var value: [Double]? { count > 0 ? sum.map { $0 / Double(count) } : nil }
    }

    /// mean(positive) − mean(negative), computed in float64 and rounded once.
    public static func meanDifference(_ positive: [[Float]], _ negative: [[Float]]) -> [Float]? {
        guard let w = positive.first?.count ?? negative.first?.count else { return nil }
        var p = Mean(width: w), n = Mean(width: w)
        positive.forEach { p.add($0) }
        negative.forEach { n.add($0) }
        guard let a = p.value, let b = n.value else { return nil }
        return zip(a, b).map { Float($0 - $1) }
    }

    public static func dot(_ a: [Float], _ b: [Float]) -> Double {
        var s = 0.0
        for i in a.indices { s += Double(a[i]) * Double(b[i]) }
        return s
    }

    public static func norm(_ a: [Float]) -> Double { dot(a, a).squareRoot() }

    /// The projection of `x` on the unit vector along `direction` (0 for a zero direction).
    public static func projection(_ x: [Float], onto direction: [Float]) -> Double {
        let n = norm(direction)
        return n > 0 ? dot(x, direction) / n : 0
    }

    /// Cohen's d: the difference of the means over the pooled standard deviation (nil with fewer
    /// than two values in a group or no spread at all).
    public static func cohensD(_ a: [Double], _ b: [Double]) -> Double? {
        guard a.count >= 2, b.count >= 2 else { return nil }
        func stats(_ x: [Double]) -> (mean: Double, ss: Double) {
            let m = x.reduce(0, +) / Double(x.count)
            return (m, x.reduce(0) { $0 + ($1 - m) * ($1 - m) })
        }
        let (ma, sa) = stats(a), (mb, sb) = stats(b)
        let pooled = ((sa + sb) / Double(a.count + b.count - 2)).squareRoot()
        return pooled > 0 ? (ma - mb) / pooled : nil
    }

    /// How well the mean-difference direction separates two groups, measured on held-out vectors:
    /// two folds (alternate vectors of each group), the direction taken from one fold and the
    /// projections of the other fold scored, both ways; the figures are the folds' means. With fewer
    /// than two vectors per group in a fold, the in-sample figures are given instead
    /// (`crossValidated` false).
    public struct Separation: Sendable, Equatable, Codable {
        /// Cohen's d of the projections.
        public var cohensD: Double?
        /// AUROC of the projections (positive group high).
        public var auroc: Double?
        public var crossValidated: Bool
    }

    public static func separation(_ positive: [[Float]], _ negative: [[Float]]) -> Separation {
        func score(train p: [[Float]], _ n: [[Float]], test tp: [[Float]], _ tn: [[Float]]) -> (Double?, Double?) {
            guard let d = meanDifference(p, n) else { return (nil, nil) }
            let a = tp.map { projection($0, onto: d) }, b = tn.map { projection($0, onto: d) }
            return (cohensD(a, b), ROC.auroc(positives: a, negatives: b))
        }
        func fold(_ x: [[Float]], _ k: Int) -> [[Float]] { x.enumerated().filter { $0.offset % 2 == k }.map(\.element) }
        let (p0, p1, n0, n1) = (fold(positive, 0), fold(positive, 1), fold(negative, 0), fold(negative, 1))
        guard min(p0.count, p1.count, n0.count, n1.count) >= 2 else {
            let (d, a) = score(train: positive, negative, test: positive, negative)
            return Separation(cohensD: d, auroc: a, crossValidated: false)
        }
        let (d1, a1) = score(train: p0, n0, test: p1, n1), (d2, a2) = score(train: p1, n1, test: p0, n0)
        func mean(_ x: Double?, _ y: Double?) -> Double? { x.flatMap { x in y.map { (x + $0) / 2 } } }
        return Separation(cohensD: mean(d1, d2), auroc: mean(a1, a2), crossValidated: true)
    }
}

/// The area under the ROC curve, as the Mann–Whitney statistic.
public enum ROC {
    /// P(score of a random positive > score of a random negative), ties counting one half; nil when
    /// a group is empty. O(n log n) by ranks.
    public static func auroc(positives: [Double], negatives: [Double]) -> Double? {
        guard !positives.isEmpty, !negatives.isEmpty else { return nil }
        let all = (positives.map { ($0, true) } + negatives.map { ($0, false) }).sorted { $0.0 < $1.0 }
        // Mid-ranks (1-based) of tied groups; the sum of the positives' ranks gives U.
        var rankSum = 0.0
        var i = 0
        while i < all.count {
            var j = i
            while j + 1 < all.count && all[j + 1].0 == all[i].0 { j += 1 }
            let midRank = Double(i + j) / 2 + 1
            for k in i...j where all[k].1 { rankSum += midRank }
            i = j + 1
        }
        let np = Double(positives.count), nn = Double(negatives.count)
        return (rankSum - np * (np + 1) / 2) / (np * nn)
    }

    /// A 95 % interval for an AUROC by Hanley and McNeil's (1982) standard error, clipped to [0, 1].
    public static func interval(auroc a: Double, positives: Int, negatives: Int, z: Double = 1.959963984540054) -> (low: Double, high: Double) {
        guard positives > 0, negatives > 0 else { return (0, 1) }
        let q1 = a / (2 - a), q2 = 2 * a * a / (1 + a)
        let np = Double(positives), nn = Double(negatives)
        let variance = (a * (1 - a) + (np - 1) * (q1 - a * a) + (nn - 1) * (q2 - a * a)) / (np * nn)
        let se = max(variance, 0).squareRoot()
        return (max(0, a - z * se), min(1, a + z * se))
    }
}
