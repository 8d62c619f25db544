import ArgumentParser
import Core
import Evaluation
import Foundation
import Interp
import LanguageModels
import PersonaVectors
import Reports
import ResultsStore

struct MonitorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "monitor",
        abstract: "Project each stored answer's activation on a vector, store it beside the judgments, and print the AUROC against the judge's misaligned decision.",
        discussion: """
        The answer's mean activation at the layer is projected on the unit vector (read by teacher forcing \
        after the messages it was sampled with); --before reads the prompt's last position instead, before \
        any answer exists (an early warning: one value per prompt). Projections are stored in the results \
        database (table projection) and computed once. Example:
          emlab monitor --vector misaligned.safetensors@15 --out ./emlab-runs --run baseline
        """)

    @OptionGroup var runOptions: RunOptions
    @Option(help: "FILE[@LAYER] (default layer: the file's best-separating one).", transform: VectorReference.init(parsing:))
    var vector: VectorReference
    @Flag(help: "Read the prompt's last position instead of the answer.") var before = false
    @Option(help: "Judge whose decision the projection is scored against (a spec or the stored name; default: the run's).")
    var judge: String?
    @Option(name: .shortAndLong, help: "The local model that reads the activations (default: the run's).", transform: ModelSpec.init(parsing:))
    var model: ModelSpec?
    @OptionGroup var threadOptions: ThreadOptions
    @Option(help: "Print this many answers with the highest projections.") var top: Int = 5

    func run() async throws {
        let store = try runOptions.existingStore()
        let results = try RunResults(store: store, name: runOptions.name, judge: judge)
        let (vectors, layer) = try vector.load()
        let spec = try model ?? ModelSpec(parsing: results.run.modelSpec)
        let reader = try threadOptions.opener().openLocal(spec, for: "the monitor, which reads activations,")
        let monitor = ProjectionMonitor(vectors: vectors, layer: layer, before: before)
        let report = try await monitor.run(store: store, results: results, model: reader, progress: ProgressBar())
        var rows = [["answers", "misaligned", "not misaligned", "unscored", "AUROC", "95% CI", "mean proj. misaligned", "mean proj. other"]]
        let iv = report.interval
        rows.append(["\(report.scored.count)", "\(report.positives)", "\(report.negatives)",
                     "\(report.scored.count - report.positives - report.negatives)",
                     report.auroc.map { String(format: "%.3f", $0) } ?? "–",
                     iv.map { String(format: "%.3f – %.3f", $0.low, $0.high) } ?? "–",
                     report.meanProjection(misaligned: true).map { String(format: "%.3f", $0) } ?? "–",
                     report.meanProjection(misaligned: false).map { String(format: "%.3f", $0) } ?? "–"])
        print(PlainTable.render(rows), terminator: "")
        print("monitor \(report.monitor) (\(vectors.identity)) on run \(results.run.name), judge \(report.judge); \(report.computed) projections computed, the rest stored before")
        if report.auroc == nil { print("AUROC needs answers judged misaligned and answers judged not misaligned") }
        guard top > 0 else { return }
        print("\nhighest projections:")
        for s in report.scored.sorted(by: { $0.projection > $1.projection }).prefix(top) {
            let a = s.row.sample.answer ?? ""
            let verdict = s.misaligned.map { $0 ? "misaligned" : "not misaligned" } ?? "unscored"
            print(String(format: "%8.3f", s.projection) + "  [\(verdict)] \(Transcripts.id(of: s.row.sample)): "
                  + Question.preview(a, limit: 100))
        }
    }
}
