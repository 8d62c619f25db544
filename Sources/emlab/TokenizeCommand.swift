import ArgumentParser
import Inference

struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize", abstract: "Print the token ids of a text (special tokens parsed).")

    @OptionGroup var options: ModelOptions

    @Flag(help: "Print a JSON array of ids.")
    var json = false

    @Flag(help: "Print each id with its piece.")
    var pieces = false

    @Argument(help: "The text to tokenize.")
    var text: String

    func run() throws {
        let engine = try options.loadEngine()
        let ids = engine.tokenizer.encode(text, parseSpecial: true)
        if json {
            try printJSON(ids)
        } else if pieces {
            for id in ids { print("\(id)\t\(engine.tokenizer.piece(id).debugDescription)") }
        } else {
            print(ids.map(String.init).joined(separator: " "))
        }
    }
}
