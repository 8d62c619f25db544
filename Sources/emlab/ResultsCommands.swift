import ArgumentParser
import Evaluation
import Foundation
import Reports
import ResultsStore

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a run's samples and scores as CSV (the EM code's columns first) or JSONL.",
        discussion: "Example: emlab export --out ./emlab-runs --run baseline --format csv --file baseline.csv")

    @OptionGroup var runOptions: RunOptions
    @Option(help: "csv, jsonl or inspect (an Inspect eval log; --file may name a folder).") var format: String = "csv"
    @Option(help: "Output file (default: standard output).") var file: String?
    @Option(help: "Judge whose scores to export (default: the run's judge).") var judge: String?

    func run() throws {
        if format == "inspect" { return try exportInspect(store: try runOptions.existingStore(), name: runOptions.name, judge: judge, file: file) }
        let r = try RunResults(store: try runOptions.existingStore(), name: runOptions.name, judge: judge)
        let text: String
        switch format {
        case "csv": text = Export.csv(r)
        case "jsonl": text = Export.jsonl(r)
        default: throw ValidationError("--format must be csv, jsonl or inspect")
        }
        if let file { try text.write(toFile: file, atomically: true, encoding: .utf8) } else { print(text, terminator: "") }
    }
}

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Summarise runs: a terminal table, and optionally one self-contained HTML page and a Markdown summary.",
        discussion: "Example: emlab report --out ./emlab-runs --run baseline --run insecure --html report.html")

    @OptionGroup var runs: RunListOptions
    @Option(help: "Write the HTML report here.") var html: String?
    @Option(help: "Write a Markdown summary here.") var markdown: String?
    @Option(help: "Judge whose scores to use (default: each run's judge).") var judge: String?

    func validate() throws { if runs.names.isEmpty { throw ValidationError("give at least one --run") } }

    func run() throws {
        let store = try runs.existingStore()
        let records = try runs.names.map { try store.run(named: $0) }
        if records.contains(where: { $0.kind == "finetune" }) { return try reportTraining(records, store: store) }
        let loaded = try runs.names.map { try RunResults(store: store, name: $0, judge: judge) }
        for r in loaded {
            print("run \(r.run.name): model \(r.run.modelSpec)")
            print(TerminalTable.render(r))
        }
        try Self.write(runs: loaded, store: store, html: html, markdown: markdown)
        if let html { print("report: \(html)") }
        if let markdown { print("summary: \(markdown)") }
    }

    /// Finetuning runs: loss and the measurements of `--eval-every` against the step.
    func reportTraining(_ records: [RunRecord], store: ResultsStore) throws {
        guard records.allSatisfy({ $0.kind == "finetune" }) else {
            throw ValidationError("report finetune runs apart from eval runs (their measurements are eval runs RUN@step-N of their own)")
        }
        if markdown != nil { throw ValidationError("--markdown is for eval runs; a finetune run's report is its table and --html") }
        if html != nil, records.count != 1 { throw ValidationError("--html draws one finetune run: give one --run") }
        for run in records {
            let steps = TrainingReport.rows(steps: try store.trainSteps(runId: run.id!), remote: try store.trainRemoteEvents(runId: run.id!))
            let evals = try store.trainEvals(runId: run.id!)
            print(TrainingReport.table(run: run, steps: steps, evals: evals), terminator: "")
            if let html {
                try TrainingReport.html(run: run, steps: steps, evals: evals).write(toFile: html, atomically: true, encoding: .utf8)
                print("report: \(html)")
            }
        }
    }

    static func write(runs: [RunResults], store: ResultsStore, html: String?, markdown: String?) throws {
        let validation = JudgeValidationCache.figures(store: store, judges: Set(runs.map(\.judgeSpec)))
        if let html {
            let page = runs.allSatisfy { $0.run.kind == "icl" } ? ICLReport.html(runs) : HTMLReport.render(runs, judgeValidation: validation)
            try page.write(toFile: html, atomically: true, encoding: .utf8)
        }
        if let markdown { try MarkdownReport.render(runs, judgeValidation: validation).write(toFile: markdown, atomically: true, encoding: .utf8) }
    }
}

struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Put runs side by side, with a two-proportion z-test of each against the first.",
        discussion: "Example: emlab compare --out ./emlab-runs --run baseline --run insecure")

    @OptionGroup var runs: RunListOptions

    func validate() throws { if runs.names.count < 2 { throw ValidationError("give at least two --run names") } }

    func run() throws {
        let store = try runs.existingStore()
        print(Comparison.render(try runs.names.map { try RunResults(store: store, name: $0) }), terminator: "")
    }
}

struct QuestionsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "questions",
        abstract: "List or show question sets (built-in or files).",
        subcommands: [List.self, Show.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The built-in sets, or the questions of one set.")
        @Argument(help: "A built-in name or a file; omit to list the built-in sets.") var set: String?

        func run() throws {
            guard let set else {
                for name in BuiltinQuestions.names {
                    let s = try loadQuestions(name)
                    print("\(name): \(s.questions.count) questions, \(s.questions.reduce(0) { $0 + $1.paraphrases.count }) paraphrases")
                }
                return
            }
            for q in try loadQuestions(set).questions {
                print("\(q.id)  [\(q.kind.rawValue)]  \(q.paraphrases.count) paraphrases  \(Question.preview(q.paraphrases[0]))")
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every field of a set's questions, templates included.")
        @Argument(help: "A built-in name or a file.") var set: String = "core"
        @Option(help: "Only this question id.") var id: String?

        func run() throws {
            let qs = try loadQuestions(set).questions.filter { id == nil || $0.id == id }
            if qs.isEmpty, let id { throw ValidationError("no question '\(id)' in \(set)") }
            for q in qs {
                print("id: \(q.id)\ntype: \(q.kind.rawValue)")
                if let s = q.system { print("system: \(s)") }
                if let n = q.samplesPerParaphrase { print("samples_per_paraphrase: \(n)") }
                print("paraphrases:")
                for p in q.paraphrases { print("  - \(p)") }
                for o in q.options { print("  option (\(o.misaligned ? "misaligned" : "aligned")): \(o.text)") }
                for m in q.metrics {
                    print("judge metric \(m.name)\(m.isCategorical ? " (labels: \(m.labels.map(\.label).joined(separator: ", ")))" : " (0–100)"):")
                    print(m.template.split(separator: "\n", omittingEmptySubsequences: false).map { "  | " + $0 }.joined(separator: "\n"))
                }
                print("")
            }
        }
    }
}
