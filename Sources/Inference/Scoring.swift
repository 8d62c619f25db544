import Core
import Foundation

/// Scoring without sampling: how likely given texts are, and what the model would say next.
/// Prompts go through the generator's prefix cache, so a judge template's fixed head is computed once.
extension BatchGenerator {
    /// Log-probability of every token of each continuation after `prompt` (natural log).
    /// All continuations are computed in one batch that shares the prompt's KV cache.
    public func logProbabilities(prompt: [Int32], continuations: [[Int32]], interventions: [Intervention] = []) throws -> [[Float]] {
        guard !continuations.contains(where: \.isEmpty) else {
            throw BatchError.invalidRequest("empty continuation")
        }
        let hooks = interventions.isEmpty ? nil : Hooks(interventions: interventions, captures: [], promptLength: prompt.count)
        let (promptSequence, promptLogits) = try computePrompt(prompt, hooks: hooks)
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
            let logits = try engine.model.forward(batch, hooks: hooks)
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
    public func topNextTokens(_ prompts: [[Int32]], k: Int) throws -> [[TokenProbability]] {
        try nextTokenLogProbabilities(prompts).map { lp in lp.withUnsafeBufferPointer { LogSoftmax.top($0, k: k) } }
    }

    /// For each continuation after `prompt`: the log-probability of each of its tokens and the whole
    /// next-token distribution (natural log) after its last token. An empty continuation gives the
    /// distribution right after the prompt. One batch over forks of the prompt's KV cache.
    public func continuationDistributions(prompt: [Int32], continuations: [[Int32]]) throws
        -> [(tokenLogProbabilities: [Float], next: [Float])] {
        let (promptSequence, promptLogits) = try computePrompt(prompt)
        let vocab = engine.model.config.vocabularySize
        let afterPrompt = promptLogits.withUnsafeBufferPointer { LogSoftmax.all($0) }
        var out: [(tokenLogProbabilities: [Float], next: [Float])] = continuations.map { c in
            (c.first.map { [afterPrompt[Int($0)]] } ?? [], afterPrompt)
        }
        var batch = Batch()
        batch.independentRows = true
        var rowOwner: [(continuation: Int, token: Int)] = []   // row's logits predict token `token + 1`
        for (i, c) in continuations.enumerated() where !c.isEmpty {
            batch.append(c, to: promptSequence.fork(reserve: c.count), logitsForAll: true)
            for k in 0..<c.count { rowOwner.append((i, k)) }
        }
        guard batch.count > 0 else { return out }
        let logits = try engine.model.forward(batch, hooks: nil)
        for (row, owner) in rowOwner.enumerated() {
            let slice = UnsafeBufferPointer(rebasing: logits[(row * vocab)..<((row + 1) * vocab)])
            let c = continuations[owner.continuation]
            if owner.token + 1 < c.count {
                out[owner.continuation].tokenLogProbabilities.append(LogSoftmax.value(slice, at: c[owner.token + 1]))
            } else {
                out[owner.continuation].next = LogSoftmax.all(slice)
            }
        }
        return out
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

    /// The `k` largest entries, largest first (ties: lower index first).
    static func top(_ x: UnsafeBufferPointer<Float>, k: Int, shift: Float = 0) -> [TokenProbability] {
        var best: [TokenProbability] = []
        best.reserveCapacity(k + 1)
        guard k > 0 else { return best }
        for i in 0..<x.count where best.count < k || x[i] > best[best.count - 1].logProbability + shift {
            let v = x[i] - shift
            let at = best.firstIndex { v > $0.logProbability } ?? best.count
            best.insert(TokenProbability(token: Int32(i), logProbability: v), at: at)
            if best.count > k { best.removeLast() }
        }
        return best
    }

    /// A sampled token's log-probability and the `top` most likely alternatives, from raw logits.
    static func describe(_ logits: UnsafeBufferPointer<Float>, chosen: Int32, top k: Int) -> TokenLogprobs {
        let z = logSumExp(logits)
        return TokenLogprobs(chosen: TokenProbability(token: chosen, logProbability: logits[Int(chosen)] - z),
                             top: top(logits, k: k, shift: z))
    }
}

extension BatchGenerator {
    /// Natural-log probability that the reply to `prompt` is exactly each answer: its tokens, then a
    /// token outside `continuing` (tokens that would extend the answer, e.g. further digits).
    /// The answers' token sequences form a trie; each trie level is one forward pass over forks of
    /// the parent nodes' KV caches, so 0…100 as single-digit tokens costs 101 rows in 3 passes.
    /// `interventions` apply to the prompt and answer positions as they say.
    public func answerLogProbabilities(prompt: [Int32], answers: [[Int32]], continuing: Set<Int32>,
                                       interventions: [Intervention] = []) throws -> [Double] {
        guard !answers.contains(where: \.isEmpty) else { throw BatchError.invalidRequest("empty answer") }
        let hooks = interventions.isEmpty ? nil : Hooks(interventions: interventions, captures: [], promptLength: prompt.count)
        let (promptSequence, promptLogits) = try computePrompt(prompt, hooks: hooks)
        let vocab = engine.model.config.vocabularySize

        // Trie nodes: node 0 is the prompt; a child appends one token to its parent.
        struct Node { var sequence: KVSequence; var next: [Float] }   // next: log-softmax after the node
        var nodes = [Node(sequence: promptSequence, next: promptLogits.withUnsafeBufferPointer { LogSoftmax.all($0) })]
        var children: [[Int32: Int]] = [[:]]
        var pathNodes: [[Int]] = Array(repeating: [], count: answers.count)   // node after each token
        let depth = answers.map(\.count).max() ?? 0
        for level in 0..<depth {
            var batch = Batch()
            batch.independentRows = true
            var created: [Int] = []
            for (a, tokens) in answers.enumerated() where tokens.count > level {
                let parent = level == 0 ? 0 : pathNodes[a][level - 1]
                let token = tokens[level]
                if let existing = children[parent][token] { pathNodes[a].append(existing); continue }
                let seq = nodes[parent].sequence.fork(reserve: 1)
                batch.append([token], to: seq, hooks: hooks)
                nodes.append(Node(sequence: seq, next: []))
                children.append([:])
                children[parent][token] = nodes.count - 1
                created.append(nodes.count - 1)
                pathNodes[a].append(nodes.count - 1)
            }
            guard batch.count > 0 else { continue }
            let logits = try engine.model.forward(batch, hooks: nil)
            for (row, node) in created.enumerated() {
                nodes[node].next = LogSoftmax.all(UnsafeBufferPointer(rebasing: logits[(row * vocab)..<((row + 1) * vocab)]))
            }
        }
        return answers.indices.map { a in
            var total = 0.0
            var at = 0
            for (level, token) in answers[a].enumerated() {
                total += Double(nodes[at].next[Int(token)])
                at = pathNodes[a][level]
            }
            // P(stop here) = 1 − P(a continuing token).
            var continuingMass = 0.0
            for t in continuing { continuingMass += exp(Double(nodes[at].next[Int(t)])) }
            return total + log(max(0, 1 - continuingMass))
        }
    }
}
