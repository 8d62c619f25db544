import Foundation

/// llama.cpp's own benchmarks, `llama-bench` and `llama-batched-bench`, run from a build on this
/// host so that `emlab bench` can take every ratio side by side: llama.cpp, then emlab, round after
/// round, on the same host in the same minutes.
public struct LlamaCppTools: Sendable {
    /// The `llama-bench` and `llama-batched-bench` executables.
    public let benchTool: String
    public let batchedTool: String

    /// Finds both tools in `directory` itself, or in its `build/bin` or `bin` (a llama.cpp source tree
    /// built with CMake, or its install prefix).
    public init(directory: String) throws(LlamaCppError) {
        let fm = FileManager.default
        let candidates = [directory, directory + "/build/bin", directory + "/bin"]
        guard let dir = candidates.first(where: { fm.isExecutableFile(atPath: $0 + "/llama-bench") }) else {
            throw .toolMissing(directory: directory, tool: "llama-bench")
        }
        guard fm.isExecutableFile(atPath: dir + "/llama-batched-bench") else {
            throw .toolMissing(directory: dir, tool: "llama-batched-bench")
        }
        benchTool = dir + "/llama-bench"
        batchedTool = dir + "/llama-batched-bench"
    }

    /// The arguments of `llama-bench` for pp512 and/or tg128 on `threads` threads, `repetitions` runs each.
    public static func benchArguments(model: String, threads: Int, prompt: Bool, generation: Bool, repetitions: Int) -> [String] {
        ["-m", model, "-t", "\(threads)", "-p", prompt ? "512" : "0", "-n", generation ? "128" : "0",
         "-r", "\(repetitions)", "-o", "jsonl"]
    }

    /// The arguments of `llama-batched-bench` for 64 prompt + 64 generated tokens over each count of
    /// unshared sequences, with a context that holds the largest count.
    public static func batchedArguments(model: String, threads: Int, sequences: [Int]) -> [String] {
        let context = max(sequences.max() ?? 1, 1) * 128
        return ["-m", model, "-c", "\(context)", "-b", "2048", "-ub", "512", "-npp", "64", "-ntg", "64",
                "-npl", sequences.map(String.init).joined(separator: ","), "-t", "\(threads)",
                "--output-format", "jsonl"]
    }

    /// Runs the tools on `model` and reads their figures: pp512 when `prompt`, tg128 when
    /// `generation`, batched decoding at each of `sequences` when it is not empty. `label` names the
    /// figures in the bench's output (e.g. "llama.cpp round 1").
    public func measure(model: String, threads: Int, prompt: Bool, generation: Bool, sequences: [Int],
                        repetitions: Int = 3, label: String) throws -> ReferenceFigures {
        var lines: [String] = []
        if prompt || generation {
            lines += try Self.jsonLines(of: benchTool, Self.benchArguments(model: model, threads: threads, prompt: prompt,
                                                                          generation: generation, repetitions: repetitions))
        }
        if !sequences.isEmpty {
            lines += try Self.jsonLines(of: batchedTool, Self.batchedArguments(model: model, threads: threads, sequences: sequences))
        }
        do {
            var figures = try ReferenceFigures(llamaCppJSONLines: lines.joined(separator: "\n"), file: "llama.cpp's output")
            figures.source = label
            return figures
        } catch let error as ReferenceFileError {
            throw LlamaCppError.unreadableOutput(error)
        }
    }

    /// Runs `tool` and returns the lines of its standard output that hold JSON objects (both tools
    /// print a table or log lines around them).
    static func jsonLines(of tool: String, _ arguments: [String]) throws(LlamaCppError) -> [String] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        let out = Pipe()
        process.standardOutput = out
        // The tools log a great deal on stderr: it goes to a file (a pipe nobody reads would fill
        // and stall them), and its tail into the error when they fail.
        let errPath = FileManager.default.temporaryDirectory.appendingPathComponent("emlab-llamacpp-\(UUID().uuidString).log")
        defer { try? FileManager.default.removeItem(at: errPath) }
        guard FileManager.default.createFile(atPath: errPath.path, contents: nil),
              let errHandle = try? FileHandle(forWritingTo: errPath) else {
            throw .failed(tool: tool, status: -1, log: "cannot create \(errPath.path)")
        }
        defer { try? errHandle.close() }
        process.standardError = errHandle
        do { try process.run() } catch {
            throw .failed(tool: tool, status: -1, log: "\(error)")
        }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationReason == .exit, process.terminationStatus == 0 else {
            let log = (try? String(contentsOf: errPath, encoding: .utf8)) ?? ""
            let tail = log.split(separator: "\n").suffix(8).joined(separator: "\n")
            throw .failed(tool: tool, status: process.terminationStatus, log: tail)
        }
        return String(decoding: data, as: UTF8.self).split(separator: "\n")
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { $0.hasPrefix("{") }
    }
}

public enum LlamaCppError: Error, CustomStringConvertible {
    case toolMissing(directory: String, tool: String)
    case failed(tool: String, status: Int32, log: String)
    /// The tools ran but printed no figure the bench can read: a data error.
    case unreadableOutput(ReferenceFileError)

    public var description: String {
        switch self {
        case let .toolMissing(directory, tool):
            return "--llama-cpp: no executable \(tool) in \(directory) (nor in its build/bin or bin); build it with `make llama-cpp` (docs/bench.md)"
        case let .failed(tool, status, log):
            return "\(tool) failed (status \(status))" + (log.isEmpty ? "" : ":\n\(log)")
        case let .unreadableOutput(error):
            return error.description
        }
    }
}

/// Figures collected over several side-by-side rounds: per figure, emlab's value and llama.cpp's in
/// each round, and the spread of their ratio.
public struct SideBySide: Sendable {
    public struct Row: Sendable {
        public let name: String
        public var emlab: [Double] = []
        public var llamaCpp: [Double] = []
        /// emlab / llama.cpp, one per round.
        public var ratios: [Double] { zip(emlab, llamaCpp).map { $0 / $1 } }
    }

    public private(set) var rows: [Row] = []

    public init() {}

    /// Records one round's result; results without a llama.cpp figure are left out.
    public mutating func add(_ result: BenchResult) {
        guard let reference = result.reference else { return }
        if let i = rows.firstIndex(where: { $0.name == result.name }) {
            rows[i].emlab.append(result.value)
            rows[i].llamaCpp.append(reference)
        } else {
            rows.append(Row(name: result.name, emlab: [result.value], llamaCpp: [reference]))
        }
    }
}

/// "a" or "a–b" for the smallest and largest of `values`, with `digits` decimals.
public func spread(_ values: [Double], digits: Int = 1, suffix: String = "") -> String {
    guard let lo = values.min(), let hi = values.max() else { return "–" }
    let f = "%.\(digits)f"
    let a = String(format: f, lo), b = String(format: f, hi)
    return a == b ? a + suffix : "\(a)–\(b)\(suffix)"
}
