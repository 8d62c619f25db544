import Foundation
import GGUF
import Testing
@testable import Tokenizer

/// The SmolLM2 model file, found as the rest of emlab finds it: $EMLAB_HOME (default ~/.cache/emlab).
enum SmolLM2 {
    static let path: String = {
        let env = ProcessInfo.processInfo.environment
        let home = env["EMLAB_HOME"] ?? ((env["HOME"] ?? "/root") + "/.cache/emlab")
        return home + "/models/smollm2-135m-instruct-q4_1.gguf"
    }()

    static let available = fileExists(path)
    static let missingMessage: Comment = "SmolLM2 model file not found at \(path) (set EMLAB_HOME)"

    /// Loaded once for all tests.
    static let file: GGUFFile? = available ? try? GGUFFile(path: path) : nil
    static let tokenizer: BPETokenizer? = file.flatMap { try? BPETokenizer(gguf: $0) }
}

/// llama.cpp's recorded prompts and greedy continuations (shared/reference/smollm2-greedy.txt).
struct ReferenceCase {
    var name: String
    var promptText: String
    var promptIds: [Int32]
    var genIds: [Int32]
    var genText: String
}

enum Reference {
    /// Looked for beside the repository (../shared/reference) and at /work/shared/reference.
    static let path: String? = {
        // #filePath = <repo>/Tests/TokenizerTests/Support.swift
        var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)
        let repo = parts.joined(separator: "/")
        let candidates = [
            repo + "/../shared/reference/smollm2-greedy.txt",
            repo + "/shared/reference/smollm2-greedy.txt",
            "/work/shared/reference/smollm2-greedy.txt",
        ]
        return candidates.first(where: fileExists)
    }()

    static let missingMessage: Comment = "reference file smollm2-greedy.txt not found beside the repository"

    /// The SmolLM2 sections (Gemma sections are skipped).
    static let smolCases: [ReferenceCase] = {
        guard let path, let text = readText(path) else { return [] }
        var cases: [ReferenceCase] = []
        var current: ReferenceCase?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("### ") {
                if let c = current { cases.append(c) }
                let name = String(line.dropFirst(4).prefix(while: { $0 != " " }))
                current = name.hasPrefix("gemma") ? nil : ReferenceCase(name: name, promptText: "", promptIds: [], genIds: [], genText: "")
            } else if line.hasPrefix("PROMPT_TEXT ") {
                current?.promptText = unquote(line.dropFirst(12))
            } else if line.hasPrefix("PROMPT_IDS ") {
                current?.promptIds = parseIds(line)
            } else if line.hasPrefix("GEN_IDS ") {
                current?.genIds = parseIds(line)
            } else if line.hasPrefix("GEN_TEXT ") {
                current?.genText = unquote(line.dropFirst(9))
            }
        }
        if let c = current { cases.append(c) }
        return cases
    }()

    static func smolCase(_ name: String) -> ReferenceCase? { smolCases.first { $0.name == name } }

    static func parseIds(_ line: Substring) -> [Int32] {
        guard let open = line.firstIndex(of: "["), let close = line.lastIndex(of: "]") else { return [] }
        return line[line.index(after: open)..<close].split(separator: ",").compactMap {
            Int32($0.trimmingPrefix(" "))
        }
    }

    /// A double-quoted string with \n \t \r \" \\ \xHH escapes.
    static func unquote(_ s: Substring) -> String {
        var bytes: [UInt8] = []
        let u = Array(s.utf8)
        var i = 1  // skip opening quote
        while i < u.count - 1 {
            if u[i] == UInt8(ascii: "\\") {
                i += 1
                switch u[i] {
                case UInt8(ascii: "n"): bytes.append(10)
                case UInt8(ascii: "t"): bytes.append(9)
                case UInt8(ascii: "r"): bytes.append(13)
                case UInt8(ascii: "x"):
                    bytes.append(UInt8(String(decoding: u[(i + 1)...(i + 2)], as: UTF8.self), radix: 16)!)
                    i += 2
                default: bytes.append(u[i])
                }
            } else {
                bytes.append(u[i])
            }
            i += 1
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

func fileExists(_ path: String) -> Bool { FileManager.default.isReadableFile(atPath: path) }

func readText(_ path: String) -> String? { try? String(contentsOfFile: path, encoding: .utf8) }
