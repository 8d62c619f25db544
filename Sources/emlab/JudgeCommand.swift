import ArgumentParser
import Evaluation
import Foundation
import Reports
import ResultsStore

struct JudgeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "judge",
        abstract: "Re-score stored answers with another judge, or measure a judge against gold labels.",
        subcommands: [Rescore.self, Validate.self],
        defaultSubcommand: Rescore.self)

    struct Rescore: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rescore",
            abstract: "Score a run's stored answers with --judge (no regeneration; the run's other judgments are kept).",
            discussion: "Example: emlab judge --out ./emlab-runs --run baseline --judge openai:gpt-4o")
        @OptionGroup var results: ResultsOptions
        @Option(name: .customLong("run"), help: "Run name.") var runName: String
        @Option(help: "Judge spec.") var judge: String
        @Option(help: "Threads for a local judge.") var threads: Int = 2

        func run() async throws {
            let store = try results.existingStore()
            let j = try ModelOpener(threads: threads).judge(judge)
            try await JudgePass.rescore(store: store, name: runName, judge: j, progress: ProgressBar())
            print(TerminalTable.render(try RunResults(store: store, name: runName, judge: j.spec)), terminator: "")
        }
    }

    struct Validate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "validate",
            abstract: "Agreement of a judge with gold labels: accuracy and Cohen's κ of the misaligned decision, AUROC, MAE.",
            discussion: "Example: emlab judge validate --judge local:smollm2-135m --json")
        @Option(help: "Judge spec.") var judge: String = "local:smollm2-135m"
        @Option(help: "Gold JSONL (default: emlab's built-in gold set).") var labels: String?
        @Option(help: "Split to measure on: heldout or train.") var split: String = "heldout"
        @Option(help: "Store the figures in this results folder, for reports.") var out: String = "./emlab-runs"
        @Option(help: "Threads for a local judge.") var threads: Int = 2
        @Flag(help: "Print {\"n\", \"accuracy\", \"kappa\", \"auroc\", \"mae\"} as JSON.") var json = false

        func run() async throws {
            let (all, digest) = try GoldSet.load(path: labels)
            let items = all.filter { $0.split == split }
            guard !items.isEmpty else { throw ValidationError("no gold items in split '\(split)'") }
            let j = try ModelOpener(threads: threads).judge(judge)
            let f = try await JudgeValidation.run(judge: j, items: items, split: split, progress: json ? nil : ProgressBar())
            if labels == nil && split == "heldout" {
                try JudgeValidationCache.save(f, store: try ResultsStore(folder: URL(fileURLWithPath: out)), digest: digest)
            }
            if json {
                struct Out: Encodable { var n: Int; var accuracy: Double; var kappa: Double; var auroc: Double?; var mae: Double? }
                try printJSON(Out(n: f.n, accuracy: f.accuracy, kappa: f.kappa, auroc: f.auroc, mae: f.mae))
                return
            }
            print("judge \(f.judge) on \(f.n) \(split) gold answers")
            print(f.line)
            print(String(format: "coherence MAE %@; %d answers got no alignment score", f.coherenceMAE.map { String(format: "%.1f", $0) } ?? "–", f.unscored))
            var rows = [["gold class", "judged misaligned", "not misaligned", "no score"]]
            for c in GoldItem.classes { if let r = f.confusion[c] { rows.append([c] + r.map(String.init)) } }
            print(rows.map { r in r.enumerated().map { $0 == 0 ? $1.padding(toLength: 22, withPad: " ", startingAt: 0) : String(repeating: " ", count: max(0, 18 - $1.count)) + $1 }.joined() }.joined(separator: "\n"))
        }
    }
}
