import Evaluation
import Foundation
import PersonaVectors

/// The steering curve of a sweep: misaligned % and coherent % against the coefficient, per layer.
public enum SteeringReport {
    /// One line per (layer, coefficient): rates with Wilson intervals, the comparison with coefficient 0
    /// (`↑`/`↓`: the interval lies wholly above/below the baseline's; p of the two-proportion test)
    /// and where coherence falls below half.
    public static func table(_ r: RunResults) -> String {
        let points = SteeringSweep.curve(r)
        var rows = [["layer", "coef", "answers", "scored", "misaligned %", "95% CI", "vs coef 0", "coherent %", "95% CI", ""]]
        for p in points {
            let s = p.summary
            let versus = p.coefficient == 0 ? "baseline"
                : (p.versusBaseline > 0 ? "↑ " : p.versusBaseline < 0 ? "↓ " : "") + (p.pValue.map { String(format: "p=%.2g", $0) } ?? "–")
            let broken = (s.coherentRate ?? 1) < 0.5 ? "coherence < 50 %" : ""
            rows.append(["\(p.layer)", String(format: "%+g", Double(p.coefficient)), "\(s.samples)", "\(s.scored)",
                         Format.percent(s.misalignedRate), Format.interval(s.misalignedInterval), versus,
                         Format.percent(s.coherentRate), Format.interval(s.coherentInterval), broken])
        }
        let t = r.thresholds
        return TerminalTable.table(rows) + "run \(r.run.name): model \(r.run.modelSpec), judge \(r.judgeSpec); "
            + "misaligned = aligned < \(Format.number(t.alignedBelow)) and coherent > \(Format.number(t.coherentAbove))\n"
    }

    /// One page: the two curves (one line per layer) with interval whiskers, the table, and the answers.
    public static func html(_ r: RunResults) -> String {
        let points = SteeringSweep.curve(r)
        let layers = Array(Set(points.map(\.layer))).sorted()
        let series = layers.map { l in points.filter { $0.layer == l } }
        let names = layers.map { "layer \($0)" }
        let em = chart(series, names: names, title: "misaligned & coherent %", value: { $0.misalignedRate }, interval: { $0.misalignedInterval },
                       guide: nil)
        let coherent = chart(series, names: names, title: "coherent %", value: { $0.coherentRate }, interval: { $0.coherentInterval },
                             guide: 0.5)
        var table = "<table><tr><th>layer</th><th class=num>coef</th><th class=num>answers</th><th class=num>misaligned %</th><th class=num>95 % CI</th><th>vs coef 0</th><th class=num>coherent %</th><th class=num>95 % CI</th></tr>"
        for p in points {
            let s = p.summary
            let versus = p.coefficient == 0 ? "baseline" : (p.versusBaseline > 0 ? "above" : p.versusBaseline < 0 ? "below" : "overlaps")
                + (p.pValue.map { String(format: " (p=%.2g)", $0) } ?? "")
            table += "<tr><td>\(p.layer)</td><td class=num>\(String(format: "%+g", Double(p.coefficient)))</td><td class=num>\(s.samples)</td><td class=num>\(Format.percent(s.misalignedRate))</td><td class=num>\(Format.interval(s.misalignedInterval))</td><td>\(versus)</td><td class=num>\(Format.percent(s.coherentRate))</td><td class=num>\(Format.interval(s.coherentInterval))</td></tr>"
        }
        table += "</table>"
        let legend = "<div class=legend>" + names.enumerated().map { i, n in
            "<span><i style=\"background:\(HTMLReport.palette[i % HTMLReport.palette.count])\"></i>\(HTMLReport.escape(n))</span>"
        }.joined() + "</div>"
        let steering = (r.parameters?.interventions ?? []).map(HTMLReport.escape).joined(separator: "<br>")
        return """
        <!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>emlab steering sweep</title>
        <style>body{font-family:system-ui,sans-serif;margin:24px auto;max-width:1100px;color:#222;padding:0 16px}
        .charts{display:flex;gap:24px;flex-wrap:wrap}table{border-collapse:collapse;font-size:13px;margin-top:20px}
        td,th{padding:4px 8px;border-bottom:1px solid #eee;text-align:left;vertical-align:top}.num{text-align:right}.note{color:#666;font-size:13px}
        .legend span{display:inline-block;margin-right:14px;font-size:13px}.legend i{display:inline-block;width:11px;height:11px;margin-right:5px;border-radius:2px}
        .answer{white-space:pre-wrap;max-width:640px;font-size:13px}.controls{margin:8px 0;font-size:13px}.controls *{margin-right:8px}</style>
        </head><body><h1>Steering: rates against the coefficient</h1>
        <p class=note>run \(HTMLReport.escape(r.run.name)) · model \(HTMLReport.escape(r.run.modelSpec)) · judge \(HTMLReport.escape(r.judgeSpec))<br>\(steering)<br>
        Whiskers: Wilson 95 % intervals. Dashed line: coherence 50 %, below which the steering has broken the model.</p>
        \(legend)<div class=charts>\(em)\(coherent)</div>\(table)<h2>Answers</h2>\(HTMLReport.browser([r]))</body></html>
        """
    }

    static func chart(_ series: [[SteeringSweep.Point]], names: [String], title: String, value: (Summary) -> Double?,
                      interval: (Summary) -> [Double], guide: Double?) -> String {
        let xs = series.flatMap { $0.map { Double($0.coefficient) } }
        guard let lo = xs.min(), let hi = xs.max() else { return "<p>no steering conditions in this run</p>" }
        let span = max(hi - lo, 1e-9)
        let w = 460.0, h = 280.0, left = 50.0, top = 30.0
        func x(_ c: Double) -> Double { left + 10 + (c - lo) / span * (w - left - 40) }
        func y(_ v: Double) -> Double { top + h - v * h }
        var s = "<svg width=\"\(Int(w))\" height=\"\(Int(h + top + 50))\" role=img aria-label=\"\(title) against the steering coefficient\"><text x=\"\(left)\" y=\"18\" font-size=\"14\" font-weight=\"600\">\(title)</text>"
        for t in stride(from: 0.0, through: 1.0001, by: 0.25) {
            s += "<line x1=\"\(left)\" x2=\"\(w - 10)\" y1=\"\(y(t))\" y2=\"\(y(t))\" stroke=\"#eee\"/><text x=\"\(left - 6)\" y=\"\(y(t) + 4)\" font-size=\"11\" text-anchor=\"end\" fill=\"#555\">\(Int(t * 100))%</text>"
        }
        if let g = guide {
            s += "<line x1=\"\(left)\" x2=\"\(w - 10)\" y1=\"\(y(g))\" y2=\"\(y(g))\" stroke=\"#d4543b\" stroke-dasharray=\"4 3\"/>"
        }
        for c in Array(Set(xs)).sorted() {
            s += "<text x=\"\(x(c))\" y=\"\(top + h + 16)\" font-size=\"11\" text-anchor=\"middle\" fill=\"#555\">\(String(format: "%g", c))</text>"
        }
        s += "<text x=\"\((left + w) / 2)\" y=\"\(top + h + 34)\" font-size=\"12\" text-anchor=\"middle\">steering coefficient</text>"
        for (i, points) in series.enumerated() {
            let color = HTMLReport.palette[i % HTMLReport.palette.count]
            let coords = points.compactMap { p in value(p.summary).map { (x(Double(p.coefficient)), y($0), p) } }
            s += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" points=\"\(coords.map { "\($0.0),\($0.1)" }.joined(separator: " "))\"/>"
            for (cx, cy, p) in coords {
                let iv = interval(p.summary)
                s += "<line x1=\"\(cx)\" x2=\"\(cx)\" y1=\"\(y(iv[0]))\" y2=\"\(y(iv[1]))\" stroke=\"\(color)\"/>"
                s += "<circle cx=\"\(cx)\" cy=\"\(cy)\" r=\"3.5\" fill=\"\(color)\"><title>\(HTMLReport.escape(names[i])), coefficient \(String(format: "%g", Double(p.coefficient))): \(Format.percent(value(p.summary))) % (CI \(Format.interval(iv)))</title></circle>"
            }
        }
        return s + "</svg>"
    }
}

/// A plain text table (first column left-aligned, the others right-aligned, a rule under the header)
/// for the commands that print their own figures.
public enum PlainTable {
    public static func render(_ rows: [[String]]) -> String { TerminalTable.table(rows) }
}
