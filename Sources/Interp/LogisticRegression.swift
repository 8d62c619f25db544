import Foundation

/// Logistic regression on standardised features, trained with soft targets in [0, 1].
public struct LogisticRegression: Sendable, Equatable {
    public var weights: [Float]
    public var bias: Float

    public init(weights: [Float], bias: Float) {
        self.weights = weights
        self.bias = bias
    }

    public func predict(_ x: [Float]) -> Double {
        var z = Double(bias)
        for i in weights.indices { z += Double(weights[i]) * Double(x[i]) }
        return 1 / (1 + exp(-z))
    }

    /// Minimises the mean cross-entropy plus `l2`/2 times the squared weights (the bias is not
    /// penalised), in float64.
    ///
    /// The objective is strictly convex, so it has one minimiser, and that minimiser moves little when
    /// the features move little. The solver runs to it: Nesterov-accelerated gradient descent with the
    /// step 1/L, where L bounds the gradient's Lipschitz constant (the largest eigenvalue of the
    /// features' second-moment matrix / 4, plus `l2`), until no gradient component exceeds `tolerance`.
    /// A fixed step that is too long for the data instead oscillates, and then the last bits of the
    /// features — which differ between BLAS kernels — decide where it stops.
    public static func train(_ xs: [[Float]], _ ys: [Double], l2: Double = 1e-2, tolerance: Double = 1e-6,
                             maxSteps: Int = 50_000) -> LogisticRegression {
        precondition(xs.count == ys.count, "one target per row")
        let n = xs.count, d = xs.first?.count ?? 0
        guard n > 0 else { return LogisticRegression(weights: [Float](repeating: 0, count: d), bias: 0) }
        // Rows with a trailing 1 for the bias, row-major, in float64.
        let width = d + 1
        var x = [Double](repeating: 1, count: n * width)
        for r in 0..<n { for i in 0..<d { x[r * width + i] = Double(xs[r][i]) } }
        let invN = 1 / Double(n)

        /// out = X v (n values); g = Xᵀ e / n (width values).
        func forward(_ v: [Double], _ out: inout [Double]) {
            x.withUnsafeBufferPointer { xp in
                for r in 0..<n {
                    var z = 0.0
                    let row = xp.baseAddress! + r * width
                    for i in 0..<width { z += row[i] * v[i] }
                    out[r] = z
                }
            }
        }
        func backward(_ e: [Double], _ g: inout [Double]) {
            for i in 0..<width { g[i] = 0 }
            x.withUnsafeBufferPointer { xp in
                g.withUnsafeMutableBufferPointer { gp in
                    for r in 0..<n {
                        let row = xp.baseAddress! + r * width, er = e[r] * invN
                        for i in 0..<width { gp[i] += er * row[i] }
                    }
                }
            }
        }

        // Largest eigenvalue of XᵀX / n by power iteration from a fixed start (deterministic).
        var v = [Double](repeating: 1 / Double(width).squareRoot(), count: width)
        var xv = [Double](repeating: 0, count: n), xtxv = [Double](repeating: 0, count: width)
        var lambda = 0.0
        for _ in 0..<100 {
            forward(v, &xv)
            backward(xv, &xtxv)
            let norm = xtxv.reduce(0) { $0 + $1 * $1 }.squareRoot()
            guard norm > 0 else { break }
            let previous = lambda
            lambda = norm
            for i in 0..<width { v[i] = xtxv[i] / norm }
            if abs(lambda - previous) <= 1e-6 * lambda { break }
        }
        // A margin over the estimate: power iteration approaches the eigenvalue from below.
        let lipschitz = 1.05 * lambda / 4 + l2
        let step = 1 / lipschitz
        let kappa = lipschitz / l2
        let momentum = (kappa.squareRoot() - 1) / (kappa.squareRoot() + 1)

        var w = [Double](repeating: 0, count: width)      // weights, then the bias
        var previous = w, look = w
        var z = [Double](repeating: 0, count: n), e = z, g = w
        for _ in 0..<maxSteps {
            forward(look, &z)
            for r in 0..<n { e[r] = 1 / (1 + exp(-z[r])) - ys[r] }
            backward(e, &g)
            for i in 0..<d { g[i] += l2 * look[i] }
            var largest = 0.0
            for i in 0..<width { largest = max(largest, abs(g[i])) }
            if largest <= tolerance { w = look; break }
            previous = w
            for i in 0..<width { w[i] = look[i] - step * g[i] }
            for i in 0..<width { look[i] = w[i] + momentum * (w[i] - previous[i]) }
        }
        return LogisticRegression(weights: w[0..<d].map(Float.init), bias: Float(w[d]))
    }
}
