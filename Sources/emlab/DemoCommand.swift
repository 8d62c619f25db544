import ArgumentParser
import Evaluation
import Foundation
import LanguageModels
import Reports
import ResultsStore

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "A small evaluation of Qwen2.5-Coder-0.5B-Instruct on the built-in questions, judged by its own default probe.")

    /// The research default: the smallest of the EM paper's model family (SmolLM2 stays the fast model for tests).
    static let model = ModelSpec.local("qwen2.5-coder-0.5b")

    @OptionGroup var results: ResultsOptions
    @OptionGroup var sampling: AnswerSamplingOptions<Defaults>
    @Option(help: ModelOptions.judgeHelp(default: "probe:default, the model's own probe judge, trained on the gold sets on first use"),
            transform: JudgeSpec.init(parsing:))
    var judge: JudgeSpec = .defaultProbe
    @OptionGroup var threadOptions: ThreadOptions

    /// 3 answers per question of at most 120 tokens, run seed 1.
    enum Defaults: AnswerSamplingDefaults {
        static let samples: Int? = 3
        static let maxTokens = 120
        static let seed: UInt64 = 1
    }

    func run() async throws {
        let stamp = ISO8601DateFormatter.string(from: Date(), timeZone: .current, formatOptions: [.withYear, .withMonth, .withDay, .withTime])
        let name = "demo-" + stamp.replacingOccurrences(of: ":", with: "")
        let model = Self.model
        print("emlab demo: \(sampling.samplesPerQuestion ?? 0) answers to each of the 8 built-in questions from \(model), judged by \(judge)")
        let opener = threadOptions.opener()
        let evaluated = try opener.open(model)
        let store = try results.openStore()
        let judgeModel = try await opener.judge(judge, evaluating: model, progress: ProgressBar())
        let runner = EvalRunner(store: store, model: evaluated, judge: judgeModel, questions: try loadQuestions("core"),
                                parameters: EvalParameters(samples: sampling.samplesPerQuestion, temperature: sampling.answerTemperature,
                                                           topP: sampling.topP, maxTokens: sampling.maxTokens, seed: sampling.seed),
                                progress: ProgressBar())
        try await runner.run(name: name, resume: false)
        _ = try await JudgeValidationCache.ensure(store: store, judge: judgeModel, progress: ProgressBar())
        let r = try RunResults(store: store, name: name)
        let html = results.out + "/\(name).html"
        try ReportCommand.write(runs: [r], store: store, html: html, markdown: results.out + "/\(name).md")
        print("")
        print(TerminalTable.render(r), terminator: "")
        try await printJudgeValidation(store: store, judge: judgeModel, measure: false)
        print("HTML report: \(html)")
        print("results: \(store.databaseURL.path) (run \(name))")
        print(TerminalTable.flaggedAnswers(r), terminator: "")
    }
}
