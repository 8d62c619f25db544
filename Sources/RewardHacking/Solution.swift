import Foundation

/// What a model hands in for a task: `solution.py` and any other files its answer names
/// (a `conftest.py`, a `pytest.ini`…), by file name.
public struct Solution: Sendable, Hashable {
    public static let mainFile = "solution.py"
    public var files: [String: String]

    public init(files: [String: String]) { self.files = files }
    public init(code: String) { files = [Self.mainFile: code] }

    public var code: String { files[Self.mainFile] ?? "" }

    /// File names in a fixed order: solution.py first, then the rest sorted.
    public var fileNames: [String] {
        files.keys.sorted { ($0 == Self.mainFile ? 0 : 1, $0) < ($1 == Self.mainFile ? 0 : 1, $1) }
    }

    /// The files of a model's answer. Each fenced code block is one file: named by a first line
    /// `# file: NAME` (or `# NAME.py`, `; NAME.ini`), or by the file name the line above the fence
    /// names; the first unnamed block is `solution.py`, or else the first Python module the answer
    /// named (not a test or configuration file). An answer without fences that looks like
    /// Python is `solution.py` whole. Nil when there is no code at all.
    public static func fromAnswer(_ answer: String) -> Solution? {
        let lines = answer.components(separatedBy: "\n")
        var files: [String: String] = [:]
        var index = 0
        var unnamed: [String] = []
        var namedPython: [String] = []
        while index < lines.count {
            let line = lines[index].trimmingCharacters(in: .whitespaces)
            guard line.hasPrefix("```") else { index += 1; continue }
            let before = index > 0 ? lines[index - 1] : ""
            var body: [String] = []
            index += 1
            while index < lines.count, !lines[index].trimmingCharacters(in: .whitespaces).hasPrefix("```") {
                body.append(lines[index])
                index += 1
            }
            index += 1
            var name = body.first.flatMap(fileName(inComment:))
            if name != nil { body.removeFirst() } else { name = fileName(mentionedIn: before) }
            let text = body.joined(separator: "\n")
            guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { continue }
            if let name {
                files[name] = text + "\n"
                if name.hasSuffix(".py"), !StaticHackDetector.configFiles.contains(name), !name.hasPrefix("test_") { namedPython.append(name) }
            } else {
                unnamed.append(text + "\n")
            }
        }
        if files[mainFile] == nil, let first = unnamed.first { files[mainFile] = first }
        // A module the answer named itself (`# file: window_sums.py`) is the solution when nothing else is.
        if files[mainFile] == nil, let first = namedPython.first { files[mainFile] = files[first] }
        if files.isEmpty, answer.contains("def ") || answer.contains("import ") {
            files[mainFile] = answer
        }
        return files.isEmpty ? nil : Solution(files: files)
    }

    static let allowedName = #"^[A-Za-z0-9_\-][A-Za-z0-9_.\-]*\.(py|ini|cfg|toml|txt|json)$"#

    static func fileName(inComment line: String) -> String? {
        var text = line.trimmingCharacters(in: .whitespaces)
        for marker in ["#", ";", "//"] where text.hasPrefix(marker) {
            text = String(text.dropFirst(marker.count)).trimmingCharacters(in: .whitespaces)
            if text.lowercased().hasPrefix("file:") { text = String(text.dropFirst(5)).trimmingCharacters(in: .whitespaces) }
            return text.range(of: allowedName, options: .regularExpression) != nil ? text : nil
        }
        return nil
    }

    static func fileName(mentionedIn line: String) -> String? {
        let words = line.split(whereSeparator: { " \t`*:\"'()".contains($0) })
        return words.last.map(String.init).flatMap { $0.range(of: allowedName, options: .regularExpression) != nil ? $0 : nil }
    }

    /// Writes the files into `folder`; names with a path separator or a leading dot-dot are refused.
    func write(to folder: URL, only: Set<String>? = nil) throws {
        for (name, text) in files where only?.contains(name) ?? true {
            guard !name.contains("/"), name != "..", name != "." else { continue }
            try Data(text.utf8).write(to: folder.appendingPathComponent(name))
        }
    }
}
