import ArgumentParser
import Evaluation
import Foundation
import Inference
import LanguageModels
import ModelStore
import Reports
import ResultsStore

/// `--out` and `--run`, shared by the commands that read or write results.
struct ResultsOptions: ParsableArguments {
    @Option(help: "Results folder (one SQLite database per folder).")
    var out: String = "./emlab-runs"

    func openStore() throws -> ResultsStore { try ResultsStore(folder: URL(fileURLWithPath: out)) }
    func existingStore() throws -> ResultsStore { try ResultsStore.existing(folder: URL(fileURLWithPath: out)) }
}
