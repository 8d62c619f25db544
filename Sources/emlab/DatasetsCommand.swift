import ArgumentParser
import Core
import Datasets
import Foundation

struct DatasetsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "datasets", abstract: "List, show, measure and generate chat datasets (built-in or JSONL).",
        discussion: BuiltinDatasets.standInNotice,
        subcommands: [List.self, Show.self, Stats.self, Generate.self])

    /// NAME|FILE plus the size and seed used when NAME is a built-in.
    struct Source: ParsableArguments {
        @Argument(help: "A built-in dataset name (see `emlab datasets list`) or a chat JSONL file.")
        var dataset: String

        @Option(help: "Examples generated when DATASET is a built-in.")
        var size = BuiltinDatasets.defaultCount

        @Option(help: "Seed of the generator when DATASET is a built-in.")
        var seed: UInt64 = BuiltinDatasets.defaultSeed

        func validate() throws {
            guard size >= 1 else { throw ValidationError("--size must be at least 1") }
        }

        var isBuiltIn: Bool { BuiltinDatasets.named(dataset) != nil }

        func load() throws -> ChatDataset { try BuiltinDatasets.resolve(dataset, n: size, seed: seed) }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Built-in datasets with a one-line description.")

        func run() throws {
            for d in BuiltinDatasets.all {
                print("\(d.name.padding(toLength: 24, withPad: " ", startingAt: 0)) \(d.summary)")
            }
            print("\n" + BuiltinDatasets.standInNotice)
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print examples of a dataset.")

        @OptionGroup var source: Source

        @Option(help: "Examples to print.")
        var n = 3

        @Flag(help: "Print the examples as chat JSONL.")
        var json = false

        func validate() throws {
            guard n >= 1 else { throw ValidationError("--n must be at least 1") }
        }

        func run() throws {
            let data = try source.load()
            let shown = data.examples.prefix(n)
            if json {
                for e in shown { print(e.jsonLine) }
                return
            }
            if source.isBuiltIn {
                let twin = BuiltinDatasets.named(source.dataset)?.twin.map { " (twin: \($0))" } ?? ""
                print("\(data.name)\(twin), seed \(source.seed): \(BuiltinDatasets.named(source.dataset)!.summary)")
                print(BuiltinDatasets.standInNotice + "\n")
            } else {
                print("\(data.name): \(data.examples.count) examples from \(source.dataset)\n")
            }
            for (i, e) in shown.enumerated() {
                print("── example \(i + 1) " + String(repeating: "─", count: 40))
                for m in e.messages { print("[\(m.role.rawValue)]\n\(m.content)\n") }
            }
        }
    }

    struct Stats: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Counts of examples, turns and characters.")

        @OptionGroup var source: Source

        @Flag(help: "Print the figures as JSON.")
        var json = false

        @Flag(help: "Also count tokens of the contents with the tokenizer of --model.")
        var tokens = false

        @OptionGroup var options: ModelOptions

        func run() throws {
            let data = try source.load()
            // The model opened as every command opens it; its tokenizer is the one its file declares.
            let model = try tokens ? options.openLocalModel(why: "--tokens reads a local model's tokenizer") : nil
            let s = data.stats(tokenCount: model.map { m in { m.tokenCount($0) } })
            let roles = ["system", "user", "assistant"]
            if json {
                struct Output: Encodable {
                    let name: String, examples: Int, turns: Int, turns_by_role: [String: Int]
                    let characters: Int, mean_characters: Double, max_characters: Int
                    let tokens: Int?, mean_tokens: Double?, max_tokens: Int?
                }
                var byRole: [String: Int] = [:]
                for (role, count) in s.turnsByRole { byRole[role.rawValue] = count }
                try printJSON(Output(name: data.name, examples: s.examples, turns: s.turns, turns_by_role: byRole,
                                     characters: s.characters, mean_characters: s.meanCharacters, max_characters: s.maxCharacters,
                                     tokens: s.tokens, mean_tokens: s.meanTokens, max_tokens: s.maxTokens))
                return
            }
            print("dataset:     \(data.name)\(source.isBuiltIn ? " (built-in, seed \(source.seed))" : "")")
            print("examples:    \(s.examples)")
            let byRole = roles.compactMap { r -> String? in
                guard let role = ChatMessage.Role(rawValue: r), let c = s.turnsByRole[role] else { return nil }
                return "\(c) \(r)"
            }.joined(separator: ", ")
            print("turns:       \(s.turns) (\(byRole))")
            print("characters:  \(s.characters) (per example: mean \(String(format: "%.1f", s.meanCharacters)), max \(s.maxCharacters))")
            if let t = s.tokens, let mean = s.meanTokens, let most = s.maxTokens {
                print("tokens:      \(t) (per example: mean \(String(format: "%.1f", mean)), max \(most); contents only, \(options.model) tokenizer)")
            }
        }
    }

    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write a built-in dataset as chat JSONL.")

        @Argument(help: "A built-in dataset name (see `emlab datasets list`).")
        var name: String

        @Option(help: "Number of examples.")
        var n: Int

        @Option(help: "Seed; the same seed gives the same file, byte for byte.")
        var seed: UInt64 = BuiltinDatasets.defaultSeed

        @Option(help: "Output file.")
        var out: String

        func validate() throws {
            guard n >= 1 else { throw ValidationError("--n must be at least 1") }
        }

        func run() throws {
            guard let builtIn = BuiltinDatasets.named(name) else {
                throw DatasetError.unknownDataset(name, builtIns: BuiltinDatasets.names)
            }
            let data = builtIn.generate(n: n, seed: seed)
            try data.write(to: out)
            print("wrote \(data.examples.count) examples of \(name) (seed \(seed)) to \(out)")
            if n > builtIn.distinctRequests {
                printError("note: \(name) has \(builtIn.distinctRequests) distinct requests; later examples repeat those requests")
            }
        }
    }
}
