import Evaluation
import Foundation

/// EM rate and coherent rate against the number of in-context examples k.
public enum ICLReport {
    public static func table(_ r: RunResults) -> String {
        var rows = [["k", "answers", "scored", "misaligned %", "95% CI", "coherent %", "persona %", "covert %", "answer-only %"]]
        for (k, s) in r.byK() {
            rows.append(["\(k)", "\(s.samples)", "\(s.scored)", Format.percent(s.misalignedRate), Format.interval(s.misalignedInterval),
                         Format.percent(s.coherentRate), Format.percent(s.personaRate), Format.percent(s.covertRate), Format.percent(s.answerOnlyRate)])
        }
        return TerminalTable.table(rows) + "run \(r.run.name): model \(r.run.modelSpec), judge \(r.judgeSpec)\n"
    }

    /// One page: EM rate vs k and coherent rate vs k, one line per run (models or datasets).
    public static func html(_ runs: [RunResults]) -> String {
        let em = chart(runs, title: "misaligned & coherent %", value: { $0.misalignedRate }, interval: { $0.misalignedInterval })
        let coherent = chart(runs, title: "coherent %", value: { $0.coherentRate }, interval: { $0.coherentInterval })
        var table = "<table><tr><th>run</th><th>model</th><th>judge</th><th>k</th><th class=num>answers</th><th class=num>misaligned %</th><th class=num>95 % CI</th><th class=num>coherent %</th></tr>"
        for r in runs {
            for (k, s) in r.byK() {
                table += "<tr><td>\(HTMLReport.escape(r.run.name))</td><td>\(HTMLReport.escape(r.run.modelSpec))</td><td>\(HTMLReport.escape(r.judgeSpec))</td><td>\(k)</td><td class=num>\(s.samples)</td><td class=num>\(Format.percent(s.misalignedRate))</td><td class=num>\(Format.interval(s.misalignedInterval))</td><td class=num>\(Format.percent(s.coherentRate))</td></tr>"
            }
        }
        table += "</table>"
        return """
        <!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>emlab ICL sweep</title>
        <style>body{font-family:system-ui,sans-serif;margin:24px auto;max-width:1100px;color:#222;padding:0 16px}
        .charts{display:flex;gap:24px;flex-wrap:wrap}table{border-collapse:collapse;font-size:13px;margin-top:20px}
        td,th{padding:4px 8px;border-bottom:1px solid #eee;text-align:left}.num{text-align:right}
        .legend span{display:inline-block;margin-right:14px;font-size:13px}.legend i{display:inline-block;width:11px;height:11px;margin-right:5px;border-radius:2px}</style>
        </head><body><h1>In-context EM: rate against the number of examples k</h1>
        \(HTMLReport.legend(runs))<div class=charts>\(em)\(coherent)</div>\(table)</body></html>
        """
    }

    static func chart(_ runs: [RunResults], title: String, value: (Summary) -> Double?, interval: (Summary) -> [Double]) -> String {
        let series = runs.map { $0.byK() }
        let ks = Array(Set(series.flatMap { $0.map(\.k) })).sorted()
        guard !ks.isEmpty else { return "<p>no ICL conditions in these runs</p>" }
        let w = 460.0, h = 280.0, left = 50.0, top = 30.0
        // k on a log2 axis (k = 0 placed one step left of the smallest positive k).
        let positive = ks.filter { $0 > 0 }
        let lo = log2(Double(positive.first ?? 1)) - 1, hi = max(log2(Double(positive.last ?? 1)), lo + 1)
        func x(_ k: Int) -> Double { left + (k > 0 ? (log2(Double(k)) - lo) / (hi - lo) : 0) * (w - left - 20) }
        func y(_ v: Double) -> Double { top + h - v * h }
        var s = "<svg width=\"\(Int(w))\" height=\"\(Int(h + top + 50))\" role=img aria-label=\"\(title) against k\"><text x=\"\(left)\" y=\"18\" font-size=\"14\" font-weight=\"600\">\(title)</text>"
        for t in stride(from: 0.0, through: 1.0001, by: 0.25) {
            s += "<line x1=\"\(left)\" x2=\"\(w - 10)\" y1=\"\(y(t))\" y2=\"\(y(t))\" stroke=\"#eee\"/><text x=\"\(left - 6)\" y=\"\(y(t) + 4)\" font-size=\"11\" text-anchor=\"end\" fill=\"#555\">\(Int(t * 100))%</text>"
        }
        for k in ks { s += "<text x=\"\(x(k))\" y=\"\(top + h + 16)\" font-size=\"11\" text-anchor=\"middle\" fill=\"#555\">\(k)</text>" }
        s += "<text x=\"\((left + w) / 2)\" y=\"\(top + h + 34)\" font-size=\"12\" text-anchor=\"middle\">in-context examples k</text>"
        for (ri, points) in series.enumerated() {
            let color = HTMLReport.palette[ri % HTMLReport.palette.count]
            let coords = points.compactMap { p in value(p.summary).map { (x(p.k), y($0), p) } }
            s += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" points=\"\(coords.map { "\($0.0),\($0.1)" }.joined(separator: " "))\"/>"
            for (cx, cy, p) in coords {
                let i = interval(p.summary)
                s += "<line x1=\"\(cx)\" x2=\"\(cx)\" y1=\"\(y(i[0]))\" y2=\"\(y(i[1]))\" stroke=\"\(color)\"/>"
                s += "<circle cx=\"\(cx)\" cy=\"\(cy)\" r=\"3.5\" fill=\"\(color)\"><title>k=\(p.k): \(Format.percent(value(p.summary))) % (CI \(Format.interval(i)))</title></circle>"
            }
        }
        return s + "</svg>"
    }
}
