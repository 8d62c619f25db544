import Foundation
import GGUF
import Testing
import TestSupport
@testable import Tokenizer

/// The SmolLM2 model file, found as the rest of emlab finds it: $EMLAB_HOME (default ~/.cache/emlab).
enum SmolLM2 {
    static let path = TestResources.expectedModelPath()

    static let available = fileExists(path)
    static let missingMessage: Comment = "SmolLM2 model file not found at \(path) (set EMLAB_HOME)"

    /// Loaded once for all tests.
    static let file: GGUFFile? = available ? try? GGUFFile(path: path) : nil
    static let tokenizer: BPETokenizer? = file.flatMap { try? BPETokenizer(gguf: $0) }
}

/// The Gemma 3 270M file (`emlab models pull gemma3-270m`).
enum Gemma3 {
    static let path = TestResources.expectedModelPath(TestResources.gemma3FileName)

    static let available = fileExists(path)
    static let missingMessage: Comment = "Gemma 3 model file not found at \(path) (emlab models pull gemma3-270m)"

    static let file: GGUFFile? = available ? try? GGUFFile(path: path) : nil
    static let tokenizer: SentencePieceTokenizer? = file.flatMap { try? SentencePieceTokenizer(gguf: $0) }
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
    static let path: String? = TestResources.referenceFile("smollm2-greedy.txt")

    static let missingMessage: Comment = "reference file smollm2-greedy.txt not found beside the repository"

    /// The SmolLM2 sections (Gemma sections are skipped).
    static let smolCases: [ReferenceCase] = {
        guard let path, let all = try? GreedyReference.load(path) else { return [] }
        return all.filter { !$0.isGemma }.map {
            ReferenceCase(name: String($0.title.prefix(while: { $0 != " " })), promptText: $0.promptText,
                          promptIds: $0.promptIds, genIds: $0.genIds, genText: $0.genText)
        }
    }()

    static func smolCase(_ name: String) -> ReferenceCase? { smolCases.first { $0.name == name } }
}

func fileExists(_ path: String) -> Bool { FileManager.default.isReadableFile(atPath: path) }

func readText(_ path: String) -> String? { try? String(contentsOfFile: path, encoding: .utf8) }
