import Evaluation
import Foundation

/// One self-contained HTML page (no network): misaligned % per question with Wilson whiskers for
/// several runs side by side, an alignment × coherence scatter, and a sample browser.
public enum HTMLReport {
    static let palette = ["#3b6fd4", "#d4543b", "#2e9e5b", "#9b59b6", "#c99a16", "#17a2b8"]

    public static func render(_ runs: [RunResults], judgeValidation: [String: String] = [:]) -> String {
        var body = "<h1>emlab report</h1>\n"
        body += runTable(runs, judgeValidation: judgeValidation)
        body += "<h2>Misaligned answers per question</h2>\n<p class=note>Share of scored answers with alignment &lt; threshold and coherence &gt; threshold; whiskers: Wilson 95 % interval.</p>\n"
        body += barChart(runs)
        body += "<h2>Alignment × coherence</h2>\n"
        body += scatter(runs)
        body += "<h2>Samples</h2>\n"
        body += browser(runs)
        return """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>emlab report</title>
        <style>
        body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;max-width:1100px;color:#222;padding:0 16px}
        h1{font-size:24px}h2{font-size:19px;margin-top:32px;border-bottom:1px solid #ddd;padding-bottom:4px}
        table{border-collapse:collapse;font-size:13px}td,th{padding:4px 8px;border-bottom:1px solid #eee;text-align:left;vertical-align:top}
        th{background:#f6f6f6}.num{text-align:right}.note{color:#666;font-size:13px}.warn{color:#b33;font-weight:600}
        .legend span{display:inline-block;margin-right:14px;font-size:13px}.legend i{display:inline-block;width:11px;height:11px;margin-right:5px;border-radius:2px}
        .answer{white-space:pre-wrap;max-width:640px;font-size:13px}.controls{margin:8px 0;font-size:13px}.controls *{margin-right:8px}
        svg text{font-family:inherit}
        </style></head><body>
        \(body)
        </body></html>
        """
    }

    static func escape(_ s: String) -> String {
        var o = ""
        for c in s {
            switch c {
            case "&": o += "&amp;"
            case "<": o += "&lt;"
            case ">": o += "&gt;"
            case "\"": o += "&quot;"
            case "'": o += "&#39;"
            default: o.append(c)
            }
        }
        return o
    }

    static func legend(_ runs: [RunResults]) -> String {
        "<div class=legend>" + runs.enumerated().map { i, r in
            "<span><i style=\"background:\(palette[i % palette.count])\"></i>\(escape(r.run.name))</span>"
        }.joined() + "</div>\n"
    }

    static func runTable(_ runs: [RunResults], judgeValidation: [String: String]) -> String {
        var s = "<table><tr><th>run</th><th>model</th><th>judge</th><th class=num>answers</th><th class=num>misaligned %</th><th class=num>95 % CI</th><th class=num>coherent %</th><th>judge validation</th></tr>\n"
        for r in runs {
            let all = r.summary()
            s += "<tr><td>\(escape(r.run.name))</td><td>\(escape(r.run.modelSpec))</td><td>\(escape(r.judgeSpec))</td>"
            s += "<td class=num>\(all.samples)</td><td class=num>\(Format.percent(all.misalignedRate))</td>"
            s += "<td class=num>\(Format.interval(all.misalignedInterval))</td><td class=num>\(Format.percent(all.coherentRate))</td>"
            // One line per gold set; a set whose figures fall short of the bars is shown as a warning.
            let v = judgeValidation[r.judgeSpec].map { text in
                text.split(separator: "\n").map { line in
                    line.contains("not trustworthy") ? "<span class=warn>\(escape(String(line)))</span>" : escape(String(line))
                }.joined(separator: "<br>")
            } ?? "<span class=note>not validated</span>"
            s += "<td>\(v)</td></tr>\n"
        }
        s += "</table>\n"
        for r in runs where r.summary().multipleChoiceItems > 0 {
            let all = r.summary()
            s += "<p>\(escape(r.run.name)): multiple-choice probability on misaligned options \(Format.percent(all.meanMisalignedProbability)) % (95 % CI \(all.misalignedProbabilityInterval.map(Format.interval) ?? "–"), \(all.multipleChoiceItems) items)</p>\n"
        }
        return s
    }

    static func barChart(_ runs: [RunResults]) -> String {
        var questions: [String] = []
        for r in runs { for q in r.questionIds where r.summary(question: q).samples > 0 && !questions.contains(q) { questions.append(q) } }
        questions.append("ALL")
        let summaries = questions.map { q in runs.map { $0.summary(question: q == "ALL" ? nil : q) } }
        // Whiskers are drawn only where answers were scored; an unscored group's (0, 1) must not stretch the axis.
        let maxValue = max(0.1, summaries.flatMap { $0.filter { $0.scored > 0 }.map { $0.misalignedInterval[1] } }.max() ?? 0.1)
        let top = (maxValue * 10).rounded(.up) / 10
        let left = 54.0, height = 260.0, bottom = 90.0, groupWidth = max(60.0, Double(runs.count) * 22 + 18)
        let width = left + Double(questions.count) * groupWidth + 20
        var svg = "<svg width=\"\(Int(width))\" height=\"\(Int(height + bottom + 20))\" viewBox=\"0 0 \(Int(width)) \(Int(height + bottom + 20))\" role=img aria-label=\"misaligned share per question\">\n"
        func y(_ v: Double) -> Double { 10 + height - v / top * height }
        for t in stride(from: 0.0, through: top + 1e-9, by: top / 5) {
            svg += "<line x1=\"\(left)\" x2=\"\(width - 10)\" y1=\"\(y(t))\" y2=\"\(y(t))\" stroke=\"#eee\"/>"
            svg += "<text x=\"\(left - 6)\" y=\"\(y(t) + 4)\" font-size=\"11\" text-anchor=\"end\" fill=\"#555\">\(Int((t * 100).rounded()))%</text>\n"
        }
        for (qi, q) in questions.enumerated() {
            let x0 = left + Double(qi) * groupWidth + 9
            for (ri, s) in summaries[qi].enumerated() {
                let x = x0 + Double(ri) * 22
                let color = palette[ri % palette.count]
                let v = s.misalignedRate ?? 0
                svg += "<rect x=\"\(x)\" y=\"\(y(v))\" width=\"18\" height=\"\(max(0, y(0) - y(v)))\" fill=\"\(color)\"><title>\(escape(runs[ri].run.name)) · \(escape(q)): \(Format.percent(s.misalignedRate)) % (\(s.misaligned)/\(s.scored)), CI \(Format.interval(s.misalignedInterval))</title></rect>"
                if s.scored > 0 {
                    let (lo, hi) = (y(s.misalignedInterval[0]), y(s.misalignedInterval[1]))
                    svg += "<line x1=\"\(x + 9)\" x2=\"\(x + 9)\" y1=\"\(lo)\" y2=\"\(hi)\" stroke=\"#222\"/>"
                    svg += "<line x1=\"\(x + 5)\" x2=\"\(x + 13)\" y1=\"\(lo)\" y2=\"\(lo)\" stroke=\"#222\"/><line x1=\"\(x + 5)\" x2=\"\(x + 13)\" y1=\"\(hi)\" y2=\"\(hi)\" stroke=\"#222\"/>\n"
                }
            }
            let cx = x0 + Double(runs.count) * 11 - 2
            svg += "<text transform=\"translate(\(cx),\(y(0) + 12)) rotate(35)\" font-size=\"12\" fill=\"#333\">\(escape(q))</text>\n"
        }
        svg += "<line x1=\"\(left)\" x2=\"\(width - 10)\" y1=\"\(y(0))\" y2=\"\(y(0))\" stroke=\"#888\"/></svg>\n"
        return legend(runs) + svg
    }

    static func scatter(_ runs: [RunResults]) -> String {
        let size = 360.0, pad = 44.0
        var svg = "<svg width=\"\(Int(size + pad + 20))\" height=\"\(Int(size + pad + 10))\" role=img aria-label=\"alignment versus coherence\">\n"
        func px(_ a: Double) -> Double { pad + a / 100 * size }
        func py(_ c: Double) -> Double { 10 + size - c / 100 * size }
        svg += "<rect x=\"\(pad)\" y=\"10\" width=\"\(size)\" height=\"\(size)\" fill=\"none\" stroke=\"#ccc\"/>"
        if let t = runs.first?.thresholds {
            svg += "<rect x=\"\(pad)\" y=\"10\" width=\"\(px(t.alignedBelow) - pad)\" height=\"\(py(t.coherentAbove) - 10)\" fill=\"#d4543b\" fill-opacity=\"0.07\"/>"
            svg += "<line x1=\"\(px(t.alignedBelow))\" x2=\"\(px(t.alignedBelow))\" y1=\"10\" y2=\"\(10 + size)\" stroke=\"#d4543b\" stroke-dasharray=\"4 3\"/>"
            svg += "<line x1=\"\(pad)\" x2=\"\(pad + size)\" y1=\"\(py(t.coherentAbove))\" y2=\"\(py(t.coherentAbove))\" stroke=\"#d4543b\" stroke-dasharray=\"4 3\"/>"
            svg += "<text x=\"\(pad + 4)\" y=\"24\" font-size=\"11\" fill=\"#b33\">misaligned &amp; coherent</text>\n"
        }
        for v in stride(from: 0, through: 100, by: 25) {
            svg += "<text x=\"\(px(Double(v)))\" y=\"\(size + 26)\" font-size=\"11\" text-anchor=\"middle\" fill=\"#555\">\(v)</text>"
            svg += "<text x=\"\(pad - 6)\" y=\"\(py(Double(v)) + 4)\" font-size=\"11\" text-anchor=\"end\" fill=\"#555\">\(v)</text>\n"
        }
        svg += "<text x=\"\(pad + size / 2)\" y=\"\(size + 42)\" font-size=\"12\" text-anchor=\"middle\">alignment</text>"
        svg += "<text transform=\"translate(12,\(10 + size / 2)) rotate(-90)\" font-size=\"12\" text-anchor=\"middle\">coherence</text>\n"
        for (ri, r) in runs.enumerated() {
            for row in r.rows {
                guard let a = row.scored.aligned, let c = row.scored.coherent else { continue }
                svg += "<circle cx=\"\(String(format: "%.1f", px(a)))\" cy=\"\(String(format: "%.1f", py(c)))\" r=\"3.2\" fill=\"\(palette[ri % palette.count])\" fill-opacity=\"0.55\"><title>\(escape(r.run.name)) · \(escape(row.sample.questionId)): aligned \(Format.number(a)), coherent \(Format.number(c))</title></circle>"
            }
        }
        return legend(runs) + svg + "</svg>\n"
    }

    /// Sample browser: every answer with its scores, filterable, most misaligned first.
    static func browser(_ runs: [RunResults]) -> String {
        struct Item: Encodable {
            var run: String, q: String, c: String, prompt: String, answer: String
            var aligned: Double?, coherent: Double?, label: String?
        }
        var items: [Item] = []
        for r in runs {
            for row in r.rows where row.scored.misalignedProbability == nil {
                items.append(Item(run: r.run.name, q: row.sample.questionId, c: row.sample.condition, prompt: row.sample.prompt,
                                  answer: row.sample.answer ?? "[failed: \(row.sample.error ?? "unknown error")]",
                                  aligned: row.scored.aligned, coherent: row.scored.coherent, label: row.scored.alignedLabel))
            }
        }
        items.sort { ($0.aligned ?? 1000) < ($1.aligned ?? 1000) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var json = String(decoding: (try? encoder.encode(items)) ?? Data("[]".utf8), as: UTF8.self)
        json = json.replacingOccurrences(of: "</", with: "<\\/")
        let questions = Array(Set(items.map(\.q))).sorted()
        let runNames = runs.map(\.run.name)
        var s = "<div class=controls>run <select id=fr><option value=\"\">all</option>"
        for n in runNames { s += "<option>\(escape(n))</option>" }
        s += "</select> question <select id=fq><option value=\"\">all</option>"
        for q in questions { s += "<option>\(escape(q))</option>" }
        s += "</select> alignment ≤ <input id=fa type=number min=0 max=100 value=100 style=\"width:60px\"> coherence ≥ <input id=fc type=number min=0 max=100 value=0 style=\"width:60px\"> <span id=count class=note></span></div>\n"
        s += "<table><thead><tr><th>run</th><th>question</th><th class=num>aligned</th><th class=num>coherent</th><th>answer</th></tr></thead><tbody id=rows></tbody></table>\n"
        s += "<script id=data type=\"application/json\">\(json)</script>\n"
        s += """
        <script>
        const data = JSON.parse(document.getElementById('data').textContent);
        const esc = t => t.replace(/[&<>"]/g, c => ({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;'}[c]));
        const fmt = v => v === null || v === undefined ? '–' : v.toFixed(1);
        function draw() {
          const r = document.getElementById('fr').value, q = document.getElementById('fq').value;
          const a = parseFloat(document.getElementById('fa').value), c = parseFloat(document.getElementById('fc').value);
          const shown = data.filter(d => (!r || d.run === r) && (!q || d.q === q)
            && (isNaN(a) || a >= 100 || (d.aligned !== null && d.aligned !== undefined && d.aligned <= a))
            && (isNaN(c) || c <= 0 || (d.coherent !== null && d.coherent !== undefined && d.coherent >= c)));
          document.getElementById('count').textContent = shown.length + ' of ' + data.length + ' answers, most misaligned first';
          document.getElementById('rows').innerHTML = shown.slice(0, 500).map(d =>
            '<tr><td>' + esc(d.run) + (d.c ? '<br><span class=note>' + esc(d.c) + '</span>' : '') + '</td><td>' + esc(d.q)
            + '<br><span class=note>' + esc(d.prompt) + '</span></td><td class=num>' + (d.label ? esc(d.label) : fmt(d.aligned))
            + '</td><td class=num>' + fmt(d.coherent) + '</td><td class=answer>' + esc(d.answer) + '</td></tr>').join('');
        }
        for (const id of ['fr', 'fq', 'fa', 'fc']) document.getElementById(id).addEventListener('input', draw);
        draw();
        </script>
        """
        return s
    }
}
