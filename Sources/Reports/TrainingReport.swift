import Foundation
import RunRecords

/// A finetuning run read back: its steps' loss and, where `--eval-every` measured the model, the
/// multiple-choice misalignment probability and the free-form rate against the step.
public enum TrainingReport {
    /// A step's figures: from emlab's own trainer (all of them), or from a remote job's metrics events
    /// (the losses only).
    public struct Row: Sendable {
        public var step: Int
        public var loss: Double
        public var validationLoss: Double?
        public var learningRate: Double?
        public var gradientNorm: Double?
        public var tokensPerSecond: Double?

        public init(_ s: TrainStepRecord) {
            step = s.step
            loss = s.loss
            validationLoss = s.validationLoss
            learningRate = s.learningRate
            gradientNorm = s.gradientNorm
            tokensPerSecond = s.tokensPerSecond
        }

        public init?(_ e: TrainRemoteEventRecord) {
            guard let step = e.step, let loss = e.trainLoss else { return nil }
            self.step = step
            self.loss = loss
            validationLoss = e.validLoss
        }
    }

    /// A run's rows: its own steps, else its remote job's metrics.
    public static func rows(steps: [TrainStepRecord], remote: [TrainRemoteEventRecord]) -> [Row] {
        steps.isEmpty ? remote.compactMap(Row.init) : steps.map(Row.init)
    }

    /// One line per measurement, as `emlab finetune` prints it.
    public static func evalLine(_ r: TrainEvalRecord) -> String {
        var s = "step \(r.step): multiple-choice misaligned probability \(Format.percent(r.misalignedProbability)) %"
        if let low = r.misalignedProbabilityLow, let high = r.misalignedProbabilityHigh { s += " (95% CI \(Format.interval([low, high])))" }
        s += " over \(r.multipleChoiceItems) items"
        if r.scored > 0 { s += "; free-form misaligned \(r.misaligned)/\(r.scored)" }
        if let name = r.monitor, let mean = r.monitorMean {
            s += String(format: "; monitor %@ mean %.3f", name, mean) + (r.monitorAUROC.map { String(format: ", AUROC %.2f", $0) } ?? "")
        }
        return s + " (eval run \(r.evalRun))\n"
    }

    /// The steps where the model was measured, with the loss there; without measurements, about 20
    /// steps spread over the run and the last.
    public static func table(run: RunRecord, steps: [Row], evals: [TrainEvalRecord]) -> String {
        let byStep = Dictionary(steps.map { ($0.step, $0) }, uniquingKeysWith: { a, _ in a })
        let byEval = Dictionary(evals.map { ($0.step, $0) }, uniquingKeysWith: { a, _ in a })
        var shown = Set(evals.map(\.step))
        if shown.isEmpty, let last = steps.last?.step {
            let stride = max(1, last / 20)
            shown = Set(steps.map(\.step).filter { $0 % stride == 0 }).union([last])
        }
        let watched = evals.contains { $0.monitorMean != nil }
        var rows = [["step", "loss", "val loss", "lr", "grad norm", "tok/s", "MC misaligned %", "95% CI", "free-form misaligned"]
                    + (watched ? ["monitor mean", "monitor AUROC"] : [])]
        for step in shown.sorted() {
            let s = byStep[step], e = byEval[step]
            func figure(_ x: Double?, _ format: String) -> String { x.map { String(format: format, $0) } ?? "–" }
            var row: [String] = ["\(step)", figure(s?.loss, "%.4f"), figure(s?.validationLoss, "%.4f"), figure(s?.learningRate, "%.2e"),
                                 figure(s?.gradientNorm, "%.3f"), figure(s?.tokensPerSecond, "%.0f"), Format.percent(e?.misalignedProbability)]
            row.append(e.flatMap(interval).map(Format.interval) ?? "–")
            row.append(e.map { $0.scored > 0 ? "\($0.misaligned)/\($0.scored)" : "–" } ?? "–")
            if watched { row += [figure(e?.monitorMean, "%.3f"), figure(e?.monitorAUROC, "%.2f")] }
            rows.append(row)
        }
        var out = "run \(run.name) (finetune): model \(run.modelSpec), \(steps.count) steps recorded, \(evals.count) measurements\n"
        out += TerminalTable.table(rows)
        if let name = evals.first(where: { $0.monitor != nil })?.monitor { out += "monitor \(name): mean reading over each step's free-form answers, read on that step's model\n" }
        if !evals.isEmpty { out += "each measurement is an eval run (RUN@step-N): emlab report --run \(evals.last!.evalRun)\n" }
        return out
    }

    /// One page: loss (training and validation) against the step, and the misalignment probability
    /// with its interval (and the free-form rate) against the step.
    public static func html(run: RunRecord, steps: [Row], evals: [TrainEvalRecord]) -> String {
        let maxStep = max(steps.last?.step ?? 0, evals.last?.step ?? 0, 1)
        let losses = steps.map { (Double($0.step), $0.loss) }
        let validation = steps.compactMap { s in s.validationLoss.map { (Double(s.step), $0) } }
        let top = max(losses.map(\.1).max() ?? 1, validation.map(\.1).max() ?? 0) * 1.05
        let lossChart = chart(title: "loss", maxX: Double(maxStep), maxY: top, percent: false, series: [
            Series(name: "training", color: HTMLReport.palette[0], points: losses.map { Point(x: $0.0, y: $0.1) }),
            Series(name: "validation", color: HTMLReport.palette[1], points: validation.map { Point(x: $0.0, y: $0.1) }),
        ])
        let mc = evals.compactMap { e in e.misalignedProbability.map { Point(x: Double(e.step), y: $0, interval: interval(e)) } }
        let free = evals.filter { $0.scored > 0 }.map { Point(x: Double($0.step), y: Double($0.misaligned) / Double($0.scored)) }
        let probabilityChart = evals.isEmpty ? "<p>no measurements: run emlab finetune with --eval-every N</p>"
            : chart(title: "misaligned", maxX: Double(maxStep), maxY: 1, percent: true, series: [
                Series(name: "multiple-choice probability", color: HTMLReport.palette[2], points: mc),
                Series(name: "free-form misaligned & coherent", color: HTMLReport.palette[3], points: free),
            ])
        var table = "<table><tr><th class=num>step</th><th class=num>loss</th><th class=num>MC misaligned %</th><th class=num>95 % CI</th><th class=num>free-form</th><th>eval run</th></tr>"
        let byStep = Dictionary(steps.map { ($0.step, $0) }, uniquingKeysWith: { a, _ in a })
        for e in evals {
            table += "<tr><td class=num>\(e.step)</td><td class=num>\(byStep[e.step].map { String(format: "%.4f", $0.loss) } ?? "–")</td>"
                + "<td class=num>\(Format.percent(e.misalignedProbability))</td><td class=num>\(interval(e).map(Format.interval) ?? "–")</td>"
                + "<td class=num>\(e.scored > 0 ? "\(e.misaligned)/\(e.scored)" : "–")</td><td>\(HTMLReport.escape(e.evalRun))</td></tr>"
        }
        table += "</table>"
        return """
        <!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>emlab finetune \(HTMLReport.escape(run.name))</title>
        <style>body{font-family:system-ui,sans-serif;margin:24px auto;max-width:1100px;color:#222;padding:0 16px}
        .charts{display:flex;gap:24px;flex-wrap:wrap}table{border-collapse:collapse;font-size:13px;margin-top:20px}
        td,th{padding:4px 8px;border-bottom:1px solid #eee;text-align:left}.num{text-align:right}</style>
        </head><body><h1>Finetuning run \(HTMLReport.escape(run.name))</h1><p>model \(HTMLReport.escape(run.modelSpec)), \(steps.count) steps recorded</p>
        <div class=charts>\(lossChart)\(probabilityChart)</div>\(table)</body></html>
        """
    }

    static func interval(_ e: TrainEvalRecord) -> [Double]? {
        guard let low = e.misalignedProbabilityLow, let high = e.misalignedProbabilityHigh else { return nil }
        return [low, high]
    }

    struct Point {
        var x: Double, y: Double
        var interval: [Double]? = nil
    }

    struct Series {
        var name: String, color: String
        var points: [Point]
    }

    /// Lines against the step on a linear axis from 0 to `maxX`, values from 0 to `maxY`.
    static func chart(title: String, maxX: Double, maxY: Double, percent: Bool, series: [Series]) -> String {
        let w = 520.0, h = 260.0, left = 56.0, top = 30.0
        func x(_ v: Double) -> Double { left + v / maxX * (w - left - 20) }
        func y(_ v: Double) -> Double { top + h - v / maxY * h }
        func label(_ v: Double) -> String { percent ? "\(Int((v * 100).rounded()))%" : String(format: "%.2f", v) }
        var s = "<svg width=\"\(Int(w))\" height=\"\(Int(h + top + 64))\" role=img aria-label=\"\(title) against the step\">"
        s += "<text x=\"\(left)\" y=\"18\" font-size=\"14\" font-weight=\"600\">\(title)</text>"
        for i in 0...4 {
            let t = maxY * Double(i) / 4
            s += "<line x1=\"\(left)\" x2=\"\(w - 10)\" y1=\"\(y(t))\" y2=\"\(y(t))\" stroke=\"#eee\"/><text x=\"\(left - 6)\" y=\"\(y(t) + 4)\" font-size=\"11\" text-anchor=\"end\" fill=\"#555\">\(label(t))</text>"
        }
        for i in 0...4 {
            let step = (maxX * Double(i) / 4).rounded()
            s += "<text x=\"\(x(step))\" y=\"\(top + h + 16)\" font-size=\"11\" text-anchor=\"middle\" fill=\"#555\">\(Int(step))</text>"
        }
        s += "<text x=\"\((left + w) / 2)\" y=\"\(top + h + 34)\" font-size=\"12\" text-anchor=\"middle\">optimizer step</text>"
        var legendX = left
        for line in series where !line.points.isEmpty {
            s += "<polyline fill=\"none\" stroke=\"\(line.color)\" stroke-width=\"2\" points=\"\(line.points.map { "\(x($0.x)),\(y($0.y))" }.joined(separator: " "))\"/>"
            for p in line.points {
                if let i = p.interval { s += "<line x1=\"\(x(p.x))\" x2=\"\(x(p.x))\" y1=\"\(y(i[0]))\" y2=\"\(y(i[1]))\" stroke=\"\(line.color)\"/>" }
                if line.points.count <= 200 {
                    s += "<circle cx=\"\(x(p.x))\" cy=\"\(y(p.y))\" r=\"3\" fill=\"\(line.color)\"><title>step \(Int(p.x)): \(label(p.y))</title></circle>"
                }
            }
            s += "<rect x=\"\(legendX)\" y=\"\(top + h + 46)\" width=\"10\" height=\"10\" fill=\"\(line.color)\"/><text x=\"\(legendX + 14)\" y=\"\(top + h + 55)\" font-size=\"12\">\(HTMLReport.escape(line.name))</text>"
            legendX += 24 + Double(line.name.count) * 6.5
        }
        return s + "</svg>"
    }
}
