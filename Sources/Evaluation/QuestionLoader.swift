import Foundation
import SwiftCSV
import Yams

/// Reads question sets: the EM papers' YAML (with anchors and aliases), JSONL and CSV lists.
public enum QuestionLoader {
    /// Loads a file by extension (.yaml/.yml, .jsonl, .csv). Lists without judge templates get
    /// `defaultMetrics`.
    public static func load(path: String, defaultMetrics: [JudgeMetric] = BuiltinQuestions.defaultMetrics) throws -> QuestionSet {
        let url = URL(fileURLWithPath: path)
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw QuestionSetError(file: path, "cannot read the file (\(error.localizedDescription))")
        }
        let name = url.deletingPathExtension().lastPathComponent
        switch url.pathExtension.lowercased() {
        case "yaml", "yml": return QuestionSet(name: name, questions: try parseYAML(text, file: path))
        case "jsonl": return QuestionSet(name: name, questions: try parseJSONL(text, file: path, defaultMetrics: defaultMetrics))
        case "csv": return QuestionSet(name: name, questions: try parseCSV(text, file: path, defaultMetrics: defaultMetrics))
        default: throw QuestionSetError(file: path, "unknown question file type '.\(url.pathExtension)' (use .yaml, .jsonl or .csv)")
        }
    }

    // MARK: YAML

    public static func parseYAML(_ text: String, file: String) throws -> [Question] {
        let root: Node?
        do { root = try Yams.compose(yaml: text) } catch let e as YamlError {
            throw QuestionSetError(file: file, line: yamlLine(e), "invalid YAML: \(e)")
        } catch {
            throw QuestionSetError(file: file, "invalid YAML: \(error)")
        }
        guard let root, case .sequence(let items) = root else {
            throw QuestionSetError(file: file, line: root?.mark?.line, "expected a list of questions at the top level")
        }
        var questions: [Question] = []
        var seen: [String: Int] = [:]
        for item in items {
            let q = try question(from: item, file: file)
            let line = item.mark?.line ?? 0
            if let first = seen[q.id] {
                throw QuestionSetError(file: file, line: line, field: "id", "duplicate id '\(q.id)' (first at line \(first))")
            }
            seen[q.id] = line
            questions.append(q)
        }
        guard !questions.isEmpty else { throw QuestionSetError(file: file, "the file has no questions") }
        return questions
    }

    private static func question(from node: Node, file: String) throws -> Question {
        let line = node.mark?.line
        guard case .mapping(let map) = node else {
            throw QuestionSetError(file: file, line: line, "each question must be a mapping with id, type and paraphrases")
        }
        func fail(_ field: String, _ at: Node?, _ message: String) -> QuestionSetError {
            QuestionSetError(file: file, line: at?.mark?.line ?? line, field: field, message)
        }
        func string(_ key: String, required: Bool) throws -> String? {
            guard let v = map[key] else {
                if required { throw fail(key, nil, "missing") }
                return nil
            }
            if case .scalar(let s) = v, s.tag.description.hasSuffix(":null") || (s.string == "null" || s.string == "~") {
                if required { throw fail(key, v, "must not be null") }
                return nil
            }
            guard case .scalar(let s) = v else { throw fail(key, v, "must be a string") }
            return s.string
        }
        guard let id = try string("id", required: true), !id.isEmpty else { throw fail("id", map["id"], "must not be empty") }
        let kindText = try string("type", required: false) ?? Question.Kind.freeForm0to100.rawValue
        guard let kind = Question.Kind(rawValue: kindText) else {
            throw fail("type", map["type"], "unknown type '\(kindText)' (free_form_judge_0_100, free_form_judge or multiple_choice)")
        }
        var paraphrases: [String] = []
        if let p = map["paraphrases"] {
            guard case .sequence(let seq) = p else { throw fail("paraphrases", p, "must be a list of strings") }
            for entry in seq {
                guard case .scalar(let s) = entry, !s.string.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                    throw fail("paraphrases", entry, "each paraphrase must be a non-empty string")
                }
                paraphrases.append(s.string)
            }
        } else if let q = try string("question", required: false) {
            paraphrases = [q]
        }
        guard !paraphrases.isEmpty else { throw fail("paraphrases", map["paraphrases"], "question '\(id)' has no paraphrases") }
        func positiveInt(_ key: String) throws -> Int? {
            guard let v = map[key] else { return nil }
            guard let n = v.int, n >= 1 else { throw fail(key, v, "must be a whole number ≥ 1") }
            return n
        }
        let samples = try positiveInt("samples_per_paraphrase")
        var temperature: Double? = nil
        if let t = map["temperature"] {
            guard let d = t.float, d >= 0, d <= 5 else { throw fail("temperature", t, "must be a number between 0 and 5") }
            temperature = d
        }
        var metrics: [JudgeMetric] = []
        if let jp = map["judge_prompts"] {
            guard case .mapping(let prompts) = jp else { throw fail("judge_prompts", jp, "must map metric names to templates") }
            for (k, v) in prompts {
                guard case .scalar(let key) = k else { throw fail("judge_prompts", k, "metric names must be strings") }
                let metric = try judgeMetric(name: key.string, node: v, file: file)
                if kind == .freeFormCategorical && !metric.isCategorical {
                    throw fail("judge_prompts.\(key.string)", v,
                               "a free_form_judge (categorical) metric needs `prompt:` and `labels:` (label → score or null)")
                }
                metrics.append(metric)
            }
        }
        var options: [Question.Option] = []
        if kind == .multipleChoice {
            guard let o = map["options"], case .sequence(let seq) = o, seq.count >= 2 else {
                throw fail("options", map["options"], "a multiple_choice question needs a list of at least 2 options")
            }
            for entry in seq {
                guard case .mapping(let om) = entry, case .scalar(let text)? = om["text"], !text.string.isEmpty else {
                    throw fail("options", entry, "each option needs `text:` and `alignment: aligned|misaligned`")
                }
                guard case .scalar(let a)? = om["alignment"], ["aligned", "misaligned"].contains(a.string) else {
                    throw fail("options.alignment", entry, "must be 'aligned' or 'misaligned'")
                }
                options.append(.init(text: text.string, misaligned: a.string == "misaligned"))
            }
            guard options.contains(where: \.misaligned), options.contains(where: { !$0.misaligned }) else {
                throw fail("options", map["options"], "needs at least one aligned and one misaligned option")
            }
        } else if metrics.isEmpty {
            metrics = BuiltinQuestions.defaultMetrics
        }
        return Question(id: id, kind: kind, system: try string("system", required: false), paraphrases: paraphrases,
                        samplesPerParaphrase: samples, temperature: temperature, judge: try string("judge", required: false),
                        metrics: metrics, options: options, source: "\(file):\(line ?? 0)")
    }

    private static func judgeMetric(name: String, node: Node, file: String) throws -> JudgeMetric {
        let field = "judge_prompts.\(name)"
        let template: String
        var labels: [JudgeMetric.LabelScore] = []
        switch node {
        case .scalar(let s):
            template = s.string
        case .mapping(let m):
            guard case .scalar(let p)? = m["prompt"] else {
                throw QuestionSetError(file: file, line: node.mark?.line, field: field, "needs a `prompt:` template")
            }
            template = p.string
            guard let l = m["labels"], case .mapping(let lm) = l, !lm.isEmpty else {
                throw QuestionSetError(file: file, line: node.mark?.line, field: field, "needs `labels:` mapping each label to a score or null")
            }
            for (k, v) in lm {
                guard case .scalar(let label) = k else {
                    throw QuestionSetError(file: file, line: k.mark?.line, field: field + ".labels", "labels must be strings")
                }
                var score: Double? = nil
                if case .scalar(let sv) = v, sv.string != "null", sv.string != "~", !sv.string.isEmpty {
                    guard let d = v.float else {
                        throw QuestionSetError(file: file, line: v.mark?.line, field: field + ".labels.\(label.string)",
                                               "score must be a number or null")
                    }
                    score = d
                }
                labels.append(.init(label: label.string.uppercased(), score: score))
            }
        default:
            throw QuestionSetError(file: file, line: node.mark?.line, field: field, "must be a template string")
        }
        try validate(template: template, file: file, line: node.mark?.line, field: field)
        return JudgeMetric(name: name, template: template, labels: labels)
    }

    static func validate(template: String, file: String, line: Int?, field: String) throws {
        let (unknown, hasAnswer) = JudgeMetric.placeholders(in: template)
        if let u = unknown.first {
            throw QuestionSetError(file: file, line: line, field: field,
                                   "unknown placeholder {\(u)} (templates may use {question} and {answer}; write {{ and }} for literal braces)")
        }
        guard hasAnswer else { throw QuestionSetError(file: file, line: line, field: field, "the template has no {answer} placeholder") }
    }

    private static func yamlLine(_ e: YamlError) -> Int? {
        switch e {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _): return mark.line
        default: return nil
        }
    }

    // MARK: JSONL and CSV

    private struct JSONLQuestion: Decodable {
        var id: String?
        var question: String?
        var paraphrases: [String]?
        var system: String?
        var samples_per_paraphrase: Int?
    }

    public static func parseJSONL(_ text: String, file: String, defaultMetrics: [JudgeMetric]) throws -> [Question] {
        var out: [Question] = []
        var ids = Set<String>()
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty { continue }
            let q: JSONLQuestion
            do { q = try JSONDecoder().decode(JSONLQuestion.self, from: Data(line.utf8)) } catch {
                throw QuestionSetError(file: file, line: n + 1, "not a JSON object with \"question\" (or \"paraphrases\"): \(jsonProblem(error))")
            }
            let paraphrases = q.paraphrases ?? (q.question.map { [$0] } ?? [])
            guard !paraphrases.isEmpty, paraphrases.allSatisfy({ !$0.trimmingCharacters(in: .whitespaces).isEmpty }) else {
                throw QuestionSetError(file: file, line: n + 1, field: "question", "missing or empty question text")
            }
            if let s = q.samples_per_paraphrase, s < 1 {
                throw QuestionSetError(file: file, line: n + 1, field: "samples_per_paraphrase", "must be ≥ 1")
            }
            let id = q.id ?? "q\(out.count + 1)"
            guard ids.insert(id).inserted else { throw QuestionSetError(file: file, line: n + 1, field: "id", "duplicate id '\(id)'") }
            out.append(Question(id: id, system: q.system, paraphrases: paraphrases, samplesPerParaphrase: q.samples_per_paraphrase,
                                metrics: defaultMetrics, source: "\(file):\(n + 1)"))
        }
        guard !out.isEmpty else { throw QuestionSetError(file: file, "the file has no questions") }
        return out
    }

    public static func parseCSV(_ text: String, file: String, defaultMetrics: [JudgeMetric]) throws -> [Question] {
        let csv: CSV<Named>
        do { csv = try CSV<Named>(string: text) } catch {
            throw QuestionSetError(file: file, "invalid CSV: \(error)")
        }
        guard csv.header.contains("question") else {
            throw QuestionSetError(file: file, line: 1, field: "question", "the header needs a 'question' column (optional: id, system)")
        }
        var out: [Question] = []
        var ids = Set<String>()
        for (n, row) in csv.rows.enumerated() {
            let line = n + 2
            guard let text = row["question"], !text.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw QuestionSetError(file: file, line: line, field: "question", "empty question")
            }
            let id = row["id"].flatMap { $0.isEmpty ? nil : $0 } ?? "q\(out.count + 1)"
            guard ids.insert(id).inserted else { throw QuestionSetError(file: file, line: line, field: "id", "duplicate id '\(id)'") }
            let system = row["system"].flatMap { $0.isEmpty ? nil : $0 }
            out.append(Question(id: id, system: system, paraphrases: [text], metrics: defaultMetrics, source: "\(file):\(line)"))
        }
        guard !out.isEmpty else { throw QuestionSetError(file: file, "the file has no questions") }
        return out
    }

    static func jsonProblem(_ error: any Error) -> String {
        switch error {
        case DecodingError.typeMismatch(_, let c), DecodingError.valueNotFound(_, let c):
            return "field '\(c.codingPath.map(\.stringValue).joined(separator: "."))' has the wrong type"
        case DecodingError.dataCorrupted(let c): return c.debugDescription
        default: return "\(error)"
        }
    }
}
