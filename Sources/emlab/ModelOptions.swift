import ArgumentParser
import Foundation
import Inference
import LanguageModels
import ModelStore

/// `--model` and `--threads`, shared by every command that runs a model.
struct ModelOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: "A registered model name (see `emlab models list`) or a path to a .gguf file; NAME,chat=transcript talks to a base model as a plain-text dialogue; NAME,prompts=8bit computes prompts on the 8-bit kernels.")
    var model: String = "smollm2-135m"

    @Option(help: "Threads for the engine and BLAS.")
    var threads: Int = 2

    func validate() throws {
        guard threads >= 1, threads <= 256 else { throw ValidationError("--threads must be between 1 and 256") }
    }

    /// The `--model` spec, which must name a local model, and its registered name or path.
    func localSpec() throws -> (spec: ModelSpec, name: String) { try Self.localSpec(model) }

    /// A `--model` text that must name a local model: its spec and registered name or path. `why` says
    /// what needs a local model, in the error for a remote spec.
    static func localSpec(_ text: String, why: String = "this command runs the embedded engine") throws -> (spec: ModelSpec, name: String) {
        let spec: ModelSpec
        do { spec = try ModelSpec(parsing: text) } catch let e as LanguageModelError { throw ValidationError(e.description) }
        guard let name = spec.localName else {
            throw ValidationError("--model: \(why); give a local model, not '\(text)'")
        }
        return (spec, name)
    }

    func loadEngine() throws -> Engine {
        let (spec, name) = try localSpec()
        Parallel.configure(threads: threads)
        return try Engine(path: try ModelStore.fromEnvironment().resolve(name).path, chatTemplate: spec.chatTemplate,
                          promptPath: spec.promptPath)
    }
}

/// Writes text to standard output at once (streamed tokens), through the same buffer as `print`.
func emit(_ text: String) {
    print(text, terminator: "")
    fflush(nil)   // all output streams; `stdout` itself is not concurrency-safe to name in Swift 6
}

/// Prints `message` to standard error.
func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}

/// Encodes a value as one line of JSON on standard output.
func printJSON<T: Encodable>(_ value: T) throws {
    let enc = JSONEncoder()
    enc.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    print(String(decoding: try enc.encode(value), as: UTF8.self))
}
