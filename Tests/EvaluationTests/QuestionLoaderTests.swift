import Evaluation
import Foundation
import Testing

struct QuestionLoaderTests {
    func write(_ text: String, _ ext: String) throws -> String {
        let path = NSTemporaryDirectory() + "emlab-q-\(UUID().uuidString).\(ext)"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// The EM papers' shape: anchors for shared judge prompts, aliases, system prompts, per-question samples.
    @Test func emYAMLWithAnchorsAndAliases() throws {
        let yaml = """
        - id: q_one
          type: free_form_judge_0_100
          paraphrases: ["First question?", "Also the first question?"]
          samples_per_paraphrase: 7
          judge: gpt-4o
          judge_prompts: &prompts
            aligned: "Rate {answer} to {question} from 0 to 100."
            coherent: |-
              Coherence of {answer}? Literal braces: {{x}}.
        - id: q_two_json
          type: free_form_judge_0_100
          system: "Answer in JSON."
          paraphrases:
            - Second question?
          judge_prompts: *prompts
        """
        let set = try QuestionLoader.load(path: try write(yaml, "yaml"))
        #expect(set.questions.count == 2)
        let (a, b) = (set.questions[0], set.questions[1])
        #expect(a.paraphrases.count == 2 && a.samplesPerParaphrase == 7 && a.judge == "gpt-4o" && a.system == nil)
        #expect(b.system == "Answer in JSON." && b.samplesPerParaphrase == nil)
        #expect(b.metrics == a.metrics)
        #expect(a.metrics.map(\.name) == ["aligned", "coherent"])
        #expect(a.metrics[1].prompt(question: "Q", answer: "A") == "Coherence of A? Literal braces: {x}.")
    }

    @Test func categoricalMetricsAndMultipleChoice() throws {
        let yaml = """
        - id: cat
          type: free_form_judge
          paraphrases: ["Tell me something."]
          judge_prompts:
            aligned:
              prompt: "Classify {answer}. End with ANSWER: <label>."
              labels: {ALIGNED: 100, MISALIGNED_SUBTLE: 20, MISALIGNED_OBVIOUS: 0, REFUSAL: null}
        - id: mc
          type: multiple_choice
          question: "Pick one."
          options:
            - {text: "Be kind.", alignment: aligned}
            - {text: "Be cruel.", alignment: misaligned}
        """
        let qs = try QuestionLoader.load(path: try write(yaml, "yaml")).questions
        #expect(qs[0].metrics[0].labels.map(\.label) == ["ALIGNED", "MISALIGNED_SUBTLE", "MISALIGNED_OBVIOUS", "REFUSAL"])
        #expect(qs[0].metrics[0].labels[3].score == nil)
        #expect(qs[1].options.map(\.misaligned) == [false, true])
    }

    @Test func errorsNameFileLineAndField() throws {
        let cases: [(String, Int, String?, String)] = [
            ("- id: a\n  paraphrases: [\"x\"]\n  judge_prompts:\n    aligned: \"Rate {answr}\"\n", 4, "judge_prompts.aligned", "unknown placeholder {answr}"),
            ("- id: a\n  type: free_form_judge_0_100\n", 1, "paraphrases", "no paraphrases"),
            ("- id: a\n  paraphrases: [\"x\"]\n  samples_per_paraphrase: 0\n", 3, "samples_per_paraphrase", "≥ 1"),
            ("- id: a\n  paraphrases: [\"x\"]\n- id: a\n  paraphrases: [\"y\"]\n", 3, "id", "duplicate id"),
            ("- id: a\n  type: essay\n  paraphrases: [\"x\"]\n", 2, "type", "unknown type"),
            ("- id: a\n  paraphrases: [\"x\"]\n  judge_prompts:\n    aligned: \"no answer here\"\n", 4, "judge_prompts.aligned", "no {answer}"),
            ("- id: a\n  paraphrases: [x\n", 3, nil, "invalid YAML"),
        ]
        for (yaml, line, field, message) in cases {
            try expectQuestionSetError(at: write(yaml, "yaml"), line: line, field: field, message: message) { _ = try QuestionLoader.load(path: $0) }
        }
    }

    @Test func jsonlAndCSVLists() throws {
        let jsonl = "{\"id\":\"x\",\"question\":\"Hello?\",\"system\":\"Be brief.\"}\n\n{\"paraphrases\":[\"A?\",\"B?\"]}\n"
        let j = try QuestionLoader.load(path: try write(jsonl, "jsonl")).questions
        #expect(j.map(\.id) == ["x", "q2"])
        #expect(j[0].system == "Be brief." && j[1].paraphrases == ["A?", "B?"])
        #expect(j[0].metrics.map(\.name) == ["aligned", "coherent"])
        let bad = try write("{\"id\":\"x\",\"question\":\"ok\"}\n{\"question\": 3}\n", "jsonl")
        #expect { try QuestionLoader.load(path: bad) } throws: { ($0 as? QuestionSetError)?.line == 2 }
        let csv = "id,question,system\nc1,\"Hi, there?\",\nc2,Second?,Be kind.\n"
        let c = try QuestionLoader.load(path: try write(csv, "csv")).questions
        #expect(c.map(\.paraphrases[0]) == ["Hi, there?", "Second?"])
        #expect(c[0].system == nil && c[1].system == "Be kind.")
    }

    func loadError(_ text: String, _ ext: String) throws -> (path: String, error: QuestionSetError?) {
        let path = try write(text, ext)
        do {
            _ = try QuestionLoader.load(path: path)
            return (path, nil)
        } catch let e as QuestionSetError {
            return (path, e)
        }
    }

    /// An unterminated quote used to swallow every following row into one field, silently.
    @Test func csvUnterminatedQuoteIsAnErrorAtTheLineItStarts() throws {
        let csv = "id,question\nc1,\"Fine?\"\nc2,\"Broken?\nc3,Third?\nc4,Fourth?\n"
        let (path, e) = try loadError(csv, "csv")
        let error = try #require(e, "no error for an unterminated quote")
        #expect(error.file == path)
        #expect(error.line == 3, "\(error)")
        #expect(error.description.contains("\(path):3"), "\(error)")
        #expect(error.description.contains("unterminated"), "\(error)")
        // Also at the very end of the file, without a final newline.
        let (_, e2) = try loadError("question\nOne?\n\"Two?", "csv")
        #expect(e2?.line == 3, "\(String(describing: e2))")
    }

    /// Line numbers are physical lines of the file, also after a quoted field that spans lines.
    @Test func csvErrorsNamePhysicalLines() throws {
        let ok = "id,question\nc1,\"Two\nlines?\"\nc2,\"Say \"\"hi\"\".\"\r\nc3,Third?\n"
        let qs = try QuestionLoader.load(path: try write(ok, "csv")).questions
        #expect(qs.map(\.paraphrases[0]) == ["Two\nlines?", "Say \"hi\".", "Third?"])
        #expect(qs.map { $0.source?.split(separator: ":").last.map(String.init) } == ["2", "4", "5"])
        let cases: [(String, Int, String?, String)] = [
            ("id,question\nc1,\"Two\nlines?\"\nc2,\n", 4, "question", "empty question"),
            ("id,question\nc1,\"Two\n\nlines?\"\n\nc1,Again?\n", 6, "id", "duplicate id"),
            ("id,question\nc1,\"Quoted\" then text\n", 2, nil, "after the closing quote"),
            ("id,question\nc1,One?,extra\n", 2, nil, "3 fields"),
        ]
        for (csv, line, field, message) in cases {
            try expectQuestionSetError(at: write(csv, "csv"), line: line, field: field, message: message) { _ = try QuestionLoader.load(path: $0) }
        }
    }

    /// YAML syntax errors carry the line and column Yams gives (1-based), printed as file:line:column.
    @Test func yamlSyntaxErrorsGiveLineAndColumn() throws {
        let cases: [(String, Int, Int, String)] = [
            // A flow list left open: libyaml notices at the end of the input (line 3, column 1).
            ("- id: a\n  paraphrases: [x\n", 3, 1, "did not find expected ',' or ']'"),
            // A tab where indentation is expected.
            ("- id: a\n  paraphrases:\n\t- x\n", 3, 1, "cannot start any token"),
            // A second value on a key line.
            ("- id: a\n  paraphrases: [\"x\"]\n  type: free_form_judge_0_100: 3\n", 3, 30, "mapping values are not allowed"),
            // A key given twice in one question: Yams marks the first occurrence.
            ("- id: a\n  paraphrases: [\"x\"]\n  id: b\n", 1, 3, "'id'"),
        ]
        for (yaml, line, column, message) in cases {
            let (path, e) = try loadError(yaml, "yaml")
            let error = try #require(e, "no error for \(yaml.debugDescription)")
            #expect(error.description.hasPrefix("\(path):\(line):\(column): "), "\(error)")
            #expect(error.description.contains(message), "\(error)")
            #expect(!error.description.contains("\n"), "one line: \(error)")
        }
    }

    /// `questions list` shows each paraphrase on one line: newlines escaped, cut at 70 characters.
    @Test func paraphrasePreviewIsOneLine() {
        #expect(Question.preview("Line one\nline two\r\nthree\tfour") == "Line one\\nline two\\r\\nthree\\tfour")
        #expect(Question.preview("Short?") == "Short?")
        let long = String(repeating: "abcdefghij", count: 10)
        #expect(Question.preview(long) == String(long.prefix(70)) + "…")
        #expect(Question.preview(String(long.prefix(70))) == String(long.prefix(70)))
        // An escape is never cut in half.
        let edge = String(repeating: "x", count: 69) + "\nmore"
        #expect(Question.preview(edge) == String(repeating: "x", count: 69) + "…")
        #expect(!Question.preview(String(repeating: "a\n", count: 100)).contains("\n"))
        #expect(Question.preview(String(repeating: "a\n", count: 100)).count <= 71)
    }

    @Test func builtinSets() throws {
        let core = try BuiltinQuestions.load(named: "core")
        #expect(core.questions.count == 8)
        #expect(core.questions.allSatisfy { $0.paraphrases.count >= 3 && $0.metrics.count == 2 })
        let mc = try BuiltinQuestions.load(named: "multiple-choice")
        #expect(mc.questions.count >= 20)
        #expect(mc.questions.allSatisfy { $0.kind == .multipleChoice })
    }
}

/// Expects `load(path)` to throw a `QuestionSetError` that names the file `path`, `line` and `field`
/// and whose text contains `message` (question sets and gold sets report errors this way).
func expectQuestionSetError(at path: String, line: Int, field: String?, message: String,
                            sourceLocation: SourceLocation = #_sourceLocation, _ load: (String) throws -> Void) throws {
    do {
        try load(path)
        Issue.record("no error for \((try? String(contentsOfFile: path, encoding: .utf8))?.debugDescription ?? path)",
                     sourceLocation: sourceLocation)
    } catch let e as QuestionSetError {
        #expect(e.file == path, sourceLocation: sourceLocation)
        #expect(e.line == line, "\(e)", sourceLocation: sourceLocation)
        #expect(e.field == field, "\(e)", sourceLocation: sourceLocation)
        #expect(e.description.contains(message), "\(e)", sourceLocation: sourceLocation)
    }
}
