import ArgumentParser

@main
struct Emlab: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "emlab",
        abstract: "Emergent-misalignment lab: run, probe and measure language models on the CPU.",
        subcommands: [ModelsCommand.self, TokenizeCommand.self, GenerateCommand.self, ChatCommand.self,
                      BenchCommand.self, QuestionsCommand.self, EvalCommand.self, JudgeCommand.self,
                      ExportCommand.self, ReportCommand.self, CompareCommand.self, DemoCommand.self, DatasetsCommand.self, ICLCommand.self,
                      ServeCommand.self, ServeBenchCommand.self])
}
