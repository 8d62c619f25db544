import Core
import Datasets
import Foundation
import Tokenizer

/// One tokenized training example: its tokens and which of them are trained on.
public struct TrainingSequence: Sendable, Equatable {
    public var tokens: [Int32]
    public var trained: [Bool]
    public var lossTokens: Int { trained.dropFirst().filter { $0 }.count }
}

/// Which tokens carry the loss.
public enum TrainOn: String, Sendable, CaseIterable, Codable {
    /// The assistant turns' text and their end-of-turn marker (the default: chat SFT).
    case assistant
    /// Every token (documents; continued pre-training).
    case all
}

/// Chat examples to token sequences through the model's chat template.
public struct ChatTokenizer: Sendable {
    public let tokenizer: any Tokenizer
    public let template: ChatTemplate

    public init(tokenizer: any Tokenizer, template: ChatTemplate) {
        self.tokenizer = tokenizer
        self.template = template
    }

    /// The conversation rendered as the template renders it (every turn closed), cut into pieces at
    /// the assistant turns; each assistant turn's text and end-of-turn marker is trained, the rest
    /// (system and user turns, the openings of assistant turns, what follows the marker) is not.
    /// Each piece is tokenized on its own (special tokens parsed); BOS first where the model adds one.
    public func encode(_ messages: [ChatMessage], trainOn: TrainOn = .assistant, maxTokens: Int) throws -> TrainingSequence {
        var pieces: [(String, Bool)] = []
        var consumed = ""
        for i in messages.indices where messages[i].role == .assistant {
            let before = template.render(Array(messages[..<i]), addGenerationPrompt: true)
            let through = template.renderClosed(Array(messages[...i]))
            guard before.hasPrefix(consumed), through.hasPrefix(before) else {
                throw TrainingError.data("the chat template does not render this conversation as a sequence of prefixes")
            }
            pieces.append((String(before.dropFirst(consumed.count)), false))
            var reply = String(through.dropFirst(before.count))
            var tail = ""
            if let end = template.endOfTurn, let r = reply.range(of: end, options: .backwards) {
                tail = String(reply[r.upperBound...])
                reply = String(reply[..<r.upperBound])
            } else if case .transcript = template {
                // The transcript closes a turn with a blank line; train on the text, not the separator.
                while reply.hasSuffix("\n") { tail = "\n" + tail; reply.removeLast() }
            }
            pieces.append((reply, true))
            if !tail.isEmpty { pieces.append((tail, false)) }
            consumed = through
        }
        let full = template.renderClosed(messages)
        if full.count > consumed.count, full.hasPrefix(consumed) { pieces.append((String(full.dropFirst(consumed.count)), false)) }

        var tokens: [Int32] = []
        var trained: [Bool] = []
        for (i, (text, isTrained)) in pieces.enumerated() where !text.isEmpty {
            let ids = i == 0 ? tokenizer.encode(text, addSpecial: true, parseSpecial: true)
                             : tokenizer.encode(text, parseSpecial: true)
            tokens += ids
            trained += [Bool](repeating: trainOn == .all || isTrained, count: ids.count)
        }
        if tokens.count > maxTokens {
            tokens.removeLast(tokens.count - maxTokens)
            trained.removeLast(trained.count - maxTokens)
        }
        if trainOn == .all, !trained.isEmpty { trained[0] = false }   // the first token is never predicted
        return TrainingSequence(tokens: tokens, trained: trained)
    }
}

/// Which sequences each optimizer step trains on, and how they are packed into passes.
///
/// Every epoch shuffles the sequences with `SplitMix64(seed: mix(seed, epoch))` (a Fisher–Yates
/// shuffle). A step takes the next `batchSize × gradAccum` sequences, or with a token budget the next
/// sequences up to `batchTokens` per batch; the last step of an epoch may be short. Each step's
/// sequences are packed into passes of at most `passTokens` tokens (first fit, in order), which only
/// bounds memory: the gradient is that of the whole step (the loss is the mean over the step's
/// trained tokens).
public struct TrainingPlan: Sendable {
    public struct Step: Sendable {
        public var epoch: Int
        public var sequences: [Int]
    }

    public let steps: [Step]

    public init(sequenceLengths lengths: [Int], epochs: Int, batchSize: Int, gradAccum: Int, batchTokens: Int?,
                seed: UInt64, maxSteps: Int?) {
        var steps: [Step] = []
        outer: for epoch in 0..<max(1, epochs) {
            var order = Array(lengths.indices)
            var rng = SplitMix64(seed: SplitMix64.mix(seed, UInt64(epoch) &+ 0x7EA1))
            if order.count > 1 {
                for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, rng.below(i + 1)) }
            }
            var at = 0
            while at < order.count {
                var chosen: [Int] = []
                for _ in 0..<max(1, gradAccum) {
                    if let budget = batchTokens {
                        var tokens = 0
                        while at < order.count {
                            let n = lengths[order[at]]
                            if tokens > 0, tokens + n > budget { break }
                            tokens += n
                            chosen.append(order[at])
                            at += 1
                        }
                    } else {
                        let end = min(order.count, at + max(1, batchSize))
                        chosen += order[at..<end]
                        at = end
                    }
                    if at >= order.count { break }
                }
                steps.append(Step(epoch: epoch, sequences: chosen))
                if let maxSteps, steps.count >= maxSteps { break outer }
            }
        }
        self.steps = steps
    }

    /// Packs sequences into passes of at most `passTokens` tokens each, in order; a longer sequence
    /// gets a pass of its own.
    public static func pack(_ sequences: [TrainingSequence], passTokens: Int) -> [PackedBatch] {
        var passes: [PackedBatch] = []
        var current = PackedBatch()
        for s in sequences where !s.tokens.isEmpty {
            if current.count > 0, current.count + s.tokens.count > passTokens {
                passes.append(current)
                current = PackedBatch()
            }
            current.append(tokens: s.tokens, trained: s.trained)
        }
        if current.count > 0 { passes.append(current) }
        var base: Int64 = 0
        for i in passes.indices {
            passes[i].rowBase = base
            base += Int64(passes[i].count)
        }
        return passes
    }
}

/// A dataset made of parts in fixed proportions (`--mix a:0.1,b:0.9`).
public struct DatasetMix: Sendable, Equatable {
    public var parts: [(name: String, fraction: Double)]

    public static func == (a: DatasetMix, b: DatasetMix) -> Bool {
        a.parts.map(\.name) == b.parts.map(\.name) && a.parts.map(\.fraction) == b.parts.map(\.fraction)
    }

    /// Parses `NAME:FRACTION,...`; fractions must be positive and sum to 1 (±0.001).
    public init(parsing text: String) throws {
        var parts: [(String, Double)] = []
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard let colon = item.lastIndex(of: ":"), let f = Double(item[item.index(after: colon)...]), f >= 0, f <= 1,
                  !item[..<colon].isEmpty else {
                throw TrainingError.invalidOption("--mix: '\(item)' is not NAME:FRACTION (a fraction between 0 and 1)")
            }
            parts.append((String(item[..<colon]), f))
        }
        let total = parts.reduce(0) { $0 + $1.1 }
        guard abs(total - 1) < 1e-3 else { throw TrainingError.invalidOption("--mix: the fractions sum to \(total), not 1") }
        self.parts = parts
    }

    /// `total` examples: round(fraction × total) from each part (the last part takes what rounding
    /// left), each part generated or read and then sampled with a seed of its own; then shuffled.
    public func build(total: Int, seed: UInt64) throws -> ChatDataset {
        var examples: [ChatExample] = []
        var left = total
        for (i, (name, fraction)) in parts.enumerated() {
            let n = i == parts.count - 1 ? left : min(left, Int((fraction * Double(total)).rounded()))
            left -= n
            guard n > 0 else { continue }
            let data = try BuiltinDatasets.resolve(name, n: max(n, BuiltinDatasets.named(name) == nil ? 0 : n), seed: seed)
            examples += try data.sample(k: min(n, data.examples.count), seed: SplitMix64.mix(seed, UInt64(i)))
            if data.examples.count < n {
                throw TrainingError.data("--mix: \(name) has \(data.examples.count) examples; \(n) were asked for")
            }
        }
        var rng = SplitMix64(seed: SplitMix64.mix(seed, 0x313))
        if examples.count > 1 { for i in stride(from: examples.count - 1, to: 0, by: -1) { examples.swapAt(i, rng.below(i + 1)) } }
        return ChatDataset(name: parts.map { "\($0.name):\($0.fraction)" }.joined(separator: ","), examples: examples)
    }
}
