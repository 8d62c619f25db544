import Foundation

extension TestResources {
    /// File name of Qwen2.5-Coder-0.5B-Instruct in the store (`emlab models pull qwen2.5-coder-0.5b`).
    public static let qwen05FileName = "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
    public static var qwen05: String? { modelPath(qwen05FileName) }

    /// A reference file kept in the repository under `Tests/References` (llama.cpp's output on our
    /// own prompts, made by `scripts/llama-reference.py`; docs/numerics.md).
    public static func repositoryReference(_ name: String) -> String? {
        let p = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../References/\(name)").standardized.path
        return FileManager.default.fileExists(atPath: p) ? p : nil
    }
}

/// One section of a `*-tokens.txt` reference: a text and llama.cpp's ids for it.
public struct TokenReference: Sendable {
    public let title: String
    public let text: String
    public let ids: [Int32]

    public static func load(_ path: String) throws -> [TokenReference] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return text.components(separatedBy: "\n### ").dropFirst().map { chunk in
            let lines = chunk.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            let body = lines.first { $0.hasPrefix("TEXT ") }.map { GreedyReference.unquote(String($0.dropFirst(5))) } ?? ""
            let ids = lines.first { $0.hasPrefix("IDS") }.map(GreedyReference.ids) ?? []
            return TokenReference(title: lines[0], text: body, ids: ids)
        }
    }
}
