import ArgumentParser
import Evaluation
import Foundation
import Reports
import ResultsStore

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "A small evaluation of the embedded model on the built-in questions, judged by the embedded judge.")

    @OptionGroup var results: ResultsOptions
    @Option(help: "Samples per question.") var samples: Int = 3
    @Option(help: "Most new tokens per answer.") var maxTokens: Int = 120
    @Option(help: "Judge spec (default: the embedded probe judge, trained on the gold set on first use).") var judge: String = "probe:default"
    @Option(help: "Threads.") var threads: Int = 2

    func run() async throws {
        let stamp = ISO8601DateFormatter.string(from: Date(), timeZone: .current, formatOptions: [.withYear, .withMonth, .withDay, .withTime])
        let name = "demo-" + stamp.replacingOccurrences(of: ":", with: "")
        print("emlab demo: \(samples) answers to each of the 8 built-in questions from local:smollm2-135m, judged by \(judge)")
        let opener = ModelOpener(threads: threads)
        let model = try opener.open("local:smollm2-135m")
        let store = try results.openStore()
        let judgeModel = try await opener.judge(judge, progress: ProgressBar())
        let runner = EvalRunner(store: store, model: model, judge: judgeModel, questions: try loadQuestions("core"),
                                parameters: EvalParameters(samples: samples, maxTokens: maxTokens, seed: 1),
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
    }
}
