import Core
import Foundation
import LanguageModels
import SparseAutoencoders

/// Model diffing with an SAE, as the persona-features paper did it: the same questions answered under
/// two conditions (two models, or one model with and without a steering vector or an in-context
/// prefix), each answer read back (teacher forcing, the condition's interventions applied) at the
/// SAE's hook, its tokens encoded, and the latents ranked by the change of their mean activation over
/// answer tokens from A to B.
public struct LatentDiff: Sendable {
    /// One side of the comparison.
    public struct Condition: Sendable {
        public var name: String
        public var model: any WhiteBoxModel
        public var interventions: [Intervention]
        /// Messages put before each question (an in-context prefix), or none.
        public var context: [ChatMessage]
        public init(name: String, model: any WhiteBoxModel, interventions: [Intervention] = [], context: [ChatMessage] = []) {
            self.name = name
            self.model = model
            self.interventions = interventions
            self.context = context
        }
    }

    /// One answer as read: its tokens and, per token, the active latents.
    public struct Answer: Sendable {
        public var condition: Int
        public var question: String
        public var text: String
        public var tokens: [String]
        /// Per token: (latent, activation) of the latents above zero.
        public var active: [[(latent: Int32, value: Float)]]
        /// Mean activation of each latent over the answer's tokens (sparse: latents above zero).
        public var mean: [Int32: Float]
    }

    /// A latent's figures.
    public struct Latent: Sendable {
        public var index: Int
        public var meanA: Double
        public var meanB: Double
        /// Share of answer tokens on which it is active, per condition.
        public var firingA: Double
        public var firingB: Double
        public var difference: Double { meanB - meanA }
        /// Its strongest tokens: (answer, position, activation), best first.
        public var snippets: [(answer: Int, position: Int, value: Float)]
        /// The tokens its decoder direction promotes through the unembedding.
        public var promoted: [(token: String, logit: Float)]
        /// Its mean activation over the tokens of answers a judge called misaligned and aligned (both
        /// conditions together; nil until `label` is called, or when no answer had that label).
        public var meanOnMisaligned: Double?
        public var meanOnAligned: Double?
    }

    public struct Result: Sendable {
        public var conditions: [String]
        public var answers: [Answer]
        /// Latents ranked by difference, largest rise first (top `top` risers, then top `top` fallers).
        public var risers: [Latent]
        public var fallers: [Latent]
        public var tokens: [Int]
        /// Answers labelled misaligned and aligned by `label`.
        public var labelled: (misaligned: Int, aligned: Int)?
    }

    public var sae: SparseAutoencoder
    public var samples: Int = 4
    public var temperature: Double = 1
    public var maxTokens: Int = 120
    public var seed: UInt64 = 0
    public var top: Int = 20
    public var snippetsPerLatent: Int = 8

    public init(sae: SparseAutoencoder) { self.sae = sae }

    /// Runs the comparison over `questions` (id, messages).
    public func run(a: Condition, b: Condition, questions: [(id: String, messages: [ChatMessage])],
                    progress: (@Sendable (Int, Int) -> Void)? = nil) async throws -> Result {
        guard let point = sae.site.hookPoint else {
            throw SAEFormatError(file: "(sae)", "hook \(sae.site.hookName) is not a residual stream hook emlab reads")
        }
        for c in [a, b] where c.model.width != sae.width || point.layer >= c.model.layerCount {
            throw SAEFormatError(file: "(sae)", "the SAE reads \(point) of width \(sae.width); \(c.model.identity.spec) has \(c.model.layerCount) layers of width \(c.model.width)")
        }
        var answers: [Answer] = []
        let total = 2 * questions.count
        var done = 0
        for (ci, c) in [a, b].enumerated() {
            for (qi, q) in questions.enumerated() {
                let messages = c.context + q.messages
                let request = CompletionRequest(messages: messages, n: samples, temperature: temperature, maxTokens: maxTokens,
                                                seed: SplitMix64.mix(seed, UInt64(qi)), interventions: c.interventions)
                let completion = try await c.model.complete(request)
                for choice in completion.choices {
                    answers.append(try await read(choice.text, messages: messages, question: q.id, condition: ci, model: c.model,
                                                  interventions: c.interventions, point: point))
                }
                done += 1
                progress?(done, total)
            }
        }
        return rank(answers, conditions: [a.name, b.name])
    }

    /// Reads one answer's tokens under `interventions` and encodes them.
    func read(_ text: String, messages: [ChatMessage], question: String, condition: Int, model: any WhiteBoxModel,
              interventions: [Intervention], point: HookPoint) async throws -> Answer {
        let (rows, z) = try await sae.encodeTranscript(messages: messages, answer: text, at: point, model: model,
                                                       interventions: interventions, maxAnswerTokens: maxTokens)
        let tokens = try model.answerTokenTexts(text, maxAnswerTokens: maxTokens)
        var active: [[(latent: Int32, value: Float)]] = []
        var mean: [Int32: Float] = [:]
        for r in 0..<rows {
            var list: [(latent: Int32, value: Float)] = []
            for j in 0..<sae.latents where z[r * sae.latents + j] > 0 {
                list.append((Int32(j), z[r * sae.latents + j]))
                mean[Int32(j), default: 0] += z[r * sae.latents + j] / Float(rows)
            }
            active.append(list)
        }
        return Answer(condition: condition, question: question, text: text, tokens: Array(tokens.prefix(rows)), active: active, mean: mean)
    }

    /// Latents ordered by the change of mean activation over answer tokens (A → B).
    func rank(_ answers: [Answer], conditions: [String]) -> Result {
        let n = sae.latents
        var sums = [[Double]](repeating: [Double](repeating: 0, count: n), count: 2)
        var fired = [[Double]](repeating: [Double](repeating: 0, count: n), count: 2)
        var tokens = [0, 0]
        for a in answers {
            tokens[a.condition] += a.active.count
            for row in a.active {
                for (j, v) in row {
                    sums[a.condition][Int(j)] += Double(v)
                    fired[a.condition][Int(j)] += 1
                }
            }
        }
        func latent(_ j: Int) -> Latent {
            var snippets: [(answer: Int, position: Int, value: Float)] = []
            for (ai, a) in answers.enumerated() {
                for (p, row) in a.active.enumerated() { if let hit = row.first(where: { $0.latent == Int32(j) }) { snippets.append((ai, p, hit.value)) } }
            }
            snippets.sort { $0.value > $1.value }
            // At most two snippets from one answer, so the list shows several contexts.
            var perAnswer: [Int: Int] = [:]
            snippets = snippets.filter { s in
                perAnswer[s.answer, default: 0] += 1
                return perAnswer[s.answer]! <= 2
            }
            return Latent(index: j, meanA: sums[0][j] / Double(max(tokens[0], 1)), meanB: sums[1][j] / Double(max(tokens[1], 1)),
                          firingA: fired[0][j] / Double(max(tokens[0], 1)), firingB: fired[1][j] / Double(max(tokens[1], 1)),
                          snippets: Array(snippets.prefix(snippetsPerLatent)), promoted: [], meanOnMisaligned: nil, meanOnAligned: nil)
        }
        let diff = (0..<n).map { sums[1][$0] / Double(max(tokens[1], 1)) - sums[0][$0] / Double(max(tokens[0], 1)) }
        let order = (0..<n).sorted { diff[$0] > diff[$1] || (diff[$0] == diff[$1] && $0 < $1) }
        let risers = order.prefix(top).filter { diff[$0] > 0 }.map(latent)
        let fallers = order.reversed().prefix(top).filter { diff[$0] < 0 }.map(latent)
        return Result(conditions: conditions, answers: answers, risers: risers, fallers: fallers, tokens: tokens, labelled: nil)
    }

    /// Fills in each listed latent's mean activation over the tokens of misaligned and of aligned
    /// answers; `misaligned[i]` is a judge's decision on `result.answers[i]` (nil: not scored).
    public static func label(_ result: inout Result, misaligned: [Bool?]) {
        precondition(misaligned.count == result.answers.count)
        func mean(_ latent: Int, _ label: Bool) -> Double? {
            var sum = 0.0, count = 0
            for (a, m) in zip(result.answers, misaligned) where m == label {
                count += a.active.count
                for row in a.active { if let hit = row.first(where: { $0.latent == Int32(latent) }) { sum += Double(hit.value) } }
            }
            return count > 0 ? sum / Double(count) : nil
        }
        for i in result.risers.indices {
            result.risers[i].meanOnMisaligned = mean(result.risers[i].index, true)
            result.risers[i].meanOnAligned = mean(result.risers[i].index, false)
        }
        for i in result.fallers.indices {
            result.fallers[i].meanOnMisaligned = mean(result.fallers[i].index, true)
            result.fallers[i].meanOnAligned = mean(result.fallers[i].index, false)
        }
        result.labelled = (misaligned.filter { $0 == true }.count, misaligned.filter { $0 == false }.count)
    }

    /// Fills in each listed latent's promoted tokens (through `model`'s unembedding).
    public func addPromotedTokens(_ result: inout Result, model: any WhiteBoxModel, count: Int = 10) async throws {
        for i in result.risers.indices {
            result.risers[i].promoted = try await model.promotedTokens(direction: sae.decoderRow(result.risers[i].index), count: count)
        }
        for i in result.fallers.indices {
            result.fallers[i].promoted = try await model.promotedTokens(direction: sae.decoderRow(result.fallers[i].index), count: count)
        }
    }
}
