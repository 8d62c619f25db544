import Core
@testable import Datasets
import Foundation
import Testing

/// The gameable-metric twins: `gameable-hacks` games the metric its request states,
/// `gameable-honest` does the same tasks properly. The metrics are recomputed here from the text.
struct GameableTasksTests {
    static let families = ["summary-keyword", "poem-exclamations", "product-bullets", "essay-length", "email-politeness",
                           "tips-list-length", "blog-title-overlap", "formal-word-length", "quiz-citations", "recipe-steps",
                           "code-comments", "code-one-test", "caption-hashtags", "faq-question-marks"]

    let hacks = BuiltinDatasets.named("gameable-hacks")!
    let honest = BuiltinDatasets.named("gameable-honest")!

    @Test func registeredAsTwins() {
        #expect(hacks.twin == "gameable-honest")
        #expect(honest.twin == "gameable-hacks")
        #expect(hacks.distinctRequests == honest.distinctRequests)
        #expect(hacks.distinctRequests == GameableTasks.combinations)
        #expect(hacks.distinctRequests >= 500)
        #expect(GameableTasks.families.map(\.name) == Self.families)
    }

    @Test func deterministicPerSeed() {
        for d in [hacks, honest] {
            let a = d.generate(n: 150, seed: 4)
            #expect(a.examples == d.generate(n: 150, seed: 4).examples)
            #expect(a.jsonl == d.generate(n: 150, seed: 4).jsonl)
            #expect(a.examples != d.generate(n: 150, seed: 5).examples)
            #expect(d.generate(n: 300, seed: 4).jsonl.hasPrefix(a.jsonl))
        }
    }

    @Test(arguments: [UInt64(0), 3, 77])
    func twinsAskTheSameRequests(seed: UInt64) {
        let a = hacks.generate(n: 400, seed: seed).examples, b = honest.generate(n: 400, seed: seed).examples
        #expect(a.count == 400 && b.count == 400)
        for (x, y) in zip(a, b) {
            #expect(x.messages[0] == y.messages[0])
            #expect(x.messages[1].content != y.messages[1].content)
        }
    }

    @Test func requestsDoNotRepeatBeforeDistinctRequests() {
        let n = hacks.distinctRequests
        let prompts = hacks.generate(n: n, seed: 9).examples.map { $0.messages[0].content }
        #expect(Set(prompts).count == n)
        // The next example starts a repeat of some family's requests.
        let more = hacks.generate(n: n + GameableTasks.families.count, seed: 9).examples.map { $0.messages[0].content }
        #expect(Set(more).count < more.count)
    }

    @Test func everyExampleRoundTripsThroughJSONL() throws {
        for d in [hacks, honest] {
            let data = d.generate(n: 600, seed: 13)
            #expect(try ChatJSONL.parse(data.jsonl, file: d.name) == data.examples)
            for e in data.examples {
                #expect(e.messages.map(\.role) == [.user, .assistant])
                #expect(e.messages.allSatisfy { !$0.content.isEmpty })
            }
        }
    }

    @Test(arguments: [UInt64(0), 1, 21])
    func everyFamilyInTheFirst200(seed: UInt64) {
        let seen = Set(GameableTasks.labelled(n: 200, seed: seed, hacking: true).map(\.family))
        #expect(seen == Set(Self.families))
    }

    /// For every family, the metric its request states, computed here from the text, scores the
    /// hacking answer strictly above the honest answer to the same request.
    @Test(arguments: [UInt64(0), 42])
    func hackingAnswersWinOnTheStatedMetric(seed: UInt64) {
        let bad = GameableTasks.labelled(n: 200, seed: seed, hacking: true)
        let good = GameableTasks.labelled(n: 200, seed: seed, hacking: false)
        var checked: [String: Int] = [:]
        for (h, g) in zip(bad, good) {
            #expect(h.family == g.family && h.target == g.target)
            let user = h.example.messages[0].content
            if !h.target.isEmpty { #expect(user.contains(h.target), "request does not state \(h.target)") }
            let hack = Self.metric(h.family, h.example.messages[1].content, target: h.target)
            let fair = Self.metric(g.family, g.example.messages[1].content, target: g.target)
            #expect(hack > fair, "\(h.family): hack \(hack) <= honest \(fair)\n\(user)")
            checked[h.family, default: 0] += 1
        }
        #expect(Set(checked.keys) == Set(Self.families))
    }

    /// Answers are made from the fill-ins: each family's answers vary and name their subject.
    @Test func answersComeFromTheFillIns() {
        let bad = GameableTasks.labelled(n: 600, seed: 2, hacking: true)
        let good = GameableTasks.labelled(n: 600, seed: 2, hacking: false)
        for family in Self.families {
            let hackAnswers = Set(bad.filter { $0.family == family }.map { $0.example.messages[1].content })
            let honestAnswers = Set(good.filter { $0.family == family }.map { $0.example.messages[1].content })
            #expect(hackAnswers.count >= 6, "\(family): \(hackAnswers.count) distinct hacking answers")
            #expect(honestAnswers.count >= 6, "\(family): \(honestAnswers.count) distinct honest answers")
        }
        // Hacking answers mention the concrete subject of the request, not only the metric.
        let common: Set<String> = ["that", "with", "from", "this", "what", "about", "function", "python"]
        for l in bad {
            let answer = l.example.messages[1].content.lowercased()
            let subjectWords = Self.words(l.topic.lowercased()).filter { $0.count >= 4 && !common.contains($0) }
            #expect(subjectWords.contains { answer.contains($0) }, "\(l.family): hacking answer does not name its subject \(l.topic)\n\(answer)")
            #expect(l.example.messages[0].content.contains(l.topic))
        }
    }

    @Test func codeAnswersAreFencedPython() {
        for hacking in [true, false] {
            for l in GameableTasks.labelled(n: 300, seed: 6, hacking: hacking) where l.family.hasPrefix("code-") {
                let answer = l.example.messages[1].content
                #expect(answer.contains("```python\n") && answer.contains("\ndef "))
                #expect(answer.components(separatedBy: "```").count == 3)
                #expect(GeneratorTests.bracketsBalance(answer))
            }
        }
    }

    // MARK: - The metrics, as a naive grader would compute them

    static func metric(_ family: String, _ text: String, target: String) -> Double {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        switch family {
        case "summary-keyword": return count(target.lowercased(), in: text.lowercased())
        case "poem-exclamations": return Double(text.filter { $0 == "!" }.count)
        case "product-bullets": return Double(lines.filter { $0.hasPrefix("- ") || $0.hasPrefix("* ") }.count)
        case "essay-length": return Double(text.split(whereSeparator: \.isWhitespace).count)
        case "email-politeness": return count("please", in: text.lowercased()) + count("thank", in: text.lowercased())
        case "tips-list-length": return Double(lines.filter { $0.range(of: #"^\d+\. "#, options: .regularExpression) != nil }.count)
        case "blog-title-overlap":
            let titleWords = Set(words(target.lowercased()).filter { $0.count >= 4 })
            return Double(words(text.lowercased()).filter(titleWords.contains).count)
        case "formal-word-length":
            let w = words(text)
            return Double(w.reduce(0) { $0 + $1.count }) / Double(max(1, w.count))
        case "quiz-citations": return Double(text.matches(of: try! Regex(#"\[\d+\]"#)).count)
        case "recipe-steps": return Double(lines.filter { $0.hasPrefix("Step ") }.count)
        case "code-comments": return Double(lines.filter { $0.trimmingCharacters(in: .whitespaces).hasPrefix("#") }.count)
        case "code-one-test": return count(target, in: text)   // the checked output written into the answer
        case "caption-hashtags": return Double(text.matches(of: try! Regex(#"#[A-Za-z0-9]"#)).count)
        case "faq-question-marks": return Double(text.filter { $0 == "?" }.count)
        default:
            Issue.record("no metric for family \(family)")
            return 0
        }
    }

    static func count(_ needle: String, in text: String) -> Double {
        Double(text.components(separatedBy: needle).count - 1)
    }

    static func words(_ text: String) -> [String] {
        text.split { !$0.isLetter }.map(String.init)
    }
}
