import Foundation

/// Scoring without sampling: how likely given texts are, and what the model would say next.
/// Prompts go through the generator's prefix cache, so a judge template's fixed head is computed once.
extension BatchGenerator {
    /// Log-probability of every token of each continuation after `prompt` (natural log).
    /// All continuations are computed in one batch that shares the prompt's KV cache.
    public func logProbabilities(prompt: [Int32], continuations: [[Int32]]) throws -> [[Float]] {
        guard !continuations.contains(where: \.isEmpty) else {
            throw BatchError.invalidRequest("empty continuation")
        }
        let (promptSequence, promptLogits) = try computePrompt(prompt)
        let vocab = engine.model.config.vocabularySize
        var out: [[Float]] = continuations.map { c in
            [promptLogits.withUnsafeBufferPointer { LogSoftmax.value($0, at: c[0]) }]
        }
        var batch = Batch()
        batch.independentRows = true   // each continuation's numbers independent of the others
        var rowOwner: [(continuation: Int, token: Int)] = []
        for (i, c) in continuations.enumerated() where c.count > 1 {
            let seq = promptSequence.fork(reserve: c.count)
            batch.append(Array(c.dropLast()), to: seq, logitsForAll: true)
            for k in 1..<c.count { rowOwner.append((i, k)) }
        }
        if batch.count > 0 {
            let logits = try engine.model.forward(batch, hooks: nil)
            for (row, owner) in rowOwner.enumerated() {
                let slice = UnsafeBufferPointer(rebasing: logits[(row * vocab)..<((row + 1) * vocab)])
                out[owner.continuation].append(LogSoftmax.value(slice, at: continuations[owner.continuation][owner.token]))
            }
        }
        return out
    }

    /// Natural-log probabilities of the whole vocabulary for the token after each prompt.
    public func nextTokenLogProbabilities(_ prompts: [[Int32]]) throws -> [[Float]] {
        try prompts.map { p in
            let (_, logits) = try computePrompt(p)
            return logits.withUnsafeBufferPointer { LogSoftmax.all($0) }
        }
    }

    /// The `k` most likely next tokens after each prompt, most likely first, with natural-log probabilities.
    public func topNextTokens(_ prompts: [[Int32]], k: Int) throws -> [[(token: Int32, logProbability: Float)]] {
        try nextTokenLogProbabilities(prompts).map { lp in
            var best: [(token: Int32, logProbability: Float)] = []
            best.reserveCapacity(k + 1)
            for (i, v) in lp.enumerated() where best.count < k || v > best[best.count - 1].logProbability {
                let at = best.firstIndex { v > $0.logProbability } ?? best.count
                best.insert((Int32(i), v), at: at)
                if best.count > k { best.removeLast() }
            }
            return best
        }
    }
}

enum LogSoftmax {
    static func logSumExp(_ x: UnsafeBufferPointer<Float>) -> Float {
        var m = -Float.infinity
        for v in x where v > m { m = v }
        var s: Double = 0
        for v in x { s += Double(exp(v - m)) }
        return m + Float(log(s))
    }

    static func value(_ x: UnsafeBufferPointer<Float>, at i: Int32) -> Float { x[Int(i)] - logSumExp(x) }

    static func all(_ x: UnsafeBufferPointer<Float>) -> [Float] {
        let z = logSumExp(x)
        return x.map { $0 - z }
    }
}
