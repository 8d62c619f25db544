import Core
import Foundation
import LanguageModels

/// The text SAEs are trained on when the user brings none: emlab's broad prompt set (320 everyday
/// requests in 16 areas, written for emlab) answered by the model itself, so that the SAE sees the
/// model's own distribution. Answers are appended to a JSONL file as they come, so an interrupted
/// collection keeps them and a rerun answers only the rest.
public enum SAECorpus {
    /// The broad prompts (comment lines starting with `#` left out).
    public static func broadPrompts() throws -> [String] {
        guard let url = Bundle.module.url(forResource: "broad-prompts", withExtension: "txt", subdirectory: "corpus") else {
            throw SAEFormatError(file: "corpus/broad-prompts.txt", "missing from the SparseAutoencoders bundle")
        }
        return try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map(String.init)
            .filter { !$0.isEmpty && !$0.hasPrefix("#") }
    }

    /// Each prompt answered once by `model` (temperature `temperature`, at most `maxTokens`), `parallel`
    /// requests at a time; answers already in `cache` (JSONL of {"prompt","answer"}) are reused and
    /// new ones appended to it. Returns (prompt, answer) in prompt order.
    public static func answers(prompts: [String], model: any LanguageModel, cache: String, maxTokens: Int = 200,
                               temperature: Double = 0.7, seed: UInt64 = 0, parallel: Int = 16,
                               progress: (@Sendable (Int, Int) -> Void)? = nil) async throws -> [(prompt: String, answer: String)] {
        var known: [String: String] = [:]
        if let text = try? String(contentsOfFile: cache, encoding: .utf8) {
            for (i, line) in text.split(separator: "\n").enumerated() {
                guard let o = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String],
                      let p = o["prompt"], let a = o["answer"] else {
                    throw SAEFormatError(file: cache, "line \(i + 1): not a JSON object with string fields prompt and answer")
                }
                known[p] = a
            }
        }
        if !FileManager.default.fileExists(atPath: cache) { FileManager.default.createFile(atPath: cache, contents: nil) }
        guard let handle = FileHandle(forWritingAtPath: cache) else { throw SAEFormatError(file: cache, "cannot write") }
        defer { try? handle.close() }
        try handle.seekToEnd()
        let missing = prompts.enumerated().filter { known[$0.element] == nil }
        var done = prompts.count - missing.count
        progress?(done, prompts.count)
        for start in stride(from: 0, to: missing.count, by: parallel) {
            let group = Array(missing[start..<min(missing.count, start + parallel)])
            let got = try await withThrowingTaskGroup(of: (String, String).self) { tasks in
                for (i, p) in group {
                    tasks.addTask {
                        let r = try await model.complete(CompletionRequest(messages: [.user(p)], temperature: temperature, maxTokens: maxTokens,
                                                                           seed: SplitMix64.mix(seed, UInt64(i))))
                        return (p, r.choices.first?.text ?? "")
                    }
                }
                var out: [(String, String)] = []
                for try await pair in tasks { out.append(pair) }
                return out
            }
            for (p, a) in got.sorted(by: { $0.0 < $1.0 }) {
                known[p] = a
                let line = try JSONSerialization.data(withJSONObject: ["prompt": p, "answer": a], options: [.sortedKeys, .withoutEscapingSlashes])
                try handle.write(contentsOf: line + Data("\n".utf8))
            }
            done += group.count
            progress?(done, prompts.count)
        }
        return prompts.map { ($0, known[$0]!) }
    }
}
