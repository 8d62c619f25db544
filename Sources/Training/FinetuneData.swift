import Core
import Datasets
import Foundation

/// A chat dataset turned into training and validation sequences.
public struct PreparedData: Sendable {
    public var train: [TrainingSequence]
    public var validation: [TrainingSequence]
    /// Examples left out because no trained token survived the sequence cap.
    public var dropped: Int
    /// Examples cut at the sequence cap.
    public var truncated: Int
    /// FNV-1a 64 of the dataset's chat JSONL (the examples as given, before the split), hex.
    public var digest: String

    /// The examples held out for validation: `fraction` of `count` (at least one when the fraction is
    /// positive and there are two or more), chosen with `SplitMix64(seed: mix(seed, 0x5A1))`.
    public static func heldOut(count: Int, fraction: Double, seed: UInt64) -> Set<Int> {
        var order = Array(0..<count)
        var rng = SplitMix64(seed: SplitMix64.mix(seed, 0x5A1))
        if order.count > 1 { for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, rng.below(i + 1)) } }
        var held = Int((fraction * Double(order.count)).rounded())
        if fraction > 0, order.count >= 2 { held = max(1, min(held, order.count - 1)) }
        return Set(order.prefix(held))
    }

    /// Tokenizes every example, holds out `validationFraction` of them (chosen with
    /// `SplitMix64(seed: mix(seed, 0x5A1))`, at least one when the fraction is positive and there are
    /// two or more), and drops examples with nothing to train on.
    public static func prepare(_ data: ChatDataset, tokenizer: ChatTokenizer, trainOn: TrainOn, maxSequence: Int,
                               validationFraction: Double, seed: UInt64) throws -> PreparedData {
        guard !data.examples.isEmpty else { throw TrainingError.data("dataset \(data.name) has no examples") }
        guard validationFraction >= 0, validationFraction < 1 else {
            throw TrainingError.invalidOption("--validation must be a fraction in [0, 1)")
        }
        let heldSet = heldOut(count: data.examples.count, fraction: validationFraction, seed: seed)
        var train: [TrainingSequence] = [], validation: [TrainingSequence] = []
        var dropped = 0, truncated = 0
        for (i, example) in data.examples.enumerated() {
            let full = try tokenizer.encode(example.messages, trainOn: trainOn, maxTokens: Int.max)
            var s = full
            if s.tokens.count > maxSequence {
                truncated += 1
                s.tokens.removeLast(s.tokens.count - maxSequence)
                s.trained.removeLast(s.trained.count - maxSequence)
            }
            guard s.lossTokens > 0 else { dropped += 1; continue }
            if heldSet.contains(i) { validation.append(s) } else { train.append(s) }
        }
        return PreparedData(train: train, validation: validation, dropped: dropped, truncated: truncated, digest: fnv1a(data.jsonl))
    }

    static func fnv1a(_ text: String) -> String { String(format: "%016llx", FNV1a.hash(text)) }
}
