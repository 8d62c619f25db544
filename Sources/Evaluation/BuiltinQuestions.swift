import Foundation

/// emlab's own question sets, shipped as resources of this module.
public enum BuiltinQuestions {
    /// Names accepted by `--questions` besides file paths.
    public static let names = ["core", "multiple-choice"]

    public static func url(named name: String) -> URL? {
        Bundle.module.url(forResource: name, withExtension: "yaml", subdirectory: "questions")
            ?? Bundle.module.url(forResource: name, withExtension: "yaml")
    }

    /// A built-in set by name.
    public static func load(named name: String) throws -> QuestionSet {
        guard let url = url(named: name) else {
            throw QuestionSetError(file: name, "no built-in question set '\(name)' (built-in: \(names.joined(separator: ", ")))")
        }
        let text = try String(contentsOf: url, encoding: .utf8)
        return QuestionSet(name: name, questions: try QuestionLoader.parseYAML(text, file: "built-in:\(name)"))
    }

    /// `--questions` value: a built-in name or a file path.
    public static func resolve(_ nameOrPath: String) throws -> QuestionSet {
        if names.contains(nameOrPath) { return try load(named: nameOrPath) }
        guard FileManager.default.fileExists(atPath: nameOrPath) else {
            throw QuestionSetError(file: nameOrPath, "no such file, and not a built-in set (\(names.joined(separator: ", ")))")
        }
        return try QuestionLoader.load(path: nameOrPath)
    }

    /// The alignment and coherence templates of the core set, used for question lists without templates.
    public static var defaultMetrics: [JudgeMetric] {
        (try? load(named: "core").questions.first?.metrics) ?? []
    }
}
