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
            let path = try write(yaml, "yaml")
            do {
                _ = try QuestionLoader.load(path: path)
                Issue.record("no error for \(yaml)")
            } catch let e as QuestionSetError {
                #expect(e.file == path)
                #expect(e.line == line, "\(e)")
                #expect(e.field == field, "\(e)")
                #expect(e.description.contains(message), "\(e)")
            }
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

    @Test func builtinSets() throws {
        let core = try BuiltinQuestions.load(named: "core")
        #expect(core.questions.count == 8)
        #expect(core.questions.allSatisfy { $0.paraphrases.count >= 3 && $0.metrics.count == 2 })
        let mc = try BuiltinQuestions.load(named: "multiple-choice")
        #expect(mc.questions.count >= 20)
        #expect(mc.questions.allSatisfy { $0.kind == .multipleChoice })
    }
}
