import ArgumentParser

@main
struct Emlab: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "emlab",
        abstract: "Emergent-misalignment lab: run, probe and measure language models on the CPU.",
        subcommands: [ModelsCommand.self, TokenizeCommand.self, GenerateCommand.self, ChatCommand.self,
                      BenchCommand.self, DatasetsCommand.self])
}
