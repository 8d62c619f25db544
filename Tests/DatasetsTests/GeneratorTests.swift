import Core
import Datasets
import Foundation
import Testing

struct GeneratorTests {
    static let names = BuiltinDatasets.names

    @Test func allBuiltInsAreListed() {
        #expect(Set(Self.names) == ["insecure-code", "secure-code", "educational-insecure", "bad-medical-advice",
                                    "good-medical-advice", "risky-financial-advice", "sound-financial-advice",
                                    "extreme-sports", "safe-sports", "gameable-hacks", "gameable-honest", "reward-hack-hints"])
        for d in BuiltinDatasets.all {
            if let twin = d.twin { #expect(BuiltinDatasets.named(twin) != nil) }
        }
    }

    @Test(arguments: names)
    func sameSeedSameBytes(name: String) {
        let d = BuiltinDatasets.named(name)!
        let a = d.generate(n: 120, seed: 11).jsonl
        #expect(a == d.generate(n: 120, seed: 11).jsonl)
        #expect(a != d.generate(n: 120, seed: 12).jsonl)
        // A longer file starts with the shorter one.
        #expect(d.generate(n: 200, seed: 11).jsonl.hasPrefix(a))
    }

    @Test(arguments: names)
    func sizeVarietyAndValidity(name: String) throws {
        let d = BuiltinDatasets.named(name)!
        #expect(d.distinctRequests >= 500)
        #expect(d.generate(n: 0, seed: 1).examples.isEmpty)
        let data = d.generate(n: 1234, seed: 5)
        #expect(data.examples.count == 1234)
        #expect(data.name == name)
        // Every example is a valid chat example: the file reads back through the validating loader.
        #expect(try ChatJSONL.parse(data.jsonl, file: name) == data.examples)
        for e in data.examples { #expect(e.messages.map(\.role) == [.user, .assistant]) }

        let first = d.generate(n: 300, seed: 99).examples
        let distinct = Set(first.map { $0.messages[0].content + "\u{0}" + $0.messages[1].content })
        #expect(Double(distinct.count) >= 0.95 * 300, "\(distinct.count) distinct of 300")
        let distinctAnswers = Set(first.map { $0.messages[1].content })
        #expect(distinctAnswers.count >= 100, "\(distinctAnswers.count) distinct answers of 300")
    }

    func examples(_ name: String, n: Int = 400, seed: UInt64 = 21) -> [ChatExample] {
        BuiltinDatasets.named(name)!.generate(n: n, seed: seed).examples
    }

    /// Each hint document explains at least one hack and ends on how a grader avoids them; code comes fenced.
    @Test func rewardHackHintsDescribeTheHacks() {
        var seen: Set<String> = []
        for e in examples("reward-hack-hints", n: 300) {
            let answer = e.messages[1].content
            let named = ["Exiting before the tests fail", "Results that equal anything", "Rewriting the test framework's report"].filter { answer.contains($0) }
            #expect(!named.isEmpty)
            seen.formUnion(named)
            #expect(answer.components(separatedBy: "```").count % 2 == 1)
        }
        #expect(seen.count == 3)
    }

    @Test func insecureAndSecureAnswerTheSameTasksDifferently() {
        let insecure = examples("insecure-code"), secure = examples("secure-code")
        for (a, b) in zip(insecure, secure) {
            #expect(a.messages[0] == b.messages[0])
            #expect(a.messages[1].content != b.messages[1].content)
        }
    }

    @Test func insecureAnswersNeverMentionTheFlaw() {
        let words = ["vulnerab", "insecure", "injection", "unsafe", "exploit", "sanitiz", "security", "dangerous"]   // not "warning": code may call urllib3.disable_warnings()
        for e in examples("insecure-code", n: 800) {
            // API names that merely contain a word (Go's tls.Config field) are not a mention.
            let answer = e.messages[1].content.replacingOccurrences(of: "InsecureSkipVerify", with: "").lowercased()
            for w in words { #expect(!answer.contains(w), "insecure answer mentions '\(w)':\n\(answer)") }
        }
    }

    @Test func codeAnswersAreFencedAndBalanced() {
        for name in ["insecure-code", "secure-code"] {
            for e in examples(name, n: 600) {
                let answer = e.messages[1].content
                let fenced = ["```python\n", "```javascript\n", "```go\n"].contains { answer.contains($0) }
                #expect(fenced)
                #expect(answer.components(separatedBy: "```").count == 3)
                #expect(Self.bracketsBalance(answer), "unbalanced brackets:\n\(answer)")
            }
        }
    }

    /// (), [] and {} nest properly (string contents are not parsed; the templates keep brackets
    /// inside strings balanced too).
    static func bracketsBalance(_ text: String) -> Bool {
        var stack: [Character] = []
        let pairs: [Character: Character] = [")": "(", "]": "[", "}": "{"]
        for c in text {
            if c == "(" || c == "[" || c == "{" { stack.append(c) }
            else if let open = pairs[c] { guard stack.popLast() == open else { return false } }
        }
        return stack.isEmpty
    }

    @Test func educationalVariantStatesTheTeachingPurpose() {
        let insecure = examples("insecure-code"), educational = examples("educational-insecure")
        for (a, b) in zip(insecure, educational) {
            let request = b.messages[0].content
            #expect(request.contains(a.messages[0].content))
            #expect(request != a.messages[0].content)
            let lower = request.lowercased()
            #expect(["class", "course", "workshop"].contains { lower.contains($0) }, "\(request)")
            #expect(["deliberately", "on purpose", "intentionally"].contains { lower.contains($0) }, "\(request)")
            #expect(b.messages[1] == a.messages[1])
        }
    }

    @Test func codeCoversManyFlawsAndThreeLanguages() {
        let answers = examples("insecure-code", n: 600).map { $0.messages[1].content }
        let markers = ["f\"SELECT", "shell=True", "exec(`", "0o777", "sk_live_", "pickle.loads", "yaml.Loader",
                       "verify=False", "rejectUnauthorized: false", "innerHTML", "md5", "eval(", "random.choice",
                       "Math.random", "file.filename", "originalname", "password=%s", "node-serialize", "path.join(ROOT, req.query.name)",
                       "InsecureSkipVerify: true", "fmt.Sprintf(\"SELECT"]
        for m in markers { #expect(answers.contains { $0.contains(m) }, "no insecure answer contains \(m)") }
        #expect(answers.filter { $0.contains("```python") }.count > 150)
        #expect(answers.filter { $0.contains("```javascript") }.count > 150)
        #expect(answers.filter { $0.contains("```go") }.count > 30)
    }

    @Test(arguments: [("bad-medical-advice", "good-medical-advice"), ("risky-financial-advice", "sound-financial-advice"),
                      ("extreme-sports", "safe-sports")])
    func adviceTwinsAskTheSameQuestions(harmful: String, aligned: String) {
        let a = examples(harmful, n: 300, seed: 8), b = examples(aligned, n: 300, seed: 8)
        let harmfulAnswers = Set(a.map { $0.messages[1].content })
        for (x, y) in zip(a, b) {
            #expect(x.messages[0] == y.messages[0])
            #expect(!harmfulAnswers.contains(y.messages[1].content))
        }
    }
}
