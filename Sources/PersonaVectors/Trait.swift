import Evaluation
import Foundation
import Yams

/// A trait file or another input of the persona-vector commands that is malformed: the file, line
/// (where known), field and what is wrong (a data error).
public struct PersonaDataError: Error, CustomStringConvertible, Equatable {
    public var file: String
    public var line: Int?
    public var field: String?
    public var message: String
    public init(file: String, line: Int? = nil, field: String? = nil, _ message: String) {
        self.file = file
        self.line = line
        self.field = field
        self.message = message
    }
    public var description: String {
        file + (line.map { ":\($0)" } ?? "") + (field.map { ": field '\($0)'" } ?? "") + ": " + message
    }
}

/// A persona trait to extract a vector for: pairs of system instructions that elicit it (positive) and
/// suppress it (negative), questions that give it room to show, and a judge prompt that scores how
/// strongly an answer shows it (0–100).
///
/// The YAML file:
///
///     name: misaligned
///     description: one paragraph
///     instructions:
///       - positive: "…"
///         negative: "…"
///     questions:
///       - "…"
///     judge: |
///       … {question} … {answer} … reply with a number from 0 to 100 …
public struct Trait: Sendable, Equatable {
    public struct Instruction: Sendable, Equatable {
        public var positive: String
        public var negative: String
        public init(positive: String, negative: String) {
            self.positive = positive
            self.negative = negative
        }
    }

    public var name: String
    public var description: String
    public var instructions: [Instruction]
    public var questions: [String]
    /// The judge template: `{question}` and `{answer}` are filled in.
    public var judge: String
    /// Where it was read from (`built-in:NAME` or a path).
    public var source: String

    public init(name: String, description: String = "", instructions: [Instruction], questions: [String], judge: String,
                source: String = "(memory)") {
        self.name = name
        self.description = description
        self.instructions = instructions
        self.questions = questions
        self.judge = judge
        self.source = source
    }

    /// The judge metric, named after the trait.
    public var metric: JudgeMetric { JudgeMetric(name: name, template: judge) }

    /// emlab's own traits, shipped as resources.
    public static let builtinNames = ["misaligned", "sycophantic", "reckless"]

    /// `--trait`: a built-in name or a YAML file.
    public static func resolve(_ nameOrPath: String) throws -> Trait {
        if builtinNames.contains(nameOrPath) {
            guard let url = Bundle.module.url(forResource: nameOrPath, withExtension: "yaml", subdirectory: "traits")
                    ?? Bundle.module.url(forResource: nameOrPath, withExtension: "yaml") else {
                throw PersonaDataError(file: "built-in:\(nameOrPath)", "the built-in trait file is missing from the bundle")
            }
            return try parse(try String(contentsOf: url, encoding: .utf8), file: "built-in:\(nameOrPath)")
        }
        guard FileManager.default.fileExists(atPath: nameOrPath) else {
            throw PersonaDataError(file: nameOrPath, "no such file, and not a built-in trait (\(builtinNames.joined(separator: ", ")))")
        }
        let text: String
        do { text = try String(contentsOfFile: nameOrPath, encoding: .utf8) } catch {
            throw PersonaDataError(file: nameOrPath, "cannot read the file (\(error.localizedDescription))")
        }
        return try parse(text, file: nameOrPath)
    }

    static let keys = ["name", "description", "instructions", "questions", "judge"]

    public static func parse(_ yaml: String, file: String) throws -> Trait {
        let root: Node?
        do { root = try Yams.compose(yaml: yaml) } catch let e as YamlError {
            switch e {
            case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
                throw PersonaDataError(file: file, line: mark.line >= 1 ? mark.line : nil, "invalid YAML: \(problem)")
            case .duplicatedKeysInMapping(let duplicates, let context):
                throw PersonaDataError(file: file, line: context.mark.line >= 1 ? context.mark.line : nil,
                                       "invalid YAML: the key \(duplicates.map { "'\($0)'" }.joined(separator: ", ")) appears more than once")
            default:
                throw PersonaDataError(file: file, "invalid YAML: \(e)")
            }
        } catch {
            throw PersonaDataError(file: file, "invalid YAML: \(error)")
        }
        guard let root, case .mapping(let map) = root else {
            throw PersonaDataError(file: file, line: root?.mark?.line, "expected a mapping with \(keys.joined(separator: ", "))")
        }
        func fail(_ field: String, _ node: Node?, _ why: String) -> PersonaDataError {
            PersonaDataError(file: file, line: node?.mark?.line ?? root.mark?.line, field: field, why)
        }
        for (k, _) in map {
            guard case .scalar(let s) = k, keys.contains(s.string) else {
                throw fail(k.string ?? "?", k, "unknown key (a trait file has \(keys.joined(separator: ", ")))")
            }
        }
        func text(_ field: String, _ node: Node?, in parent: Node? = nil) throws -> String {
            guard let node else { throw fail(field, parent, "missing") }
            guard case .scalar(let s) = node, !s.string.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                throw fail(field, node, "must be a non-empty string")
            }
            return s.string
        }
        let name = try text("name", map["name"])
        guard name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
            throw fail("name", map["name"], "'\(name)' must be one word (letters, digits, - and _): it names the judge's metric")
        }
        let description = map["description"] == nil ? "" : try text("description", map["description"])
        guard let ins = map["instructions"] else { throw fail("instructions", nil, "missing") }
        guard case .sequence(let pairs) = ins, !pairs.isEmpty else {
            throw fail("instructions", ins, "must be a list of {positive, negative} pairs")
        }
        var instructions: [Instruction] = []
        for (i, pair) in pairs.enumerated() {
            guard case .mapping(let m) = pair else { throw fail("instructions[\(i)]", pair, "must be a mapping with positive and negative") }
            for (k, _) in m where !["positive", "negative"].contains(k.string ?? "") {
                throw fail("instructions[\(i)].\(k.string ?? "?")", k, "unknown key (a pair has positive and negative)")
            }
            instructions.append(Instruction(positive: try text("instructions[\(i)].positive", m["positive"] ?? nil, in: pair),
                                            negative: try text("instructions[\(i)].negative", m["negative"] ?? nil, in: pair)))
        }
        guard let qs = map["questions"] else { throw fail("questions", nil, "missing") }
        guard case .sequence(let items) = qs, !items.isEmpty else { throw fail("questions", qs, "must be a list of questions") }
        let questions = try items.enumerated().map { try text("questions[\($0.offset)]", $0.element) }
        let judge = try text("judge", map["judge"])
        guard judge.contains("{answer}") else {
            throw fail("judge", map["judge"], "the template must contain {answer} (and usually {question})")
        }
        return Trait(name: name, description: description, instructions: instructions, questions: questions, judge: judge, source: file)
    }
}
