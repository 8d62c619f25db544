import Foundation
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
            throw yamlError(e, text: text, file: file)
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

    /// A Yams syntax error as `file:line:column: invalid YAML: problem (context at line, column)`, with the
    /// problem position Yams gives (1-based line and column, columns counted in Unicode scalars).
    static func yamlError(_ e: YamlError, text: String, file: String) -> QuestionSetError {
        func at(_ mark: Mark) -> (line: Int?, column: Int?) {
            mark.line >= 1 ? (mark.line, mark.column >= 1 ? mark.column : nil) : (nil, nil)
        }
        switch e {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
             .composer(let context, let problem, let mark, _):
            var message = "invalid YAML: \(problem)"
            if let context {
                message += " (\(context.text)" + (context.mark.line >= 1 ? " at line \(context.mark.line), column \(context.mark.column))" : ")")
            }
            let (line, column) = at(mark)
            return QuestionSetError(file: file, line: line, column: column, message)
        case .duplicatedKeysInMapping(let duplicates, let context):
            // Yams marks the first occurrence of the key (its context text is the whole document).
            let (line, column) = at(context.mark)
            let keys = duplicates.map { "'\($0)'" }.joined(separator: ", ")
            return QuestionSetError(file: file, line: line, column: column,
                                    "invalid YAML: the key \(keys) appears more than once in the same mapping")
        case .reader(let problem, let offset, _, _):
            // `offset` counts Characters from the start of the text.
            var line: Int?, column: Int?
            if let offset, offset >= 0, offset <= text.count {
                let before = text.prefix(offset)
                line = before.reduce(1) { $1.isNewline ? $0 + 1 : $0 }
                column = before.reversed().prefix(while: { !$0.isNewline }).reduce(0) { $0 + $1.unicodeScalars.count } + 1
            }
            return QuestionSetError(file: file, line: line, column: column, "invalid YAML: \(problem)")
        default:
            return QuestionSetError(file: file, "invalid YAML: \(e)")
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

    /// A CSV list of questions: a header naming a `question` column (optional: `id`, `system`), then
    /// one question per row (RFC 4180: quoted fields may hold commas, `""` and line breaks). Errors,
    /// malformed quoting included, name the physical line where the row or field starts.
    public static func parseCSV(_ text: String, file: String, defaultMetrics: [JudgeMetric]) throws -> [Question] {
        let records = try CSVReader.records(text, file: file)
        guard let header = records.first else {
            throw QuestionSetError(file: file, "the file is empty (expected a header with a 'question' column)")
        }
        let names = header.fields.map { $0.trimmingCharacters(in: .whitespaces) }
        var column: [String: Int] = [:]
        for (i, name) in names.enumerated() where !name.isEmpty {
            guard column[name] == nil else {
                throw QuestionSetError(file: file, line: header.line, field: name, "the header names this column twice")
            }
            column[name] = i
        }
        guard column["question"] != nil else {
            throw QuestionSetError(file: file, line: header.line, field: "question", "the header needs a 'question' column (optional: id, system)")
        }
        var out: [Question] = []
        var ids = Set<String>()
        for record in records.dropFirst() {
            let line = record.line
            if record.fields.count > names.count, record.fields[names.count...].contains(where: { !$0.isEmpty }) {
                throw QuestionSetError(file: file, line: line,
                                       "the row has \(record.fields.count) fields but the header names \(names.count) (a stray comma or quote?)")
            }
            func value(_ name: String) -> String? {
                column[name].flatMap { $0 < record.fields.count ? record.fields[$0] : nil }
            }
            guard let text = value("question"), !text.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw QuestionSetError(file: file, line: line, field: "question", "empty question")
            }
            let id = value("id").flatMap { $0.isEmpty ? nil : $0 } ?? "q\(out.count + 1)"
            guard ids.insert(id).inserted else { throw QuestionSetError(file: file, line: line, field: "id", "duplicate id '\(id)'") }
            let system = value("system").flatMap { $0.isEmpty ? nil : $0 }
            out.append(Question(id: id, system: system, paraphrases: [text], metrics: defaultMetrics, source: "\(file):\(line)"))
        }
        guard !out.isEmpty else { throw QuestionSetError(file: file, "the file has no questions") }
        return out
    }

    /// The field a JSON decoding error is about, if it names one.
    static func jsonField(_ error: any Error) -> String? {
        switch error {
        case DecodingError.typeMismatch(_, let c), DecodingError.valueNotFound(_, let c):
            let path = c.codingPath.map(\.stringValue).joined(separator: ".")
            return path.isEmpty ? nil : path
        case DecodingError.keyNotFound(let key, let c):
            return (c.codingPath + [key]).map(\.stringValue).joined(separator: ".")
        default: return nil
        }
    }

    static func jsonProblem(_ error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound:
            return "field '\(jsonField(error) ?? "?")' is missing"
        case DecodingError.typeMismatch(_, let c), DecodingError.valueNotFound(_, let c):
            return "field '\(c.codingPath.map(\.stringValue).joined(separator: "."))' has the wrong type"
        case DecodingError.dataCorrupted(let c): return c.debugDescription
        default: return "\(error)"
        }
    }
}

/// A strict RFC 4180 reader that keeps the physical line each record starts on. Unlike a lenient
/// reader it refuses what would silently lose rows: a quoted field never closed (which would swallow
/// the rest of the file) and text after a closing quote.
enum CSVReader {
    struct Record: Equatable {
        /// 1-based physical line where the record starts.
        var line: Int
        var fields: [String]
    }

    /// The records of `text` (the header is the first); blank lines are skipped. Records end at
    /// "\n", "\r\n" or "\r"; a leading byte-order mark is ignored.
    static func records(_ text: String, file: String) throws -> [Record] {
        var s = Array(text.unicodeScalars)
        if s.first == "\u{FEFF}" { s.removeFirst() }
        let n = s.count
        var records: [Record] = []
        var fields: [String] = []
        var field = String.UnicodeScalarView()
        var anyQuoted = false
        var line = 1, recordLine = 1
        var i = 0
        var atFieldStart = true

        func endField() {
            fields.append(String(field))
            field = String.UnicodeScalarView()
            atFieldStart = true
        }
        func endRecord() {
            endField()
            // A blank line (or one of only commas and spaces) carries no data.
            if anyQuoted || fields.contains(where: { !$0.trimmingCharacters(in: .whitespaces).isEmpty }) {
                records.append(Record(line: recordLine, fields: fields))
            }
            fields = []
            anyQuoted = false
        }
        /// Consumes a line break at `i` ("\r\n" counts once), returning false if there is none.
        func lineBreak() -> Bool {
            guard i < n, s[i] == "\n" || s[i] == "\r" else { return false }
            if s[i] == "\r", i + 1 < n, s[i + 1] == "\n" { i += 1 }
            i += 1
            line += 1
            return true
        }

        while i < n {
            if atFieldStart && s[i] == "\"" {
                let start = line
                anyQuoted = true
                atFieldStart = false
                i += 1
                var closed = false
                while i < n {
                    if s[i] == "\"" {
                        if i + 1 < n, s[i + 1] == "\"" {
                            field.append("\"")
                            i += 2
                            continue
                        }
                        i += 1
                        closed = true
                        break
                    }
                    let from = i
                    if lineBreak() {
                        field.append(contentsOf: s[from..<i])
                    } else {
                        field.append(s[i])
                        i += 1
                    }
                }
                guard closed else {
                    throw QuestionSetError(file: file, line: start,
                                           "invalid CSV: unterminated quoted field (the quote opened on this line is never closed, so every later row would be read into it)")
                }
                if i < n, s[i] != ",", s[i] != "\n", s[i] != "\r" {
                    throw QuestionSetError(file: file, line: start,
                                           "invalid CSV: text after the closing quote of a quoted field (write a quote inside a quoted field as \"\")")
                }
                continue
            }
            atFieldStart = false
            if s[i] == "," {
                endField()
                i += 1
            } else if lineBreak() {
                endRecord()
                recordLine = line
            } else {
                field.append(s[i])
                i += 1
            }
        }
        if !fields.isEmpty || !field.isEmpty || anyQuoted { endRecord() }
        return records
    }
}
