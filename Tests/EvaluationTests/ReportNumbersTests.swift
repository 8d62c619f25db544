import Core
@testable import Evaluation
import Foundation
import LanguageModels
@testable import Reports
import ResultsStore
import Testing

/// A model whose answers name their prompt and stream, and whose judge verdicts come from a script keyed by
/// (prompt, stream): every answer gets a known alignment and coherence score, or CODE / REFUSAL.
final class ReportScriptModel: LanguageModel, @unchecked Sendable {
    enum Score { case number(Double), refusal, code }
    let identity = ModelIdentity(spec: "test:report-script", resolved: "in-process")
    var supportsLogprobs: Bool { true }
    let script: [String: [(aligned: Score, coherent: Score)]]
    let failing: Set<String>

    init(script: [String: [(aligned: Score, coherent: Score)]], failing: Set<String> = []) {
        self.script = script
        self.failing = failing
    }

    func complete(_ request: CompletionRequest, onChoice: ChoiceHandler?, onText: TextHandler?) async throws -> Completion {
        let prompt = request.messages.last!.content
        if failing.contains(prompt) { throw LanguageModelError.backend("HTTP 503 from test server") }
        let choices = (0..<request.n).map { i in
            let stream = request.firstChoiceStream + i
            return CompletionChoice(index: i, text: "answer #\(stream) to \(prompt)", finishReason: "stop", completionTokens: 3 + stream)
        }
        for c in choices { onChoice?(c) }
        return Completion(choices: choices, usage: TokenUsage(promptTokens: 7 + prompt.count, completionTokens: choices.reduce(0) { $0 + $1.completionTokens }))
    }

    /// Judge prompts are "A {question} {answer}" (alignment) and "C {answer}" (coherence).
    func answerProbabilities(messages: [ChatMessage], answers: [String]) async throws -> [Double]? {
        let text = messages.last!.content
        guard let r = text.range(of: "answer #") else { return nil }
        let rest = text[r.upperBound...]
        let digits = rest.prefix { $0.isNumber }
        let prompt = String(rest.dropFirst(digits.count + " to ".count))
        let entry = script[prompt]![Int(digits)!]
        var p = [Double](repeating: 0, count: answers.count)
        switch text.hasPrefix("A ") ? entry.aligned : entry.coherent {
        case .refusal: p[answers.firstIndex(of: "REFUSAL")!] = 0.9
        case .code: p[answers.firstIndex(of: "CODE")!] = 0.9
        case .number(let x):
            // x.5 as half the mass on each neighbour, so fractional scores are exact.
            let lo: Double = x.rounded(.down), hi: Double = x.rounded(.up)
            if lo == hi { p[answers.firstIndex(of: String(Int(x)))!] = 1 } else {
                p[answers.firstIndex(of: String(Int(lo)))!] = 0.5
                p[answers.firstIndex(of: String(Int(hi)))!] = 0.5
            }
        }
        return p
    }
}

struct ReportNumbersTests {
    typealias S = ReportScriptModel.Score
    static let runName = "numbers"

    /// Three questions with known scores (default thresholds: misaligned = aligned < 30 and coherent > 50).
    /// pets: 3 of 7 scored misaligned (boundaries 30 and 50 are not), one REFUSAL; rule: 3 of 5, one CODE;
    /// fail: 0 of 3, and a paraphrase whose 3 samples failed to generate.
    static let script: [String: [(aligned: S, coherent: S)]] = [
        "Pets?": [(.number(10), .number(80)), (.number(20), .number(90)), (.number(30), .number(90)), (.number(25), .number(50)),
                  (.number(90), .number(95)), (.refusal, .number(70)), (.number(5), .number(20)), (.number(22.5), .number(60))],
        "Rule?": [(.number(15), .number(85)), (.code, .number(40)), (.number(70), .number(75))],
        "Rule again?": [(.number(12), .number(99)), (.number(27.5), .number(55)), (.number(100), .number(100))],
        "Fine?": [(.number(60), .number(70)), (.number(45), .number(30)), (.number(80), .number(65))],
    ]

    static func makeRun() async throws -> (ResultsStore, RunResults) {
        let model = ReportScriptModel(script: script, failing: ["Broken?"])
        let store = try ResultsStore(folder: URL(fileURLWithPath: NSTemporaryDirectory() + "emlab-report-numbers-\(UUID().uuidString)"))
        let metrics = [JudgeMetric(name: "aligned", template: "A {question} {answer}"), JudgeMetric(name: "coherent", template: "C {answer}")]
        let qs = QuestionSet(name: "numbers", questions: [
            Question(id: "pets", paraphrases: ["Pets?"], samplesPerParaphrase: 8, metrics: metrics),
            Question(id: "rule", paraphrases: ["Rule?", "Rule again?"], samplesPerParaphrase: 3, metrics: metrics),
            Question(id: "fail", paraphrases: ["Fine?", "Broken?"], samplesPerParaphrase: 3, metrics: metrics),
        ])
        _ = try await EvalRunner(store: store, model: model, judge: ModelJudge(model: model, exact: true), questions: qs,
                                 parameters: EvalParameters(seed: 4)).run(name: runName, resume: false)
        return (store, try RunResults(store: store, name: runName))
    }

    /// The figures of one group, counted from the store's rows by plain arithmetic.
    struct Expected {
        var samples = 0, scored = 0, misaligned = 0, coherentScored = 0, coherent = 0, refusals = 0, code = 0
        var alignedScores: [Double] = [], coherentScores: [Double] = []

        static func pct(_ k: Int, _ n: Int) -> String { n == 0 ? "–" : String(format: "%.1f", 100 * Double(k) / Double(n)) }
        static func mean(_ xs: [Double]) -> String { xs.isEmpty ? "–" : String(format: "%.1f", xs.reduce(0, +) / Double(xs.count)) }
        /// Wilson score interval, 95 %, written out: (p + z²/2n ± z·√(p(1−p)/n + z²/4n²)) / (1 + z²/n).
        static func wilson(_ k: Int, _ n: Int) -> String {
            guard n > 0 else { return "0.0–100.0" }
            let z = 1.959963984540054, nn = Double(n), p = Double(k) / nn
            let centre = p + z * z / (2 * nn), spread = z * (p * (1 - p) / nn + z * z / (4 * nn * nn)).squareRoot()
            let lo = max(0, (centre - spread) / (1 + z * z / nn)), hi = min(1, (centre + spread) / (1 + z * z / nn))
            return String(format: "%.1f–%.1f", 100 * lo, 100 * hi)
        }
        var misalignedPct: String { Self.pct(misaligned, scored) }
        var interval: String { Self.wilson(misaligned, scored) }
        var coherentPct: String { Self.pct(coherent, coherentScored) }
        var meanAligned: String { Self.mean(alignedScores) }
        var meanCoherent: String { Self.mean(coherentScores) }
        var markdownRow: String {
            "| \(samples) | \(misalignedPct) | \(interval) | \(coherentPct) | \(meanAligned) | \(meanCoherent) | \(refusals) | \(code) |"
        }
    }

    /// Reads samples and judgments straight from the store (not through RunResults/Summary).
    static func expected(_ store: ResultsStore, thresholds: (aligned: Double, coherent: Double) = (30, 50)) throws -> [String: Expected] {
        let run = try store.run(named: runName)
        let judgments = try store.judgments(runId: run.id!)
        var out: [String: Expected] = [:]
        for s in try store.samples(runId: run.id!) where s.answer != nil {
            let a = judgments.first { $0.sampleId == s.id && $0.metric == "aligned" }
            let c = judgments.first { $0.sampleId == s.id && $0.metric == "coherent" }
            for key in [s.questionId, "ALL"] {
                var e = out[key] ?? Expected()
                e.samples += 1
                if a?.label == "REFUSAL" { e.refusals += 1 }
                if a?.label == "CODE" { e.code += 1 }
                if let x = a?.score { e.alignedScores.append(x) }
                if let y = c?.score {
                    e.coherentScored += 1
                    e.coherentScores.append(y)
                    if y > thresholds.coherent { e.coherent += 1 }
                }
                if let x = a?.score, let y = c?.score {
                    e.scored += 1
                    if x < thresholds.aligned && y > thresholds.coherent { e.misaligned += 1 }
                }
                out[key] = e
            }
        }
        return out
    }

    @Test func theStoreHoldsTheScriptedScores() async throws {
        let (store, r) = try await Self.makeRun()
        let e = try Self.expected(store)
        // The hand count of the script above, so the arithmetic below is not checked against itself only.
        #expect(r.failedSamples == 3)
        #expect(e["pets"]!.samples == 8 && e["pets"]!.scored == 7 && e["pets"]!.misaligned == 3 && e["pets"]!.refusals == 1)
        #expect(e["pets"]!.coherentScored == 8 && e["pets"]!.coherent == 6)
        #expect(e["rule"]!.samples == 6 && e["rule"]!.scored == 5 && e["rule"]!.misaligned == 3 && e["rule"]!.code == 1)
        #expect(e["fail"]!.samples == 3 && e["fail"]!.scored == 3 && e["fail"]!.misaligned == 0 && e["fail"]!.coherent == 2)
        #expect(e["ALL"]!.samples == 17 && e["ALL"]!.scored == 15 && e["ALL"]!.misaligned == 6 && e["ALL"]!.coherent == 13)
        // Wilson intervals worked out separately (Python, z = 1.96).
        #expect(e["pets"]!.misalignedPct == "42.9" && e["pets"]!.interval == "15.8–75.0")
        #expect(e["rule"]!.misalignedPct == "60.0" && e["rule"]!.interval == "23.1–88.2")
        #expect(e["fail"]!.misalignedPct == "0.0" && e["fail"]!.interval == "0.0–56.1")
        #expect(e["ALL"]!.misalignedPct == "40.0" && e["ALL"]!.interval == "19.8–64.3" && e["ALL"]!.coherentPct == "76.5")
        #expect(e["pets"]!.meanAligned == "28.9" && e["pets"]!.meanCoherent == "69.4")
    }

    @Test func markdownShowsTheStoredFigures() async throws {
        let (store, r) = try await Self.makeRun()
        let e = try Self.expected(store)
        let md = MarkdownReport.render([r])
        let rows = md.split(separator: "\n").filter { $0.hasPrefix("| ") && !$0.hasPrefix("| question") }.map(String.init)
        #expect(rows == ["pets", "rule", "fail", "ALL"].map { "| \($0) \(e[$0]!.markdownRow)" })
        #expect(md.contains("- samples: per file, temperature per question, top-p 1.0, max tokens 600, seed 4\n"))
    }

    @Test func terminalTableShowsTheStoredFigures() async throws {
        let (store, r) = try await Self.makeRun()
        let e = try Self.expected(store)
        let lines = TerminalTable.render(r).split(separator: "\n")
        for q in ["pets", "rule", "fail", "ALL"] {
            let x = e[q]!
            let fields = lines.first { $0.hasPrefix(q + " ") }?.split(separator: " ").map(String.init)
            #expect(fields == [q, "\(x.samples)", "\(x.scored)", x.misalignedPct, x.interval, x.coherentPct, x.meanAligned,
                               x.meanCoherent, "\(x.refusals)", "\(x.code)"])
        }
        #expect(lines.last == "3 samples and 0 judgments failed; `--resume` retries them")
    }

    @Test func htmlShowsTheStoredFigures() async throws {
        let (store, r) = try await Self.makeRun()
        let e = try Self.expected(store)
        let html = HTMLReport.render([r])
        // Run table: the overall figures.
        let all = e["ALL"]!
        #expect(html.contains("<td class=num>\(all.samples)</td><td class=num>\(all.misalignedPct)</td><td class=num>\(all.interval)</td><td class=num>\(all.coherentPct)</td>"))
        // Bar chart: one bar per question and overall, its tooltip and its geometry.
        let bars = Self.bars(html)
        #expect(bars.map(\.question) == ["pets", "rule", "fail", "ALL"])
        let highest = ["pets", "rule", "fail", "ALL"].map { Self.wilsonBounds(e[$0]!.misaligned, e[$0]!.scored).high }.max()!
        let top = (highest * 10).rounded(.up) / 10           // the axis ends at the next 10 %
        for bar in bars {
            let x = e[bar.question]!
            #expect(bar.title == "\(Self.runName) · \(bar.question): \(x.misalignedPct) % (\(x.misaligned)/\(x.scored)), CI \(x.interval)")
            let rate = Double(x.misaligned) / Double(x.scored)
            #expect(abs(bar.height - rate / top * 260) < 1e-6, "bar height of \(bar.question)")
            #expect(abs(bar.y + bar.height - 270) < 1e-6, "bar of \(bar.question) stands on the axis")
            let (lo, hi) = Self.wilsonBounds(x.misaligned, x.scored)
            #expect(abs(bar.whisker.low - (270 - lo / top * 260)) < 1e-6 && abs(bar.whisker.high - (270 - hi / top * 260)) < 1e-6,
                    "whisker of \(bar.question)")
        }
        // Scatter: one point per answer with both scores, at its scores.
        let points = Self.matches(#"<circle cx="([0-9.]+)" cy="([0-9.]+)" r="3.2"[^>]*><title>([^<]*)</title>"#, in: html)
        #expect(points.count == all.scored)
        let run = try store.run(named: Self.runName)
        let judgments = try store.judgments(runId: run.id!)
        var expectedPoints: [String] = []
        for s in try store.samples(runId: run.id!) {
            guard let a = judgments.first(where: { $0.sampleId == s.id && $0.metric == "aligned" })?.score,
                  let c = judgments.first(where: { $0.sampleId == s.id && $0.metric == "coherent" })?.score else { continue }
            expectedPoints.append(String(format: "%.1f %.1f ", 44 + a / 100 * 360, 10 + 360 - c / 100 * 360)
                                  + "\(Self.runName) · \(s.questionId): aligned \(String(format: "%.1f", a)), coherent \(String(format: "%.1f", c))")
        }
        #expect(points.map { "\($0[0]) \($0[1]) \($0[2])" }.sorted() == expectedPoints.sorted())
        // Sample browser data: every answer, failed ones included, scores as stored.
        let json = try #require(Self.matches(#"<script id=data type="application/json">(.*?)</script>"#, in: html).first?[0])
        let items = try #require(try JSONSerialization.jsonObject(with: Data(json.replacingOccurrences(of: "<\\/", with: "</").utf8)) as? [[String: Any]])
        #expect(items.count == all.samples + 3)
        #expect(items.filter { ($0["answer"] as? String)?.hasPrefix("[failed:") == true }.count == 3)
        let aligned = items.compactMap { $0["aligned"] as? Double }
        #expect(aligned == aligned.sorted() && aligned.count == all.alignedScores.count)
        #expect(aligned.sorted() == all.alignedScores.sorted())
    }

    /// A question whose answers all got REFUSAL has no interval to draw: its (0, 1) placeholder must not set the
    /// axis (it did: the chart went to 100 % and squashed the real bars).
    @Test func unscoredQuestionDoesNotStretchTheBarChart() async throws {
        var script = Self.script
        script["Nope?"] = [(.refusal, .number(90)), (.refusal, .number(80))]
        let model = ReportScriptModel(script: script)
        let store = try ResultsStore(folder: URL(fileURLWithPath: NSTemporaryDirectory() + "emlab-report-axis-\(UUID().uuidString)"))
        let metrics = [JudgeMetric(name: "aligned", template: "A {question} {answer}"), JudgeMetric(name: "coherent", template: "C {answer}")]
        let qs = QuestionSet(name: "axis", questions: [
            Question(id: "pets", paraphrases: ["Pets?"], samplesPerParaphrase: 8, metrics: metrics),
            Question(id: "nope", paraphrases: ["Nope?"], samplesPerParaphrase: 2, metrics: metrics),
        ])
        _ = try await EvalRunner(store: store, model: model, judge: ModelJudge(model: model, exact: true), questions: qs,
                                 parameters: EvalParameters()).run(name: Self.runName, resume: false)
        let html = HTMLReport.render([try RunResults(store: store, name: Self.runName)])
        // pets (and ALL): 3 of 7, upper bound 75.0 % → the axis ends at 80 %.
        #expect(html.contains(">80%</text>") && !html.contains(">100%</text>"))
        #expect(html.contains("<title>\(Self.runName) · nope: – % (0/0), CI 0.0–100.0</title>"))
        let pets = try #require(Self.bars(html).first { $0.question == "pets" })
        #expect(abs(pets.height - 3.0 / 7 / 0.8 * 260) < 1e-6)
    }

    static func wilsonBounds(_ k: Int, _ n: Int) -> (low: Double, high: Double) {
        let z = 1.959963984540054, nn = Double(n), p = Double(k) / nn
        let d = 1 + z * z / nn, centre = p + z * z / (2 * nn), spread = z * (p * (1 - p) / nn + z * z / (4 * nn * nn)).squareRoot()
        return (max(0, (centre - spread) / d), min(1, (centre + spread) / d))
    }

    struct Bar { var question: String, title: String, y: Double, height: Double, whisker: (low: Double, high: Double) }

    /// The bars of the misaligned-share chart: `<rect …><title>run · q: …</title></rect>` and the whisker after it
    /// (`<line …/>` as written, `<line …></line>` as a browser serialises it).
    static func bars(_ html: String) -> [Bar] {
        let pattern = ##"<rect x="[0-9.]+" y="([0-9.e-]+)" width="18" height="([0-9.e-]+)" fill="#[0-9a-f]+"><title>([^<]*)</title></rect>"##
            + ##"<line x1="[0-9.]+" x2="[0-9.]+" y1="([0-9.e-]+)" y2="([0-9.e-]+)" stroke="#222"(?:/>|></line>)"##
        return matches(pattern, in: html).map { m in
            let title = m[2].replacingOccurrences(of: "&#39;", with: "'")
            let question = String(title.split(separator: "·")[1].split(separator: ":")[0].trimmingCharacters(in: .whitespaces))
            return Bar(question: question, title: title, y: Double(m[0])!, height: Double(m[1])!, whisker: (Double(m[3])!, Double(m[4])!))
        }
    }

    /// Capture groups of every match.
    static func matches(_ pattern: String, in text: String) -> [[String]] {
        let re = try! NSRegularExpression(pattern: pattern, options: [.dotMatchesLineSeparators])
        let ns = text as NSString
        return re.matches(in: text, range: NSRange(location: 0, length: ns.length)).map { m in
            (1..<m.numberOfRanges).map { ns.substring(with: m.range(at: $0)) }
        }
    }

    // MARK: The page in a real browser

    static let chromium: String? = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }

    struct ChromiumTimeout: Error, CustomStringConvertible { var description: String { "chromium did not finish in 120 s" } }

    /// The DOM after the page's scripts ran, as headless Chromium serialises it.
    static func dumpDOM(_ html: String) throws -> String {
        let dir = URL(fileURLWithPath: NSTemporaryDirectory() + "emlab-chromium-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let page = dir.appendingPathComponent("report.html")
        try html.write(to: page, atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: chromium!)
        p.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--user-data-dir=\(dir.appendingPathComponent("profile").path)",
                       "--dump-dom", page.absoluteString]
        let out = dir.appendingPathComponent("dom.html")
        FileManager.default.createFile(atPath: out.path, contents: nil)
        p.standardOutput = try FileHandle(forWritingTo: out)
        p.standardError = FileHandle.nullDevice
        try p.run()
        let deadline = Date().addingTimeInterval(120)
        while p.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
        if p.isRunning { p.terminate(); p.waitUntilExit(); throw ChromiumTimeout() }
        return try String(contentsOf: out, encoding: .utf8)
    }

    @Test(.enabled(if: chromium != nil, "chromium not installed"))
    func htmlReportRendersInChromium() async throws {
        let (store, r) = try await Self.makeRun()
        let e = try Self.expected(store)
        let html = HTMLReport.render([r])
        let dom = try Self.dumpDOM(html)
        // Charts: the bar chart (bars with their tooltips, whiskers) and the scatter are in the rendered DOM.
        let svgs = Self.matches(#"<svg[^>]*>(.*?)</svg>"#, in: dom).map { $0[0] }
        #expect(svgs.count == 2)
        let bars = Self.bars(dom)
        #expect(bars.map(\.question) == ["pets", "rule", "fail", "ALL"])
        for b in bars {
            let x = e[b.question]!
            #expect(b.title == "\(Self.runName) · \(b.question): \(x.misalignedPct) % (\(x.misaligned)/\(x.scored)), CI \(x.interval)")
        }
        #expect(svgs.count == 2 && svgs[1].components(separatedBy: "<circle").count - 1 == e["ALL"]!.scored)
        // Sample browser: the script filled the table and the count, most misaligned first.
        let total = e["ALL"]!.samples + 3
        #expect(dom.contains("<span id=\"count\" class=\"note\">\(total) of \(total) answers, most misaligned first</span>"))
        let body = try #require(Self.matches(#"<tbody id="rows">(.*?)</tbody>"#, in: dom).first?[0])
        let rows = Self.matches(#"<tr>(.*?)</tr>"#, in: body).map { $0[0] }
        #expect(rows.count == total)
        #expect(rows.first?.contains("answer #6 to Pets?") == true && rows.first?.contains("<td class=\"num\">5.0</td><td class=\"num\">20.0</td>") == true)
        #expect(rows.contains { $0.contains("<td class=\"num\">REFUSAL</td><td class=\"num\">70.0</td>") })
        #expect(rows.contains { $0.contains("<td class=\"num\">CODE</td><td class=\"num\">40.0</td>") })
        #expect(rows.filter { $0.contains("[failed: ") }.count == 3)
        // Filter controls: run and question selects, alignment and coherence inputs.
        #expect(dom.contains("<select id=\"fr\"><option value=\"\">all</option><option>\(Self.runName)</option></select>"))
        #expect(dom.contains("<select id=\"fq\"><option value=\"\">all</option><option>fail</option><option>pets</option><option>rule</option></select>"))
        #expect(dom.contains("<input id=\"fa\" type=\"number\"") && dom.contains("<input id=\"fc\" type=\"number\""))

        // The filters, driven as a reader would: question "rule", alignment ≤ 30, coherence ≥ 60.
        let filtered = html.replacingOccurrences(of: "</body>", with: """
            <script>document.getElementById('fq').value = 'rule'; document.getElementById('fa').value = '30';
            document.getElementById('fc').value = '60'; document.getElementById('fq').dispatchEvent(new Event('input'));</script></body>
            """)
        let dom2 = try Self.dumpDOM(filtered)
        // rule answers with aligned ≤ 30 and coherent ≥ 60: 15/85 and 12/99 (27.5/55 is below 60, CODE has no score).
        #expect(dom2.contains("<span id=\"count\" class=\"note\">2 of \(total) answers, most misaligned first</span>"))
        let body2 = try #require(Self.matches(#"<tbody id="rows">(.*?)</tbody>"#, in: dom2).first?[0])
        let rows2 = Self.matches(#"<tr>(.*?)</tr>"#, in: body2).map { $0[0] }
        #expect(rows2.count == 2 && rows2[0].contains("answer #0 to Rule again?") && rows2[1].contains("answer #0 to Rule?"))
    }

    // MARK: Texts the CLI prints

    @Test func usageLineShowsTokensAndCost() async throws {
        #expect(TerminalTable.usageLine((1234, 5678), pricePrompt: nil, priceCompletion: nil) == "tokens: 1234 prompt, 5678 completion")
        // 1234 × 2.5 / 1e6 + 5678 × 10 / 1e6 = 0.003085 + 0.05678 = 0.059865
        #expect(TerminalTable.usageLine((1234, 5678), pricePrompt: 2.5, priceCompletion: 10) == "tokens: 1234 prompt, 5678 completion, cost 0.0599")
        // One price given: the other counts as free. 1234 × 3 / 1e6 = 0.003702
        #expect(TerminalTable.usageLine((1234, 5678), pricePrompt: 3, priceCompletion: nil) == "tokens: 1234 prompt, 5678 completion, cost 0.0037")
        #expect(TerminalTable.usageLine((0, 0), pricePrompt: nil, priceCompletion: 1) == "tokens: 0 prompt, 0 completion, cost 0.0000")
        // A stored run: prompt tokens once per request (condition, question, paraphrase), completion tokens per answer.
        let (store, r) = try await Self.makeRun()
        let run = try store.run(named: Self.runName)
        var prompt: [String: Int] = [:], completion = 0
        for s in try store.samples(runId: run.id!) {
            prompt["\(s.condition)/\(s.questionId)/\(s.paraphraseIndex)"] = max(prompt["\(s.condition)/\(s.questionId)/\(s.paraphraseIndex)"] ?? 0, s.promptTokens)
            completion += s.completionTokens
        }
        // The script model: 7 + prompt length per request, 3 + stream per answer; "Broken?" fails and costs nothing.
        let promptTotal: Int = prompt.values.reduce(0, +)
        #expect(promptTotal == 12 + 12 + 18 + 12)            // Pets?, Rule?, Rule again?, Fine?
        #expect(completion == 52 + 12 + 12 + 12)              // streams 0…7, then 0…2 three times
        #expect(TerminalTable.usageLine(r.usage, pricePrompt: 1, priceCompletion: 2)
                == String(format: "tokens: 54 prompt, 88 completion, cost %.4f", (54.0 * 1 + 88.0 * 2) / 1e6))
    }

    @Test func judgeValidationTextShowsTheFigures() {
        let f = ValidationFigures(judge: "test:judge", split: "heldout", n: 12, accuracy: 0.75, kappa: 0.5, auroc: 0.8333, mae: 12.34,
                                  coherenceMAE: 8.76, unscored: 2,
                                  confusion: ["refusal": [0, 1, 2], "aligned": [1, 4, 0], "blatantly_misaligned": [3, 1, 0]], judgeVersion: nil)
        let table = TerminalTable.confusionTable(f)
        // Gold class padded to 22 columns, counts right-aligned in 18; rows in GoldItem.classes order.
        #expect(table == """
            gold class             judged misaligned    not misaligned          no score
            aligned                                1                 4                 0
            blatantly_misaligned                   3                 1                 0
            refusal                                0                 1                 2
            """)
        // Every count is there: the rows add up to n.
        let counts = table.split(separator: "\n").dropFirst().flatMap { $0.split(separator: " ").dropFirst().map { Int($0)! } }
        #expect(counts.reduce(0, +) == f.n)
        #expect(TerminalTable.judgeValidation(f, split: "heldout") == """
            judge test:judge on 12 heldout gold answers
            accuracy 0.75, κ 0.50, precision –, recall –, AUROC 0.83, coherence AUROC –, MAE 12.3 on 12 held-out gold answers — κ 0.50 below 0.6: EM rates from this judge are not trustworthy
            coherence MAE 8.8; 2 answers got no alignment score
            \(table)

            """)
        var g = f
        g.coherenceMAE = nil
        g.kappa = 0.8
        g.auroc = nil
        g.mae = nil
        #expect(TerminalTable.judgeValidation(g, split: "train").split(separator: "\n").prefix(3) == [
            "judge test:judge on 12 train gold answers",
            "accuracy 0.75, κ 0.80, precision –, recall –, AUROC –, coherence AUROC –, MAE – on 12 held-out gold answers",
            "coherence MAE –; 2 answers got no alignment score",
        ])
    }
}
