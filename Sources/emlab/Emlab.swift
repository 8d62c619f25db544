import ArgumentParser
import Foundation

@main
struct Emlab: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "emlab",
        abstract: "Emergent-misalignment lab: run, probe and measure language models on the CPU.",
        subcommands: [ModelsCommand.self, TokenizeCommand.self, GenerateCommand.self, ChatCommand.self,
                      BenchCommand.self, QuestionsCommand.self, EvalCommand.self, JudgeCommand.self,
                      ExportCommand.self, ReportCommand.self, CompareCommand.self, DemoCommand.self, DatasetsCommand.self, ICLCommand.self,
                      ActivationsCommand.self, PersonaCommand.self, SteerCommand.self, MonitorCommand.self,
                      FinetuneCommand.self, SAECommand.self,
                      ServeCommand.self, ServeBenchCommand.self, GuardCommand.self,
                      AgenticCommand.self, SandboxCommand.self, HackCommand.self])

    /// ArgumentParser's main, except that malformed data files (see `DataErrors`) print one line,
    /// `error: FILE:LINE: …`, and exit 65 (EX_DATAERR) instead of going through `exit(withError:)`.
    static func main() async {
        do {
            var command = try await asyncParseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            if let message = DataErrors.message(for: error) {
                FileHandle.standardError.write(Data("error: \(message)\n".utf8))
                Foundation.exit(DataErrors.exitCode)
            }
            exit(withError: error)
        }
    }
}
