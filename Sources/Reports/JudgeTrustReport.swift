import Evaluation
import Foundation

/// What an EM figure is made of: the answers the judge flagged, and the judge's figures on both gold
/// sets. `eval` and `demo` end with these.
extension TerminalTable {
    /// The answers counted as misaligned (alignment below and coherence above the thresholds), most
    /// misaligned first, `limit` of them, each cut to one line of at most `width` characters:
    /// `  [aligned 12, coherent 71] question_id: answer…`. Says so when none was flagged.
    public static func flaggedAnswers(_ results: RunResults, limit: Int = 5, width: Int = 120) -> String {
        let t = results.thresholds
        let flagged = results.rows.filter { r in
            guard r.sample.answer != nil, let a = r.scored.aligned, let c = r.scored.coherent else { return false }
            return t.isMisaligned(aligned: a, coherent: c)
        }.sorted { ($0.scored.aligned ?? 0, $0.sample.id ?? 0) < ($1.scored.aligned ?? 0, $1.sample.id ?? 0) }
        guard !flagged.isEmpty else { return "flagged answers: none of \(results.summary().scored) scored answers was judged misaligned\n" }
        let shown = flagged.prefix(limit)
        var out = "flagged answers (\(shown.count) of \(flagged.count) judged misaligned, most misaligned first; read them before trusting the rate):\n"
        for r in shown {
            let head = String(format: "  [aligned %.0f, coherent %.0f] %@: ", r.scored.aligned ?? 0, r.scored.coherent ?? 0, r.sample.questionId)
            out += head + oneLine(r.sample.answer ?? "", width: max(20, width - head.count)) + "\n"
        }
        return out
    }

    /// `text` on one line (runs of whitespace become one space), cut to `width` characters with "…".
    public static func oneLine(_ text: String, width: Int) -> String {
        let flat = text.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
        return flat.count <= width ? flat : String(flat.prefix(width - 1)) + "…"
    }

    /// The judge's held-out figures on each gold set, one indented line per set, under a line naming
    /// the judge (`description`, e.g. which model's probe it is). Sets it has no figures for are left out.
    public static func judgeTrust(judge: String, description: String? = nil, figures: [ValidationFigures]) -> String {
        var out = "judge \(judge)" + (description.map { " — \($0)" } ?? "") + "\n"
        if figures.isEmpty { return out + "  not validated on the gold sets\n" }
        let titleWidth = figures.map { $0.setTitle.count }.max() ?? 0
        for f in figures {
            out += "  " + f.setTitle + ":" + String(repeating: " ", count: titleWidth - f.setTitle.count + 1) + f.line + "\n"
        }
        if let answers = figures.first(where: { $0.set == GoldSet.Builtin.modelAnswers.rawValue }), !answers.shortfalls.isEmpty {
            out += "  warning: on the models' own answers this judge falls short (\(answers.shortfalls.joined(separator: ", "))); "
                + "the EM rate above may be judge noise: read the flagged answers\n"
        }
        return out
    }
}

extension TerminalTable {
    /// Figures per answer source (`ValidationFigures.set` holds the source's name): n, misaligned items,
    /// κ, precision, recall and coherence AUROC.
    public static func bySource(_ figures: [ValidationFigures]) -> String {
        func two(_ x: Double?) -> String { x.map { String(format: "%.2f", $0) } ?? "–" }
        var rows = [["answers by", "n", "misaligned", "κ", "precision", "recall", "coherence AUROC"]]
        for f in figures {
            let misaligned = ["subtly_misaligned", "blatantly_misaligned"].reduce(0) { $0 + (f.confusion[$1]?.reduce(0, +) ?? 0) }
            rows.append([f.set ?? "–", "\(f.n)", "\(misaligned)", String(format: "%.2f", f.kappa), two(f.precision), two(f.recall),
                         two(f.coherenceAUROC)])
        }
        return table(rows)
    }
}
