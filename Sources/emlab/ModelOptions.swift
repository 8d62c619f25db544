import ArgumentParser
import Evaluation
import LanguageModels

/// `--threads`, for every command that may run the embedded engine (as the evaluated model, a judge
/// or a probe's model). The library sets the thread count when it opens a local model
/// (`LanguageModelOptions.threads`); commands pass it on through `opener`.
struct ThreadOptions: ParsableArguments {
    @Option(help: "Threads for the local engine and BLAS.")
    var threads: Int = 2

    func validate() throws {
        guard threads >= 1, threads <= 256 else { throw ValidationError("--threads must be between 1 and 256") }
    }

    /// The opener every model and judge of a command comes from.
    func opener(maxBatch: Int = 64, prefixCache: Bool = true, maxConnections: Int = 8,
                cache: (any ResponseCache)? = nil) -> ModelOpener {
        ModelOpener(threads: threads, maxBatch: maxBatch, prefixCache: prefixCache, maxConnections: maxConnections, cache: cache)
    }
}

/// `-m/--model` (parsed once into a `ModelSpec`) and `--threads`, shared by every command that runs a
/// model. Commands that drive the engine itself (raw prompts, tokenizing, the benchmark) take local
/// models only and say so when given a remote one.
struct ModelOptions: ParsableArguments {
    /// The embedded model, every command's default.
    static let defaultModel = ModelSpec.local("smollm2-135m")

    @Option(name: .shortAndLong, help: ArgumentHelp(ModelOptions.modelHelp, valueName: "spec"), transform: ModelSpec.init(parsing:))
    var model: ModelSpec = ModelOptions.defaultModel

    @OptionGroup var threadOptions: ThreadOptions

    var threads: Int { threadOptions.threads }

    /// The help of `--model`, the same for every command.
    static let modelHelp = """
        The model: local:NAME|PATH[,chat=FORMAT][,prompts=8bit] (NAME as `emlab models list` shows it, \
        PATH a .gguf file; `local:` may be left out; chat=transcript talks to a base model as a plain-text \
        dialogue; prompts=8bit computes prompts on the 8-bit kernels), openai:MODEL or \
        openai-compatible:URL#MODEL. Commands that run the engine itself take local models only. \
        (default: \(defaultModel))
        """

    /// The help of `--judge` wherever it is taken, with that command's default (nil: required).
    static func judgeHelp(default: String?) -> ArgumentHelp {
        ArgumentHelp("Judge spec: a model spec as --model takes it, probe:FILE (from `emlab judge train-probe`) or probe:default."
                     + (`default`.map { " Default: \($0)." } ?? ""), valueName: "judge")
    }

    func opener(maxBatch: Int = 64, prefixCache: Bool = true, maxConnections: Int = 8,
                cache: (any ResponseCache)? = nil) -> ModelOpener {
        threadOptions.opener(maxBatch: maxBatch, prefixCache: prefixCache, maxConnections: maxConnections, cache: cache)
    }

    /// The registered name or path of `--model`, which must name a local model. `why` says what needs
    /// one, in the error a remote spec gets.
    func localName(why: String = "this command runs the embedded engine") throws -> String {
        guard let name = model.localName else {
            throw ValidationError("--model: \(why); give a local model, not '\(model)'")
        }
        return name
    }

    /// The local model `--model` names, opened by the library as every model is (`ModelOpener`), for the
    /// commands that work below the model protocol: `.engine` gives raw prompts, the tokenizer and the
    /// benchmark. A base model is not refused here; what needs a chat template says so itself.
    func openLocalModel(why: String = "this command runs the embedded engine", maxBatch: Int = 64) throws -> LocalModel {
        _ = try localName(why: why)
        guard let local = try opener(maxBatch: maxBatch).open(model, chat: false) as? LocalModel else {
            throw ValidationError("--model: \(why); '\(model)' did not open as a local model")
        }
        return local
    }
}
