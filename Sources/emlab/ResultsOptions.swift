import ArgumentParser
import Foundation
import ResultsStore

/// `--out`, the results folder, shared by the commands that read or write results.
struct ResultsOptions: ParsableArguments {
    @Option(help: "Results folder (one SQLite database per folder).")
    var out: String = "./emlab-runs"

    /// The folder's database, created if it is not there.
    func openStore() throws -> ResultsStore { try ResultsStore(folder: URL(fileURLWithPath: out)) }
    /// The folder's database, which must exist.
    func existingStore() throws -> ResultsStore { try ResultsStore.existing(folder: URL(fileURLWithPath: out)) }
}

/// `--out` and `--run NAME`: one run in a results folder, for the commands that write or read one run.
struct RunOptions: ParsableArguments {
    @OptionGroup var results: ResultsOptions

    @Option(name: .customLong("run"), help: "Run name (unique in the results folder).")
    var name: String

    func openStore() throws -> ResultsStore { try results.openStore() }
    func existingStore() throws -> ResultsStore { try results.existingStore() }
}

/// `--out` and `--run NAME` repeated: runs of one results folder put side by side.
struct RunListOptions: ParsableArguments {
    @OptionGroup var results: ResultsOptions

    @Option(name: .customLong("run"), help: "Run name (repeat to put runs side by side).")
    var names: [String] = []

    func existingStore() throws -> ResultsStore { try results.existingStore() }
}
