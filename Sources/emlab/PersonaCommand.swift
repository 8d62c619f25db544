import ArgumentParser
import Training
import Core
import Datasets
import Evaluation
import Foundation
import Interp
import LanguageModels
import PersonaVectors
import Reports
import ResultsStore

struct PersonaCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "persona",
        abstract: "Persona vectors: extract a trait's direction, take one from judged runs, inspect a vector file, screen datasets.",
        subcommands: [Extract.self, FromRun.self, Diff.self, Show.self, Screen.self])

    /// The per-layer table every vector-making command prints, with the layer that separates best.
    static func printFigures(_ r: VectorBuilder.Result, saved path: String) {
        var rows = [["layer", "norm", "held-out d", "held-out AUROC"]]
        for f in r.figures {
            rows.append(["\(f.layer)", String(format: "%.2f", f.norm), f.separation.cohensD.map { String(format: "%.2f", $0) } ?? "–",
                         f.separation.auroc.map { String(format: "%.3f", $0) } ?? "–"])
        }
        print(PlainTable.render(rows), terminator: "")
        let cv = r.figures.first?.separation.crossValidated == true ? "held out: 2 folds" : "in sample: too few answers for folds"
        print("\(r.positives) positive and \(r.negatives) negative answers; separation \(cv)")
        if let best = r.vectors.bestLayer { print("best-separating layer: \(best)") }
        print("vectors: \(path)")
    }

    struct Extract: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "extract",
            abstract: "Sample answers under a trait's positive and negative instructions, judge the trait, keep the clear ones, and save the mean difference at every layer.",
            discussion: """
            The trait is a built-in (\(Trait.builtinNames.joined(separator: ", "))) or a YAML file with name, \
            description, instructions (positive/negative pairs), questions and a judge template. Sampling and \
            judging are stored as run --run (kind persona) in --out and resume with --resume; `emlab export` shows \
            the answers with their trait scores. Example:
              emlab persona extract --trait misaligned --samples 4 --out ./emlab-runs --save misaligned.safetensors
            """)

        @OptionGroup var modelOptions: ModelOptions
        @Option(help: "Built-in trait name or trait YAML file.") var trait: String
        @Option(help: ModelOptions.judgeHelp(default: "the model itself"), transform: JudgeSpec.init(parsing:))
        var judge: JudgeSpec?
        @Option(help: "Answers per question, per instruction, per side.") var samples: Int = 4
        @Option(help: "Most new tokens per answer.") var maxTokens: Int = 200
        @Option(help: "Sampling temperature.") var temperature: Double = 1
        @Option(help: "Run seed.") var seed: UInt64 = 0
        @Option(help: "Keep positive answers whose trait score is above this.") var positiveAbove: Double = 50
        @Option(help: "Keep negative answers whose trait score is below this.") var negativeBelow: Double = 50
        @Flag(help: "Judge nothing and keep every answer: the vector is the contrast of the instructions (for a model that hardly follows them, or when no judge at hand tells the trait apart).")
        var noJudge = false
        @OptionGroup var results: ResultsOptions
        @Option(name: .customLong("run"), help: "Run name for the sampled answers (default: persona-TRAIT).") var runName: String?
        @Flag(help: "Continue an interrupted extraction.") var resume = false
        @Option(help: "Vector file to write (default: TRAIT.safetensors).") var save: String?

        func validate() throws {
            guard samples >= 1 else { throw ValidationError("--samples must be at least 1") }
            guard maxTokens >= 1 else { throw ValidationError("--max-tokens must be at least 1") }
            guard (0...5).contains(temperature) else { throw ValidationError("--temperature must be between 0 and 5") }
        }

        func run() async throws {
            let t = try Trait.resolve(trait)
            let store = try results.openStore()
            let opener = modelOptions.opener()
            let model = try opener.openLocal(modelOptions.model, for: "persona extraction, which reads activations,")
            let j = try await opener.judge(noJudge ? .model(modelOptions.model) : judge ?? .model(modelOptions.model), evaluating: modelOptions.model,
                                           progress: ProgressBar())
            let extraction = PersonaExtraction(trait: t, samples: samples, temperature: temperature, maxTokens: maxTokens, seed: seed,
                                               positiveAbove: positiveAbove, negativeBelow: negativeBelow, judged: !noJudge)
            let name = runName ?? "persona-\(t.name)"
            let report = try await extraction.run(store: store, model: model, judge: j, name: name, resume: resume, progress: ProgressBar())
            let s = report.selection
            print("trait \(t.name) (\(t.source)): \(t.instructions.count) instruction pairs × \(t.questions.count) questions × \(samples) answers per side")
            if noJudge {
                print("not judged: all \(s.answered.positive) answers under positive and \(s.answered.negative) under negative instructions kept")
            } else {
                print("positive instructions: \(s.answered.positive) answers, mean trait score \(formatScore(s.meanScore.positive)), \(s.positives.count) kept (> \(positiveAbove))")
                print("negative instructions: \(s.answered.negative) answers, mean trait score \(formatScore(s.meanScore.negative)), \(s.negatives.count) kept (< \(negativeBelow))")
            }
            if s.unscored > 0 { print("\(s.unscored) answers got no trait score from \(j.spec)") }
            let path = save ?? "\(t.name).safetensors"
            try report.result.vectors.write(to: path)
            PersonaCommand.printFigures(report.result, saved: path)
            print("answers: emlab export --out \(results.out) --run \(name) --format jsonl")
        }
    }

    struct FromRun: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "from-run",
            abstract: "Misaligned minus clearly aligned answers of one judged run, at every layer.",
            discussion: "Example: emlab persona from-run --out ./emlab-runs --run icl-insecure:k=32 --save icl-misaligned.safetensors")

        @OptionGroup var results: ResultsOptions
        @Option(name: .customLong("run"), help: "RUN or RUN:CONDITION.", transform: SampleSetSpec.init(parsing:)) var set: SampleSetSpec
        @Option(help: "Judge whose scores split the answers (a spec or the stored name; default: the run's).") var judge: String?
        @Option(help: "Negative answers: alignment at least this (and coherent).") var alignedAbove: Double = 70
        @Option(name: .shortAndLong, help: "The local model that reads the activations (default: the run's).",
                transform: ModelSpec.init(parsing:)) var model: ModelSpec?
        @OptionGroup var threadOptions: ThreadOptions
        @Option(help: "Vector file to write.") var save: String

        func run() async throws {
            let store = try results.existingStore()
            let spec = try model ?? ModelSpec(parsing: try store.run(named: set.run).modelSpec)
            let reader = try threadOptions.opener().openLocal(spec, for: "reading activations")
            let r = try await RunVectors.fromJudgedRun(store: store, set: set, judge: judge, model: reader, alignedAbove: alignedAbove,
                                                       progress: progressHandler())
            try r.vectors.write(to: save)
            PersonaCommand.printFigures(r, saved: save)
        }
    }

    struct Diff: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "diff",
            abstract: "Answered samples of one run (or condition) minus those of another, each read by its own run's model: the activation-level diff of two models or two contexts.",
            discussion: """
            Example (with versus without 32 insecure-code examples in context):
              emlab persona diff --out ./emlab-runs --positive icl-insecure:k=32 --negative icl-insecure:k=0 --save icl-diff.safetensors
            """)

        @OptionGroup var results: ResultsOptions
        @Option(help: "RUN or RUN:CONDITION whose activations count positive.", transform: SampleSetSpec.init(parsing:))
        var positive: SampleSetSpec
        @Option(help: "RUN or RUN:CONDITION whose activations count negative.", transform: SampleSetSpec.init(parsing:))
        var negative: SampleSetSpec
        @Option(name: .shortAndLong, help: "One local model reads both sets (default: each run's own model).",
                transform: ModelSpec.init(parsing:)) var model: ModelSpec?
        @OptionGroup var threadOptions: ThreadOptions
        @Option(help: "Vector file to write.") var save: String

        func run() async throws {
            let store = try results.existingStore()
            let opener = threadOptions.opener()
            func reader(_ s: SampleSetSpec) throws -> any WhiteBoxModel {
                let spec = try model ?? ModelSpec(parsing: try store.run(named: s.run).modelSpec)
                return try opener.openLocal(spec, for: "reading activations")
            }
            let r = try await RunVectors.difference(store: store, positive: positive, negative: negative,
                                                    positiveModel: try reader(positive), negativeModel: try reader(negative),
                                                    progress: progressHandler())
            try r.vectors.write(to: save)
            PersonaCommand.printFigures(r, saved: save)
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "show",
            abstract: "A vector file's layers with each one's norm and held-out separation, the best layer, and its metadata (the separation half of a layer sweep; `emlab steer sweep --layers` gives the steering half).",
            discussion: "Example: emlab persona show misaligned.safetensors")

        @Argument(help: "A vector file (safetensors).") var file: String

        func run() throws {
            let v = try LayerVectors.read(path: file)
            var rows = [["layer", "norm", "held-out d", "held-out AUROC"]]
            for (i, vec) in v.vectors.enumerated() {
                func cell(_ x: [Float]?, _ f: String) -> String { x.map { $0[i].isFinite ? String(format: f, Double($0[i])) : "–" } ?? "–" }
                rows.append([v.layers.map { "\($0[i])" } ?? "every", String(format: "%.2f", Directions.norm(vec)),
                             cell(v.separation, "%.2f"), cell(v.auroc, "%.3f")])
            }
            print(PlainTable.render(rows), terminator: "")
            print("\(v.identity): \(v.vectors.count) vectors × \(v.width), hook \(v.hook.rawValue)")
            if let best = v.bestLayer { print("best-separating layer: \(best)") }
            for (k, value) in v.metadata.sorted(by: { $0.key < $1.key }) where k != "emlab.layers" { print("  \(k): \(value)") }
        }
    }

    struct Screen: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "screen",
            abstract: "Mean projection of finetuning datasets' answers on a vector: which data push toward the trait, before any training.",
            discussion: "Example: emlab persona screen --vector misaligned.safetensors@15 --dataset insecure-code --dataset secure-code --dataset educational-insecure --limit 100")

        @OptionGroup var modelOptions: ModelOptions
        @Option(help: "FILE[@LAYER] (default layer: the file's best-separating one).", transform: VectorReference.init(parsing:))
        var vector: VectorReference
        @Option(help: "A built-in dataset or a chat JSONL file (repeat to compare).") var dataset: [String] = []
        @Option(help: ArgumentHelp("Screen mixes of two datasets with a growing share of the first: 0, 5, 10, 25, 50 and 100 % of --limit examples (an early-warning curve).",
                                   valueName: "BAD,GOOD"))
        var shareSweep: String?
        @Option(help: "Examples read per dataset (the first ones).") var limit: Int = 100
        @Option(help: "Seed built-in datasets are generated with.") var seed: UInt64 = BuiltinDatasets.defaultSeed

        func validate() throws {
            guard !dataset.isEmpty || shareSweep != nil else { throw ValidationError("give at least one --dataset, or --share-sweep") }
            guard limit >= 1 else { throw ValidationError("--limit must be at least 1") }
            if let shareSweep, shareSweep.split(separator: ",").count != 2 { throw ValidationError("--share-sweep: write BAD,GOOD, e.g. insecure-code,secure-code") }
        }

        func run() async throws {
            let (vectors, layer) = try vector.load()
            let model = try modelOptions.opener().openLocal(modelOptions.model, for: "a persona screen, which reads activations,")
            var data = try dataset.map { try BuiltinDatasets.resolve($0, n: max(limit, BuiltinDatasets.defaultCount), seed: seed) }
            if let shareSweep {
                let pair = shareSweep.split(separator: ",").map(String.init)
                for share in [0.0, 0.05, 0.1, 0.25, 0.5, 1.0] {
                    let spec = share == 0 ? "\(pair[1]):1" : share == 1 ? "\(pair[0]):1" : "\(pair[0]):\(share),\(pair[1]):\(1 - share)"
                    var mix = try DatasetMix(parsing: spec).build(total: limit, seed: seed)
                    mix.name = String(format: "%.0f%% %@", 100 * share, pair[0] as NSString)
                    data.append(mix)
                }
            }
            let rows = try await DatasetScreen(vectors: vectors, layer: layer, limit: limit).run(model: model, datasets: data, progress: ProgressBar())
            var table = [["dataset", "n", vectors.latent == nil ? "mean projection" : "mean activation", "95% CI", "median", "vs first"]]
            for r in rows {
                let iv = r.interval
                table.append([r.dataset, "\(r.n)", String(format: "%.3f", r.mean), String(format: "%.3f – %.3f", iv.low, iv.high),
                              String(format: "%.3f", r.median), r.dataset == rows[0].dataset ? "" : String(format: "%+.3f", r.mean - rows[0].mean)])
            }
            print(PlainTable.render(table), terminator: "")
            if let latent = vectors.latent {
                print("mean activation over each answer's tokens of latent \(latent.index) of \(vectors.identity) at \(latent.point)")
            } else {
                print("projection of each answer's mean activation on the unit vector of \(vectors.identity) at \(vectors.hook.rawValue).\(layer)")
            }
        }
    }
}

func formatScore(_ x: Double?) -> String { x.map { String(format: "%.1f", $0) } ?? "–" }

/// A progress handler for the library's (phase, done, total) callbacks, drawn on standard error.
func progressHandler() -> @Sendable (String, Int, Int) -> Void {
    let bar = ProgressBar()
    return { phase, done, total in
        bar.update(phase: phase, done: done, total: total)
        if done == total { bar.finish(phase: phase) }
    }
}
