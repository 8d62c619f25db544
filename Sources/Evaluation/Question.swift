import Foundation

/// One evaluation question, as read from an EM-paper YAML file, a JSONL/CSV list, or our built-in set.
public struct Question: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable {
        /// Free-form answer, judged 0–100 per metric from the judge's number probabilities.
        case freeForm0to100 = "free_form_judge_0_100"
        /// Free-form answer, judged by a label the judge writes (`ANSWER: …`).
        case freeFormCategorical = "free_form_judge"
        /// Pick one of labelled options; scored by the probability of the misaligned ones.
        case multipleChoice = "multiple_choice"
    }

    public var id: String
    public var kind: Kind
    public var system: String?
    public var paraphrases: [String]
    public var samplesPerParaphrase: Int?
    public var temperature: Double?
    /// The judge model the file names (informational: `--judge` chooses the judge).
    public var judge: String?
    public var metrics: [JudgeMetric]
    public var options: [Option]
    /// Where the question was read from, for error messages ("file:line").
    public var source: String?

    public struct Option: Sendable, Codable, Equatable {
        public var text: String
        public var misaligned: Bool
        public init(text: String, misaligned: Bool) {
            self.text = text
            self.misaligned = misaligned
        }
    }

    public init(id: String, kind: Kind = .freeForm0to100, system: String? = nil, paraphrases: [String],
                samplesPerParaphrase: Int? = nil, temperature: Double? = nil, judge: String? = nil,
                metrics: [JudgeMetric] = [], options: [Option] = [], source: String? = nil) {
        self.id = id
        self.kind = kind
        self.system = system
        self.paraphrases = paraphrases
        self.samplesPerParaphrase = samplesPerParaphrase
        self.temperature = temperature
        self.judge = judge
        self.metrics = metrics
        self.options = options
        self.source = source
    }
}

extension Question {
    /// A paraphrase (or any text) as one line, for lists: line breaks and tabs written as `\n`, `\r`
    /// and `\t`, other control characters as `\u{…}`, and cut to `limit` characters with "…" after
    /// the cut (an escape is never cut in half). `questions show` prints the whole text.
    public static func preview(_ text: String, limit: Int = 70) -> String {
        func escaped(_ scalar: Unicode.Scalar) -> String {
            switch scalar {
            case "\n": return "\\n"
            case "\r": return "\\r"
            case "\t": return "\\t"
            case "\u{85}", "\u{2028}", "\u{2029}":
                return "\\u{\(String(scalar.value, radix: 16, uppercase: true))}"
            default:
                return scalar.properties.generalCategory == .control
                    ? "\\u{\(String(scalar.value, radix: 16, uppercase: true))}" : String(scalar)
            }
        }
        let units = text.unicodeScalars.map(escaped)
        let whole = units.joined()
        guard whole.count > limit else { return whole }
        var kept = ""
        for unit in units {
            if (kept + unit).count > limit { break }
            kept += unit
        }
        return kept + "…"
    }
}

/// A judged quantity (alignment, coherence, …) and the template that asks the judge for it.
public struct JudgeMetric: Sendable, Codable, Equatable {
    public var name: String
    public var template: String
    /// Categorical metrics: the labels the judge may answer, in order, with the score each maps to
    /// (nil: no score, e.g. REFUSAL). Empty for 0–100 metrics.
    public var labels: [LabelScore]

    public struct LabelScore: Sendable, Codable, Equatable {
        public var label: String
        public var score: Double?
        public init(label: String, score: Double?) {
            self.label = label
            self.score = score
        }
    }

    public var isCategorical: Bool { !labels.isEmpty }

    public init(name: String, template: String, labels: [LabelScore] = []) {
        self.name = name
        self.template = template
        self.labels = labels
    }

    /// The template with `{question}` and `{answer}` filled in (`{{` and `}}` are literal braces).
    public func prompt(question: String, answer: String) -> String {
        var out = ""
        var i = template.startIndex
        while i < template.endIndex {
            let rest = template[i...]
            if rest.hasPrefix("{{") { out += "{"; i = template.index(i, offsetBy: 2); continue }
            if rest.hasPrefix("}}") { out += "}"; i = template.index(i, offsetBy: 2); continue }
            if rest.hasPrefix("{question}") { out += question; i = template.index(i, offsetBy: 10); continue }
            if rest.hasPrefix("{answer}") { out += answer; i = template.index(i, offsetBy: 8); continue }
            out.append(template[i])
            i = template.index(after: i)
        }
        return out
    }

    /// Placeholders other than `{question}` and `{answer}`, and whether `{answer}` is present.
    static func placeholders(in template: String) -> (unknown: [String], hasAnswer: Bool) {
        var unknown: [String] = []
        var hasAnswer = false
        let chars = Array(template)
        var i = 0
        while i < chars.count {
            if chars[i] == "{" {
                if i + 1 < chars.count && chars[i + 1] == "{" { i += 2; continue }
                if let close = chars[(i + 1)...].firstIndex(of: "}") {
                    let name = String(chars[(i + 1)..<close])
                    if name == "answer" { hasAnswer = true } else if name != "question" { unknown.append(name) }
                    i = close + 1
                    continue
                }
            }
            i += 1
        }
        return (unknown, hasAnswer)
    }
}

/// A question set and where it came from.
public struct QuestionSet: Sendable, Codable, Equatable {
    public var name: String
    public var questions: [Question]
    public init(name: String, questions: [Question]) {
        self.name = name
        self.questions = questions
    }
}

/// A problem with a question set, gold set or probe file: `file:line[:column]: field 'name': message`.
public struct QuestionSetError: Error, CustomStringConvertible, Equatable {
    public var file: String
    /// 1-based physical line of the file, where known.
    public var line: Int?
    /// 1-based column (YAML syntax errors, as the parser counts them), where known.
    public var column: Int?
    public var field: String?
    public var message: String

    public init(file: String, line: Int? = nil, column: Int? = nil, field: String? = nil, _ message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.field = field
        self.message = message
    }

    public var description: String {
        var s = file
        if let line {
            s += ":\(line)"
            if let column { s += ":\(column)" }
        }
        if let field { s += ": field '\(field)'" }
        return s + ": " + message
    }
}
