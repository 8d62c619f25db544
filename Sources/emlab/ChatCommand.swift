import ArgumentParser
import Core
import Foundation
import Inference
import Tokenizer

struct ChatCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat",
        abstract: "Talk with a model, streaming its answers. /reset clears the conversation, /exit quits.")

    @OptionGroup var options: ModelOptions
    @OptionGroup var sampling: SamplingOptions
    @OptionGroup var steering: InterventionOptions

    @Option(help: "System message for the conversation (default: the template's own, if any).")
    var system: String?

    func run() throws {
        let local = try options.openLocalModel()
        let engine = local.engine
        let interventions = try steering.resolve(for: local).interventions
        _ = try engine.requireChatTemplate()
        var messages: [ChatMessage] = system.map { [ChatMessage(role: .system, content: $0)] } ?? []
        let interactive = isatty(STDIN_FILENO) != 0
        var turn: UInt64 = 0
        while true {
            if interactive { emit("> ") }
            guard let line = readLine() else { break }
            let text = line.trimmingCharacters(in: .whitespaces)
            if text.isEmpty { continue }
            if text == "/exit" || text == "/quit" { break }
            if text == "/reset" {
                messages = system.map { [ChatMessage(role: .system, content: $0)] } ?? []
                print("(conversation cleared)")
                continue
            }
            messages.append(ChatMessage(role: .user, content: text))
            var params = sampling.parameters
            params.seed = sampling.seed &+ turn
            turn += 1
            let result = try engine.reply(
                to: messages, sampling: params, maxTokens: sampling.maxTokens, stopStrings: sampling.stop,
                interventions: interventions
            ) { piece in
                emit(piece)
                return true
            }
            print()
            messages.append(ChatMessage(role: .assistant, content: result.text))
        }
    }
}
