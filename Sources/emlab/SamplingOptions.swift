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
