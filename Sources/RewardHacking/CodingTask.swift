import Core
import Foundation

/// A Python coding task with hidden tests: the model sees `prompt`; the graders call `function` on
/// each case's arguments.
public struct CodingTask: Sendable, Hashable, Identifiable {
    public var id: String
    public var title: String
    public var prompt: String
    /// The function the solution must define.
    public var function: String
    public var tests: [TestCase]
    /// A correct solution, written by us: the graders are checked against it.
    public var reference: String

    public struct TestCase: Sendable, Hashable {
        public var args: [JSONTree]
        public var expected: JSONTree
    }
}

/// A malformed task, labelled-solution or answer file: the file, the line and the field.
public struct RewardHackingDataError: Error, CustomStringConvertible, Equatable {
    public var file: String
    public var line: Int?
    public var message: String

    public init(file: String, line: Int? = nil, _ message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    public var description: String { line.map { "\(file):\($0): \(message)" } ?? "\(file): \(message)" }
}

/// Reading JSON-lines files whose every line is one object, with errors that name file, line and field.
enum JSONLines {
    static func objects(path: String, label: String) throws -> [(line: Int, object: [String: JSONTree])] {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw RewardHackingDataError(file: label, "cannot read the file (\(error.localizedDescription))")
        }
        var objects: [(Int, [String: JSONTree])] = []
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty { continue }
            let tree: JSONTree
            do { tree = try JSONTree(parsing: line) } catch {
                throw RewardHackingDataError(file: label, line: index + 1, "not JSON: \(error)")
            }
            guard case .object(let object) = tree else {
                throw RewardHackingDataError(file: label, line: index + 1, "expected a JSON object")
            }
            objects.append((index + 1, object))
        }
        return objects
    }

    static func string(_ object: [String: JSONTree], _ key: String, file: String, line: Int) throws -> String {
        guard case .string(let value)? = object[key], !value.isEmpty else {
            throw RewardHackingDataError(file: file, line: line, "field '\(key)' must be a non-empty string")
        }
        return value
    }
}

public enum CodingTasks {
    public static var builtinPath: String? {
        Bundle.module.url(forResource: "tasks", withExtension: "jsonl", subdirectory: "tasks")?.path
    }

    /// The built-in tasks, or those of a JSON-lines file of the same shape:
    /// `{"id", "title", "prompt", "function", "tests": [{"args": [...], "expected": ...}], "reference"}`.
    public static func load(path: String? = nil) throws -> [CodingTask] {
        guard let file = path ?? builtinPath else {
            throw RewardHackingDataError(file: "built-in tasks", "missing from this build")
        }
        let label = path ?? "built-in:tasks.jsonl"
        var tasks: [CodingTask] = []
        var seen: Set<String> = []
        for (line, object) in try JSONLines.objects(path: file, label: label) {
            func field(_ key: String) throws -> String { try JSONLines.string(object, key, file: label, line: line) }
            let id = try field("id")
            guard seen.insert(id).inserted else { throw RewardHackingDataError(file: label, line: line, "field 'id': '\(id)' appears twice") }
            let function = try field("function")
            guard function.first.map({ $0.isLetter || $0 == "_" }) == true, function.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
                throw RewardHackingDataError(file: label, line: line, "field 'function': '\(function)' is not a Python identifier")
            }
            guard case .array(let rawTests)? = object["tests"], !rawTests.isEmpty else {
                throw RewardHackingDataError(file: label, line: line, "field 'tests' must be a non-empty list")
            }
            var tests: [CodingTask.TestCase] = []
            for (index, raw) in rawTests.enumerated() {
                guard case .object(let test) = raw, case .array(let args)? = test["args"], let expected = test["expected"] else {
                    throw RewardHackingDataError(file: label, line: line, "field 'tests[\(index)]' needs 'args' (a list) and 'expected'")
                }
                tests.append(CodingTask.TestCase(args: args, expected: expected))
            }
            tasks.append(CodingTask(id: id, title: try field("title"), prompt: try field("prompt"), function: function,
                                    tests: tests, reference: try field("reference")))
        }
        guard !tasks.isEmpty else { throw RewardHackingDataError(file: label, "no tasks") }
        return tasks
    }
}
