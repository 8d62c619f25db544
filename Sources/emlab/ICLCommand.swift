import ArgumentParser
import Core
import Datasets
import Evaluation
import Foundation
import LanguageModels
import Reports
import ResultsStore

struct ICLCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "icl",
        abstract: "In-context EM sweep: k narrow examples as prior turns before every question, for each k and draw.",
        discussion: """
        Example: emlab icl --dataset insecure-code --k 0,2,8,32 --draws 2 --samples 8 --out ./emlab-runs --run icl-insecure
        The k examples of a draw are the same for every question and sample: the local engine computes \
        them once (prefix cache). Results go to the same database as emlab eval and resume the same way.
        """)

    @Option(help: "A built-in dataset name (emlab datasets list) or a chat JSONL file.") var dataset: String
    @Option(help: "Comma-separated numbers of in-context examples. (default: 0,2,8,32)", transform: CommaList.parser("a whole number ≥ 0") { $0 >= 0 })
    var k: CommaList<Int> = [0, 2, 8, 32]
    @Option(help: "Independent draws of examples per k.") var draws: Int = 1
    @OptionGroup var modelOptions: ModelOptions
    @Option(help: ModelOptions.judgeHelp(default: "probe:default"), transform: JudgeSpec.init(parsing:))
    var judge: JudgeSpec = .defaultProbe
    @Option(help: "Evaluation questions: a built-in set or a file.") var questions: String = "core"
    @OptionGroup var sampling: AnswerSamplingOptions<Defaults>
    @OptionGroup var steering: InterventionOptions
    @Option(help: "System instruction: none, safety, follow-context.") var instruction: String = "none"
    @Flag(name: .customLong("cot"), help: "Ask for reasoning before the answer; store it apart and judge it for a reckless persona.")
    var chainOfThought = false
    @Flag(help: "Turn the local engine's prefix reuse off (to measure what it saves).") var noPrefixCache = false
    @OptionGroup var runOptions: RunOptions
    @Flag(help: "Continue an interrupted run.") var resume = false
    @Option(help: "Write the EM-vs-k chart (HTML) here.") var html: String?

    /// 8 answers per question and condition, at temperature 1, of at most 200 tokens.
    enum Defaults: AnswerSamplingDefaults {
        static let samples: Int? = 8
        static let temperature: Double? = 1
        static let maxTokens = 200
    }

    func run() async throws {
        let ks = k.elements
        guard draws >= 1 else { throw ValidationError("--draws must be at least 1") }
        guard let variant = ICLSweep.Instruction(rawValue: instruction) else {
            throw ValidationError("--instruction must be one of \(ICLSweep.Instruction.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let set = try loadQuestions(questions)
        let seed = sampling.seed
        let data = try BuiltinDatasets.resolve(dataset, n: max(BuiltinDatasets.defaultCount, ks.max()!), seed: seed)
        let sweep = ICLSweep(ks: ks, draws: draws, seed: seed, instruction: variant)
        var conditions = try sweep.conditions { count, drawSeed in try data.sample(k: count, seed: drawSeed).map(\.messages) }
        let opener = modelOptions.opener(prefixCache: !noPrefixCache)
        let evaluated = try opener.open(modelOptions.model)
        let (interventions, steered) = try steering.resolve(for: evaluated)
        for i in conditions.indices { conditions[i].interventions = interventions }
        if let local = evaluated as? any WhiteBoxModel {
            try ICLSweep.checkContext(conditions, questions: set, maxTokens: sampling.maxTokens,
                                      window: local.contextWindow) { try local.promptTokenCount($0) }
        }
        var parameters = EvalParameters(samples: sampling.samplesPerQuestion, temperature: sampling.answerTemperature, topP: sampling.topP,
                                        maxTokens: sampling.maxTokens, seed: seed,
                                        questionSet: "\(questions) × \(data.name) (\(variant.rawValue))",
                                        chainOfThought: chainOfThought ? true : nil)
        parameters.interventions = steered.isEmpty ? nil : steered
        let store = try runOptions.openStore()
        let started = Date()
        let runner = EvalRunner(store: store, model: evaluated, judge: try await opener.judge(judge, evaluating: modelOptions.model), questions: set,
                                parameters: parameters, conditions: conditions, progress: ProgressBar())
        try await runner.run(name: runOptions.name, kind: "icl", resume: resume)
        let r = try RunResults(store: store, name: runOptions.name)
        print(ICLReport.table(r), terminator: "")
        if let local = evaluated as? LocalModel, let stats = try await local.prefixCacheStatistics() {
            print("prefix cache: \(stats.hits) hits, \(stats.misses) misses, \(stats.reusedTokens) prompt tokens reused")
        }
        print(String(format: "wall time %.0f s", Date().timeIntervalSince(started)))
        if let html {
            try ICLReport.html([r]).write(toFile: html, atomically: true, encoding: .utf8)
            print("chart: \(html)")
        }
    }
}
