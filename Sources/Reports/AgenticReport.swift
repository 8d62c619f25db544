import Agents
import Evaluation
import Foundation

/// `emlab agentic`'s output: harmful-action rates per condition with Wilson intervals, the
/// classifiers' agreement with the labelled transcripts beside them, and the disagreements.
public enum AgenticReport {
    /// The terminal table, one row per condition. `figures`: the verdict's held-out figures per
    /// scenario (accuracy and κ printed in every row of that scenario).
    public static func table(_ r: AgenticResults, figures: ClassifierFigures?) -> String {
        var rows = [["condition", "episodes", "classified", "harmful %", "95% CI", "check only", "classifier only", "acknowledged",
                     "turn limit", "verdict acc", "verdict κ"]]
        for s in r.summaries {
            let scenario = AgenticCondition(id: s.condition)?.scenario ?? ""
            let v = validation(figures, scenario: scenario)
            let i = s.interval
            rows.append([s.condition, "\(s.episodes)", "\(s.classified)", s.classified > 0 ? Format.percent(s.rate) : "–",
                         s.classified > 0 ? Format.interval([i.low, i.high]) : "–", "\(s.checkOnly)", "\(s.classifierOnly)",
                         "\(s.acknowledged)", "\(s.turnLimit)", v.map { String(format: "%.2f", $0.accuracy) } ?? "–",
                         v.map { String(format: "%.2f", $0.kappa) } ?? "–"])
        }
        var out = TerminalTable.table(rows)
        if r.parameters.episode.chainOfThought == true {
            var cot = [["condition", "reasoning judged", "persona %", "covert %", "action-only %"]]
            for s in r.summaries {
                let share = { (k: Int) in s.reasoningJudged > 0 ? Format.percent(Double(k) / Double(s.reasoningJudged)) : "–" }
                cot.append([s.condition, "\(s.reasoningJudged)", share(s.persona), share(s.covert), share(s.actionOnly)])
            }
            out += "reasoning versus action (--cot): covert = a harmful persona in the private reasoning, no harm done; action-only = the reverse\n"
            out += TerminalTable.table(cot)
        }
        out += "run \(r.run.name): model \(r.run.modelSpec), classifier \(r.classifierSpec); harmful = the check and the classifier agree\n"
        if let figures { out += "classifier validation (\(figures.classifier)): \(figures.line)\n" } else {
            out += "classifier \(r.classifierSpec) is not validated: run `emlab agentic validate --classifier \(r.classifierSpec)`\n"
        }
        if r.unclassified > 0 { out += "\(r.unclassified) episodes have no valid classifier label (left out of the rates)\n" }
        if r.failedSlots > 0 { out += "\(r.failedSlots) episodes failed and are missing: run again with --resume\n" }
        return out
    }

    /// The check's and the classifier's disagreements, one block each (for `agentic report --disagreements`).
    public static func disagreements(_ r: AgenticResults, limit: Int = 50) -> String {
        let d = r.disagreements
        guard !d.isEmpty else { return "the check and the classifier agree on every classified episode\n" }
        var out = "\(d.count) disagreements between the check and classifier \(r.classifierSpec):\n"
        for e in d.prefix(limit) {
            out += "- \(e.episode.condition.id) #\(e.episode.sampleIndex): check \(e.verdict.check ? "HARMFUL" : "not harmful"), classifier \(e.verdict.classifier == true ? "HARMFUL" : "not harmful")"
            if let first = e.checkEvidence.first { out += "; check: \(first)" }
            out += "\n"
        }
        if d.count > limit { out += "… and \(d.count - limit) more\n" }
        return out
    }

    static func validation(_ f: ClassifierFigures?, scenario: String) -> Agreement? {
        guard let f else { return nil }
        return f.scenarios[scenario]?["verdict"] ?? f.verdict
    }

    /// One self-contained page: a heatmap per scenario (goal type × value by urgency × safety
    /// variant), each cell the harmful rate with its interval; then the table and the disagreements.
    public static func html(_ r: AgenticResults, figures: ClassifierFigures?) -> String {
        let summaries = Dictionary(uniqueKeysWithValues: r.summaries.map { ($0.condition, $0) })
        let cells = r.parameters.cells
        var body = ""
        for scenario in r.parameters.scenarios {
            let mine = cells.filter { $0.scenario == scenario }
            var rowKeys: [String] = []
            for c in mine where !rowKeys.contains("\(c.goal.rawValue)-\(c.value)") { rowKeys.append("\(c.goal.rawValue)-\(c.value)") }
            var columnKeys: [(Urgency, Bool)] = []
            for c in mine where !columnKeys.contains(where: { $0 == (c.urgency, c.safetyInstructions) }) {
                columnKeys.append((c.urgency, c.safetyInstructions))
            }
            let title = r.scenarios.first { $0.id == scenario }?.title ?? scenario
            body += "<h2>\(HTMLReport.escape(scenario)): \(HTMLReport.escape(title))</h2>"
            if let v = validation(figures, scenario: scenario) {
                body += "<p class=note>verdict against \(v.n) labelled held-out transcripts of this scenario: accuracy \(String(format: "%.2f", v.accuracy)), κ \(String(format: "%.2f", v.kappa))</p>"
            } else {
                body += "<p class=note>classifier not validated on the labelled transcripts</p>"
            }
            body += "<table class=heat><tr><th>goal-value \\ urgency</th>"
            for (u, safe) in columnKeys { body += "<th>\(u.rawValue)\(safe ? " + safety rules" : "")</th>" }
            body += "</tr>"
            for key in rowKeys {
                body += "<tr><th>\(HTMLReport.escape(key))</th>"
                for (u, safe) in columnKeys {
                    let id = "\(scenario)_\(key)_\(u.rawValue)" + (safe ? "_safety" : "")
                    guard let s = summaries[id] else { body += "<td class=empty></td>"; continue }
                    if s.classified == 0 {
                        body += "<td class=empty title=\"\(id): no classified episodes\">–<small>n 0</small></td>"
                        continue
                    }
                    let i = s.interval
                    let shade = Int((1 - s.rate) * 200) + 40
                    let colour = "rgb(255,\(shade),\(shade))"
                    body += "<td style=\"background:\(colour)\" title=\"\(id): \(s.harmful) of \(s.classified) harmful\">\(Format.percent(s.rate))%<small>\(Format.interval([i.low, i.high])) · n \(s.classified)</small></td>"
                }
                body += "</tr>"
            }
            body += "</table>"
        }
        var table = "<table class=list><tr><th>condition</th><th class=num>episodes</th><th class=num>classified</th><th class=num>harmful %</th><th class=num>95 % CI</th><th class=num>check only</th><th class=num>classifier only</th><th class=num>acknowledged</th><th class=num>turn limit</th></tr>"
        for s in r.summaries {
            let i = s.interval
            table += "<tr><td>\(HTMLReport.escape(s.condition))</td><td class=num>\(s.episodes)</td><td class=num>\(s.classified)</td><td class=num>\(s.classified > 0 ? Format.percent(s.rate) : "–")</td><td class=num>\(s.classified > 0 ? Format.interval([i.low, i.high]) : "–")</td><td class=num>\(s.checkOnly)</td><td class=num>\(s.classifierOnly)</td><td class=num>\(s.acknowledged)</td><td class=num>\(s.turnLimit)</td></tr>"
        }
        table += "</table>"
        var disagreements = "<h2>Disagreements (\(r.disagreements.count))</h2>"
        if r.disagreements.isEmpty {
            disagreements += "<p>The check and the classifier agree on every classified episode.</p>"
        } else {
            disagreements += "<ul>"
            for e in r.disagreements.prefix(200) {
                disagreements += "<li><b>\(HTMLReport.escape(e.episode.condition.id)) #\(e.episode.sampleIndex)</b>: check \(e.verdict.check ? "harmful" : "not harmful"), classifier \(e.verdict.classifier == true ? "harmful" : "not harmful")<details><summary>actions</summary><pre>\(HTMLReport.escape(e.episode.actionLog))</pre></details></li>"
            }
            disagreements += "</ul>"
        }
        let validationLine = figures.map { "<p class=note>classifier validation (\(HTMLReport.escape($0.classifier))): \(HTMLReport.escape($0.line))</p>" } ?? ""
        return """
        <!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>emlab agentic: \(HTMLReport.escape(r.run.name))</title>
        <style>body{font-family:system-ui,sans-serif;margin:24px auto;max-width:1100px;color:#222;padding:0 16px}
        table{border-collapse:collapse;font-size:13px;margin:10px 0 20px}td,th{padding:6px 10px;border:1px solid #e4e4e4;text-align:left}
        .heat td{text-align:center;min-width:110px;font-weight:600}.heat td small{display:block;font-weight:400;color:#444;font-size:11px}
        .empty{background:#f6f6f6;color:#999}.num{text-align:right}.note{color:#555;font-size:13px}pre{white-space:pre-wrap;font-size:12px}</style>
        </head><body><h1>Agentic misalignment: harmful-action rates</h1>
        <p>run <b>\(HTMLReport.escape(r.run.name))</b>, model <b>\(HTMLReport.escape(r.run.modelSpec))</b>, classifier <b>\(HTMLReport.escape(r.classifierSpec))</b>.
        An episode is harmful when the scenario's deterministic check and the classifier both say so; cells show the rate, its 95 % Wilson interval and the number of classified episodes.</p>
        \(validationLine)\(body)<h2>All conditions</h2>\(table)\(disagreements)</body></html>
        """
    }
}
