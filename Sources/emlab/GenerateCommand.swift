import ArgumentParser
import Core
import Foundation
import Inference
import Tokenizer

struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate", abstract: "Generate one answer to a user message (chat format) or a raw prompt.")

    @OptionGroup var options: ModelOptions
    @OptionGroup var sampling: SamplingOptions
    @OptionGroup var steering: InterventionOptions

    @Option(help: "The user message, formatted with the model's chat template.")
    var prompt: String?

    @Option(help: "System message (with --prompt).")
    var system: String?

    @Option(help: "Text fed to the model as is (special tokens such as <|im_start|> are parsed).")
    var raw: String?

    @Flag(help: "Print {\"prompt_ids\", \"token_ids\", \"text\"} as JSON instead of streaming text.")
    var json = false

    func validate() throws {
        guard (prompt == nil) != (raw == nil) else { throw ValidationError("give exactly one of --prompt or --raw") }
        if system != nil && raw != nil { throw ValidationError("--system goes with --prompt, not --raw") }
    }

    struct Output: Encodable {
        let prompt_ids: [Int32]
        let token_ids: [Int32]
        let text: String
        let finish_reason: String
    }

    func run() throws {
        let local = try options.openLocalModel()
        let engine = local.engine
        let interventions = try steering.resolve(for: local).interventions
        let stream: ((String) -> Bool)? = json ? nil : { piece in
            emit(piece)
            return true
        }
        let result: Generation
        if let raw {
            result = try engine.generate(promptTokens: engine.tokenizer.encode(raw, addSpecial: true, parseSpecial: true),
                                         sampling: sampling.parameters, maxTokens: sampling.maxTokens,
                                         stopStrings: sampling.stop, interventions: interventions, onText: stream)
        } else {
            var messages: [ChatMessage] = []
            if let system { messages.append(ChatMessage(role: .system, content: system)) }
            messages.append(ChatMessage(role: .user, content: prompt!))
            result = try engine.reply(to: messages, sampling: sampling.parameters, maxTokens: sampling.maxTokens,
                                      stopStrings: sampling.stop, interventions: interventions, onText: stream)
        }
        if json {
            try printJSON(Output(prompt_ids: result.promptTokens, token_ids: result.tokens, text: result.text,
                                 finish_reason: result.finishReason.rawValue))
        } else {
            print()
        }
    }
}
