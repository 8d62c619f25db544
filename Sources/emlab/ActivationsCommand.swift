import ArgumentParser
import Core
import Datasets
import Evaluation
import Foundation
import Interp
import PersonaVectors
import Reports
import ResultsStore
import Safetensors

struct ActivationsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "activations",
        abstract: "Write a local model's activations for stored answers, dataset conversations or questions to safetensors.",
        discussion: """
        One row per transcript (pooled) or per token (--pool all): tensors activations [rows, layers, width], \
        sample, prompt_tokens (and position); metadata names the model and its file's sha256, hook, layers, \
        pooling and each shard's sample ids. Past --shard-mb the file is split into STEM-0000i-of-0000N.safetensors \
        shards with an index, FILE.index.json; memory stays flat. Examples:
          emlab activations --run baseline --layers all --pool answer-mean --out acts.safetensors
          emlab activations --dataset insecure-code --limit 200 --layers 8-20 --dtype f16 --out insecure.safetensors
          emlab activations --questions core --pool prompt-last --out prompts.safetensors
        """)

    @OptionGroup var modelOptions: ModelOptions
    @Option(name: .customLong("run"), help: "Stored answers of this run (RUN or RUN:CONDITION) in --results.")
    var run: String?
    @Option(help: "Results folder --run is read from.")
    var results: String = "./emlab-runs"
    @Option(help: "A built-in dataset name or a chat JSONL file: each conversation's last assistant turn is the answer.")
    var dataset: String?
    @Option(help: "Examples a built-in dataset is generated with.")
    var size: Int = BuiltinDatasets.defaultCount
    @Option(help: "Read only the first N transcripts.")
    var limit: Int?
    @Option(help: "A question set (built-in name or file): every paraphrase as a prompt without an answer.")
    var questions: String?
    @Option(help: "Layers: all, numbers, ranges (8-12), comma-separated.", transform: LayerSelection.init(parsing:))
    var layers: LayerSelection = .all
    @Option(help: "Hook point of each layer: resid_out, resid_in, attn_out, mlp_out.")
    var hook: String = "resid_out"
    @Option(help: "answer-mean (the answer's tokens averaged), prompt-last (the prompt's last token) or all (every token).")
    var pool: String = "answer-mean"
    @Option(help: "Output file (.safetensors).")
    var out: String
    @Option(help: "f32 or f16.")
    var dtype: String = "f32"
    @Option(help: "Start a new shard past this many MiB.")
    var shardMb: Int = 256
    @Option(help: "Answers longer than this many tokens are cut.")
    var maxAnswerTokens: Int = 512

    static let poolings: [String: Pooling] = ["answer-mean": .answerMean, "prompt-last": .lastPromptToken, "all": .everyPosition]

    func validate() throws {
        guard [run, dataset, questions].compactMap({ $0 }).count == 1 else {
            throw ValidationError("give exactly one of --run, --dataset or --questions")
        }
        guard HookKind(rawValue: hook) != nil else {
            throw ValidationError("--hook must be one of \(HookKind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard let p = Self.poolings[pool] else { throw ValidationError("--pool must be answer-mean, prompt-last or all") }
        if questions != nil && p == .answerMean {
            throw ValidationError("--questions gives prompts without answers: use --pool prompt-last or --pool all")
        }
        guard ["f32", "f16"].contains(dtype) else { throw ValidationError("--dtype must be f32 or f16") }
        guard shardMb >= 1 else { throw ValidationError("--shard-mb must be at least 1") }
        guard maxAnswerTokens >= 1 else { throw ValidationError("--max-answer-tokens must be at least 1") }
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
    }

    func run() async throws {
        var items: [ActivationItem]
        var source: String
        if let run {
            let set = try SampleSetSpec(parsing: run)
            let store = try ResultsStore.existing(folder: URL(fileURLWithPath: results))
            items = try Transcripts.run(try RunResults(store: store, name: set.run)) { set.contains($0.sample.condition) }
            source = "run:\(set) in \(results)"
        } else if let dataset {
            let data = try BuiltinDatasets.resolve(dataset, n: max(size, limit ?? 0))
            items = Transcripts.dataset(data)
            source = "dataset:\(data.name)"
        } else {
            items = Transcripts.questions(try loadQuestions(questions!))
            source = "questions:\(questions!)"
        }
        if let limit { items = Array(items.prefix(limit)) }
        guard !items.isEmpty else { throw ValidationError("\(source) has no transcripts to read") }
        let model = try modelOptions.opener().openLocal(modelOptions.model, for: "reading activations")
        let collection = ActivationCollection(
            hook: HookKind(rawValue: hook)!, layers: try layers.resolve(layerCount: model.layerCount, model: model.identity.spec),
            pooling: Self.poolings[pool]!, dtype: dtype == "f16" ? .f16 : .f32, maxAnswerTokens: maxAnswerTokens,
            maxShardBytes: shardMb << 20)
        var metadata = ModelFile.metadata(model)
        metadata["emlab.source"] = source
        let started = Date()
        let bar = ProgressBar()
        let shards = try await collection.collect(model: model, items: items, path: out, metadata: metadata) { done, total in
            bar.update(phase: "activations", done: done, total: total)
        }
        bar.finish(phase: "activations")
        let rows = shards.reduce(0) { $0 + $1.rows }
        print("\(items.count) transcripts, \(rows) rows of \(collection.layers.count) layers × \(model.width) (\(hook), \(pool), \(dtype)) in \(String(format: "%.0f", Date().timeIntervalSince(started))) s")
        for s in shards { print("wrote \(s.path) (\(s.rows) rows)") }
        if shards.count > 1 { print("index: \(SafetensorsShardWriter.indexPath(for: out))") }
    }
}
