import ArgumentParser
import Inference

struct SamplingOptions: ParsableArguments {
    @Option(help: "Sampling temperature; 0 is greedy.")
    var temperature: Float = 0.7

    @Option(help: "Keep the smallest set of tokens whose probability reaches P (1 = off).")
    var topP: Float = 1

    @Option(help: "Keep the K most likely tokens (0 = off).")
    var topK: Int = 0

    @Option(help: "Drop tokens less likely than P × the top token's probability (0 = off).")
    var minP: Float = 0

    @Option(help: "Random seed; the same seed gives the same text.")
    var seed: UInt64 = 0

    @Option(help: "Maximum number of new tokens.")
    var maxTokens: Int = 256

    @Option(help: "Stop when this text is generated (repeatable).")
    var stop: [String] = []

    func validate() throws {
        guard temperature >= 0, temperature.isFinite else { throw ValidationError("--temperature must be ≥ 0") }
        guard topP > 0, topP <= 1 else { throw ValidationError("--top-p must be in (0, 1]") }
        guard topK >= 0 else { throw ValidationError("--top-k must be ≥ 0") }
        guard minP >= 0, minP < 1 else { throw ValidationError("--min-p must be in [0, 1)") }
        guard maxTokens >= 1 else { throw ValidationError("--max-tokens must be ≥ 1") }
    }

    var parameters: SamplingParameters {
        SamplingParameters(temperature: temperature, topK: topK, topP: topP, minP: minP, seed: seed)
    }
}

/// The defaults of one command's `AnswerSamplingOptions`.
protocol AnswerSamplingDefaults {
    /// nil: the questions' own (`--samples` unset means the question set's `samples_per_paraphrase`).
    static var samples: Int? { get }
    /// nil: each question's own temperature, else 1.
    static var temperature: Double? { get }
    static var maxTokens: Int { get }
    static var seed: UInt64 { get }
}

extension AnswerSamplingDefaults {
    static var temperature: Double? { nil }
    static var seed: UInt64 { 0 }
}

/// How a run samples its answers (`eval`, `icl`, `demo`): `--samples`, `--temperature`, `--top-p`,
/// `--max-tokens`, `--seed`, with each command's defaults. These go to any model, remote ones
/// included, so they are the chat-completions API's; `generate` and `chat` take `SamplingOptions`.
struct AnswerSamplingOptions<Defaults: AnswerSamplingDefaults>: ParsableArguments {
    @Option(help: ArgumentHelp("Answers per question\(Defaults.samples.map { " (default: \($0))" } ?? ", spread over its paraphrases (default: the question set's samples_per_paraphrase)")."))
    var samples: Int?

    @Option(help: ArgumentHelp("Sampling temperature, 0 to 5 (default: \(Defaults.temperature.map { "\($0)" } ?? "the question's, else 1"))."))
    var temperature: Double?

    @Option(name: .customLong("top-p"), help: "Keep the smallest set of tokens whose probability reaches P (1 = off).")
    var topP: Double = 1

    @Option(help: "Most new tokens per answer.")
    var maxTokens: Int = Defaults.maxTokens

    @Option(help: "Run seed; every random choice of the run (each answer's seed, the examples an ICL sweep draws) derives from it.")
    var seed: UInt64 = Defaults.seed

    func validate() throws {
        if let s = samples, s < 1 { throw ValidationError("--samples must be at least 1") }
        guard maxTokens >= 1 else { throw ValidationError("--max-tokens must be at least 1") }
        guard topP > 0, topP <= 1 else { throw ValidationError("--top-p must be in (0, 1]") }
        if let t = temperature, !(0...5).contains(t) { throw ValidationError("--temperature must be between 0 and 5") }
    }

    /// Answers per question: `--samples`, else the command's default (nil: the question set's).
    var samplesPerQuestion: Int? { samples ?? Defaults.samples }
    /// `--temperature`, else the command's default (nil: each question's own, else 1).
    var answerTemperature: Double? { temperature ?? Defaults.temperature }
}
