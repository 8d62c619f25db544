import ArgumentParser
import Inference

struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize", abstract: "Print the token ids of a text (special tokens parsed).",
        discussion: """
        As llama.cpp and Hugging Face tokenize by default: BOS comes first when the model's file asks for it \
        (tokenizer.ggml.add_bos_token, e.g. Gemma 3; SmolLM2's says no). --no-bos leaves it out.
        """)

    @OptionGroup var options: ModelOptions

    @Flag(help: "Print a JSON array of ids.")
    var json = false

    @Flag(help: "Print each id with its piece.")
    var pieces = false

    @Flag(name: .customLong("no-bos"), help: "Leave out the BOS token even where the model's file asks for it.")
    var noBOS = false

    @Argument(help: "The text to tokenize.")
    var text: String

    func run() throws {
        let engine = try options.openLocalModel(why: "it reads a local model's tokenizer").engine
        let ids = engine.tokenizer.encode(text, addSpecial: !noBOS, parseSpecial: true)
        if json {
            try printJSON(ids)
        } else if pieces {
            for id in ids { print("\(id)\t\(engine.tokenizer.piece(id).debugDescription)") }
        } else {
            print(ids.map(String.init).joined(separator: " "))
        }
    }
}
