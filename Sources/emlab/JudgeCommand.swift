import ArgumentParser
import Core
import Evaluation
import Foundation
import Interp
import LanguageModels
import Reports
import ResultsStore

struct JudgeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "judge",
        abstract: "Re-score stored answers with another judge, or measure a judge against gold labels.",
        subcommands: [Rescore.self, Validate.self, TrainProbe.self],
        defaultSubcommand: Rescore.self)

    struct Rescore: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rescore",
            abstract: "Score a run's stored answers with --judge (no regeneration; the run's other judgments are kept).",
            discussion: "Example: emlab judge --out ./emlab-runs --run baseline --judge openai:gpt-4o")
        @OptionGroup var runOptions: RunOptions
        @Option(help: ModelOptions.judgeHelp(default: nil), transform: JudgeSpec.init(parsing:)) var judge: JudgeSpec
        @OptionGroup var threadOptions: ThreadOptions

        func run() async throws {
            let store = try runOptions.existingStore()
            // probe:default is the probe of the model whose answers the run holds.
            let j = try await threadOptions.opener().judge(judge, evaluating: try? ModelSpec(parsing: try store.run(named: runOptions.name).modelSpec))
            try await JudgePass.rescore(store: store, name: runOptions.name, judge: j, progress: ProgressBar())
            print(TerminalTable.render(try RunResults(store: store, name: runOptions.name, judge: j.spec)), terminator: "")
        }
    }

    struct Validate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "validate",
            abstract: "Agreement of a judge with gold labels: accuracy, Cohen's κ and precision of the misaligned decision, AUROC of the alignment and coherence scores, MAE.",
            discussion: """
            Without --labels, the judge is measured on both built-in gold sets, shown apart: written answers, \
            and the local models' own answers (where coherence matters most). Example:
              emlab judge validate --judge probe:default --for-model qwen2.5-coder-0.5b --json
            """)
        @Option(help: ModelOptions.judgeHelp(default: "\(ModelOptions.defaultModel)"), transform: JudgeSpec.init(parsing:))
        var judge: JudgeSpec = .model(ModelOptions.defaultModel)
        @Option(name: .customLong("for-model"), help: "The model whose answers the judge is for: whose default probe probe:default is. (default: \(JudgeSpec.embeddedJudgeModel))",
                transform: ModelSpec.init(parsing:))
        var forModel: ModelSpec?
        @Option(help: "Gold JSONL (default: both of emlab's built-in gold sets, apart).") var labels: String?
        @Option(help: "Split to measure on: heldout or train.") var split: String = "heldout"
        @OptionGroup var results: ResultsOptions
        @OptionGroup var threadOptions: ThreadOptions
        @Flag(help: "Print one JSON object per gold set: {\"set\", \"n\", \"accuracy\", \"kappa\", \"precision\", \"recall\", \"auroc\", \"coherence_auroc\", \"mae\"}.")
        var json = false

        func run() async throws {
            var sets: [(name: String?, items: [GoldItem], digest: String)] = []
            if let labels {
                let (all, digest) = try GoldSet.load(path: labels)
                sets.append((labels, all, digest))
            } else {
                for set in GoldSet.Builtin.allCases {
                    let (all, digest) = try GoldSet.load(set)
                    sets.append((set.rawValue, all, digest))
                }
            }
            let j = try await threadOptions.opener().judge(judge, evaluating: forModel)
            for set in sets {
                let items = set.items.filter { $0.split == split }
                guard !items.isEmpty else { throw ValidationError("no gold items in split '\(split)' of \(set.name ?? "the gold set")") }
                let scores = try await JudgeValidation.scores(judge: j, items: items, progress: json ? nil : ProgressBar())
                var f = JudgeValidation.figures(judge: j.spec, split: split, items: items, scores: scores, thresholds: .init())
                f.judgeVersion = j.version
                f.set = set.name
                if labels == nil && split == "heldout" {
                    try JudgeValidationCache.save(f, store: try results.openStore(), digest: set.digest)
                }
                if json {
                    print(try JudgeValidation.summaryJSON(f))
                    continue
                }
                print(TerminalTable.judgeValidation(f, split: split), terminator: "")
                // The models' own answers, by the model that wrote them.
                let sources = Set(items.compactMap { $0.source?.split(separator: "/").first.map(String.init) })
                if sources.count > 1 {
                    var bySource: [ValidationFigures] = []
                    for source in sources.sorted() {
                        let picked = items.indices.filter { items[$0].source?.hasPrefix(source + "/") == true }
                        var g = JudgeValidation.figures(judge: j.spec, split: split, items: picked.map { items[$0] },
                                                        scores: picked.map { scores[$0] }, thresholds: .init())
                        g.set = source
                        bySource.append(g)
                    }
                    print(TerminalTable.bySource(bySource), terminator: "")
                }
                print("")
            }
        }
    }

    struct TrainProbe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "train-probe",
            abstract: "Train a probe judge on the gold set's training split: logistic regressions on the local model's mean-pooled residual stream.",
            discussion: "Example: emlab judge train-probe --layers 8,16,24 --out judge-probe.gguf && emlab judge validate --judge probe:judge-probe.gguf")
        @OptionGroup var modelOptions: ModelOptions
        @Option(help: "Comma-separated layers (0-based, resid_out of each block). (default: 8,16,24)", transform: CommaList.parser("a layer number ≥ 0") { $0 >= 0 })
        var layers: CommaList<Int> = [8, 16, 24]
        @Option(help: "Gold JSONL (default: the built-in gold set); only its train split is used.") var labels: String?
        @Option(help: "L2 regularisation.") var l2: Double = 0.01
        @Option(help: "Where to write the probe (GGUF).") var out: String = "judge-probe.gguf"

        func run() async throws {
            let layerList = layers.elements
            let local = try modelOptions.opener().openLocal(modelOptions.model, for: "a probe")
            let (probe, count) = try await Probe.trainOnGold(model: local, layers: layerList, labels: labels, l2: l2, progress: ProgressBar())
            try probe.write(to: out)
            print("probe: \(out) (\(count) training answers, layers \(layerList.map(String.init).joined(separator: ",")), \(probe.mean.count) features)")
            print("measure it: emlab judge validate --judge probe:\(out)")
        }
    }
}
