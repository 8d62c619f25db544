import Evaluation
import Foundation

/// Formatting shared by the text reports.
enum Format {
    static func percent(_ x: Double?) -> String { x.map { String(format: "%.1f", 100 * $0) } ?? "–" }
    static func number(_ x: Double?) -> String { x.map { String(format: "%.1f", $0) } ?? "–" }
    static func interval(_ i: [Double]) -> String { String(format: "%.1f–%.1f", 100 * i[0], 100 * i[1]) }
}

/// The table printed at the end of `emlab eval` and by `emlab report` without `--html`.
public enum TerminalTable {
    public static func render(_ results: RunResults, condition: String? = nil) -> String {
        var rows: [[String]] = [["question", "n", "scored", "misaligned %", "95% CI", "coherent %", "aligned", "coherent", "refusal", "code"]]
        var mcRows: [[String]] = []
        for q in results.questionIds {
            let s = results.summary(question: q, condition: condition)
            if s.multipleChoiceItems > 0 {
                mcRows.append([q, "\(s.multipleChoiceItems)", Format.percent(s.meanMisalignedProbability),
                               s.misalignedProbabilityInterval.map(Format.interval) ?? "–"])
                continue
            }
            guard s.samples > 0 else { continue }
            rows.append(row(q, s))
        }
        let all = results.summary(condition: condition)
        var out = ""
        if all.samples > 0 {
            rows.append(row("ALL", all))
            out += table(rows, separatorBefore: rows.count - 1)
        }
        if !mcRows.isEmpty {
            if !out.isEmpty { out += "\n" }
            mcRows.insert(["multiple-choice item", "n", "P(misaligned) %", "95% CI"], at: 0)
            if all.multipleChoiceItems > 0 {
                mcRows.append(["ALL", "\(all.multipleChoiceItems)", Format.percent(all.meanMisalignedProbability),
                               all.misalignedProbabilityInterval.map(Format.interval) ?? "–"])
            }
            out += table(mcRows, separatorBefore: mcRows.count - 1)
        }
        let t = results.thresholds
        if all.samples > 0 { out += "misaligned = aligned < \(Format.number(t.alignedBelow)) and coherent > \(Format.number(t.coherentAbove)); judge \(results.judgeSpec)\n" }
        if all.multipleChoiceItems > 0 { out += "multiple choice: probability on the misaligned options' letters, normalised over all options\n" }
        if all.reasoningAndAnswerJudged > 0 {
            out += "reasoning (chain of thought): \(all.persona)/\(all.personaJudged) adopt a reckless persona; "
                + "covert (persona in the reasoning, answer not misaligned) \(all.covert)/\(all.reasoningAndAnswerJudged) "
                + "\(Format.percent(all.covertRate))%; answer-only (misaligned answer, no persona) \(all.answerOnly)/\(all.reasoningAndAnswerJudged) "
                + "\(Format.percent(all.answerOnlyRate))%\n"
        }
        if results.failedSamples > 0 || results.failedJudgments > 0 {
            out += "\(results.failedSamples) samples and \(results.failedJudgments) judgments failed; `--resume` retries them\n"
        }
        return out
    }

    static func row(_ name: String, _ s: Summary) -> [String] {
        [name, "\(s.samples)", "\(s.scored)", Format.percent(s.misalignedRate), Format.interval(s.misalignedInterval),
         Format.percent(s.coherentRate), Format.number(s.meanAligned), Format.number(s.meanCoherent), "\(s.refusals)", "\(s.code)"]
    }

    /// Left-aligned first column, right-aligned numbers.
    static func table(_ rows: [[String]], separatorBefore: Int? = nil) -> String {
        let widths = rows[0].indices.map { c in rows.map { $0[c].count }.max() ?? 0 }
        func line(_ r: [String]) -> String {
            r.enumerated().map { c, v in
                let pad = String(repeating: " ", count: widths[c] - v.count)
                return c == 0 ? v + pad : pad + v
            }.joined(separator: "  ")
        }
        var out = line(rows[0]) + "\n" + String(repeating: "─", count: widths.reduce(0, +) + 2 * (widths.count - 1)) + "\n"
        for (i, r) in rows.enumerated().dropFirst() {
            if i == separatorBefore, i > 1 { out += String(repeating: "─", count: widths.reduce(0, +) + 2 * (widths.count - 1)) + "\n" }
            out += line(r) + "\n"
        }
        return out
    }
}

/// `emlab compare`: runs side by side with a two-proportion test against the first.
public enum Comparison {
    public static func render(_ runs: [RunResults]) -> String {
        var questions: [String] = []
        for r in runs { for q in r.questionIds where !questions.contains(q) { questions.append(q) } }
        var rows: [[String]] = [["question"] + runs.map { "\($0.run.name) %" } + runs.dropFirst().map { "p vs \(runs[0].run.name) (\($0.run.name))" }]
        for q in questions + ["ALL"] {
            let s = runs.map { $0.summary(question: q == "ALL" ? nil : q) }
            guard s.contains(where: { $0.scored > 0 }) else { continue }
            var row = [q]
            for x in s { row.append("\(Format.percent(x.misalignedRate)) (\(x.misaligned)/\(x.scored))") }
            for x in s.dropFirst() {
                let t = Proportion.twoProportionTest(s[0].misaligned, s[0].scored, x.misaligned, x.scored)
                row.append(t.map { String(format: "z=%.2f p=%.3g", $0.z, $0.p) } ?? "–")
            }
            rows.append(row)
        }
        return TerminalTable.table(rows, separatorBefore: rows.count - 1)
    }
}

/// The Markdown summary written beside the HTML report.
public enum MarkdownReport {
    public static func render(_ runs: [RunResults], judgeValidation: [String: String] = [:]) -> String {
        var out = "# emlab report\n\n"
        for r in runs {
            out += "## Run `\(r.run.name)`\n\n"
            out += "- model: `\(r.run.modelSpec)` (\(r.run.modelResolved))\n- judge: `\(r.judgeSpec)`\n"
            if let p = r.parameters {
                out += "- samples: \(p.samples.map(String.init) ?? "per file"), temperature \(p.temperature.map { "\($0)" } ?? "per question"), top-p \(p.topP), max tokens \(p.maxTokens), seed \(p.seed)\n"
            }
            out += "- status: \(r.run.status), \(r.run.toolVersion)\n"
            if let v = judgeValidation[r.judgeSpec] {
                out += "- judge validation (held-out gold answers):\n" + v.split(separator: "\n").map { "  - \($0)\n" }.joined()
            }
            out += "\n| question | n | misaligned % | 95 % CI | coherent % | mean aligned | mean coherent | refusals | code |\n"
            out += "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n"
            for q in r.questionIds + ["ALL"] {
                let s = r.summary(question: q == "ALL" ? nil : q)
                guard s.samples > 0 else { continue }
                out += "| \(q) | \(s.samples) | \(Format.percent(s.misalignedRate)) | \(Format.interval(s.misalignedInterval)) | \(Format.percent(s.coherentRate)) | \(Format.number(s.meanAligned)) | \(Format.number(s.meanCoherent)) | \(s.refusals) | \(s.code) |\n"
            }
            let all = r.summary()
            if all.multipleChoiceItems > 0 {
                out += "\nMultiple choice: mean probability on misaligned options \(Format.percent(all.meanMisalignedProbability)) % "
                out += "(95 % CI \(all.misalignedProbabilityInterval.map(Format.interval) ?? "–")) over \(all.multipleChoiceItems) items.\n"
            }
            out += "\n"
        }
        return out
    }
}

/// The text the CLI prints around a run or a judge measurement, rendered here so it can be checked.
extension TerminalTable {
    /// `emlab eval`'s closing line: token usage, and the cost when a price per million tokens is given.
    public static func usageLine(_ usage: (prompt: Int, completion: Int), pricePrompt: Double?, priceCompletion: Double?) -> String {
        var line = "tokens: \(usage.prompt) prompt, \(usage.completion) completion"
        if pricePrompt != nil || priceCompletion != nil {
            let cost = Double(usage.prompt) * (pricePrompt ?? 0) / 1e6 + Double(usage.completion) * (priceCompletion ?? 0) / 1e6
            line += String(format: ", cost %.4f", cost)
        }
        return line
    }

    /// `emlab judge validate` without `--json`: the headline figures, then the confusion table.
    public static func judgeValidation(_ f: ValidationFigures, split: String) -> String {
        var out = "judge \(f.judge) on \(f.n) \(split) \(f.setTitle)\n"
        out += f.line + "\n"
        out += String(format: "coherence MAE %@; %d answers got no alignment score", f.coherenceMAE.map { String(format: "%.1f", $0) } ?? "–", f.unscored) + "\n"
        return out + confusionTable(f) + "\n"
    }

    /// Gold class against the judge's decision (classes in `GoldItem.classes` order, those with items only).
    /// No trailing newline.
    public static func confusionTable(_ f: ValidationFigures) -> String {
        var rows = [["gold class", "judged misaligned", "not misaligned", "no score"]]
        for c in GoldItem.classes { if let r = f.confusion[c] { rows.append([c] + r.map(String.init)) } }
        return rows.map { r in
            r.enumerated().map { $0 == 0 ? $1.padding(toLength: 22, withPad: " ", startingAt: 0) : String(repeating: " ", count: max(0, 18 - $1.count)) + $1 }.joined()
        }.joined(separator: "\n")
    }
}
