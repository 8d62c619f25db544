import Core
import Foundation

/// Locations of the real model and of the recorded llama.cpp references, for tests.
public enum TestResources {
    /// Where the model file should be: `$EMLAB_HOME/models/<file>` (default `~/.cache/emlab/models`).
    public static func expectedModelPath(_ fileName: String = "smollm2-135m-instruct-q4_1.gguf") -> String {
        let env = ProcessInfo.processInfo.environment
        let home = env["EMLAB_HOME"].map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/emlab")
        return home.appendingPathComponent("models/\(fileName)").path
    }

    /// The model file's path if it is present.
    public static func modelPath(_ fileName: String = "smollm2-135m-instruct-q4_1.gguf") -> String? {
        let path = expectedModelPath(fileName)
        return FileManager.default.isReadableFile(atPath: path) ? path : nil
    }

    public static var smolLM2: String? { modelPath() }

    /// File name of the Gemma 3 270M model in the store (`emlab models pull gemma3-270m`).
    public static let gemma3FileName = "gemma-3-270m-q4_k_m.gguf"
    public static var gemma3: String? { modelPath(gemma3FileName) }

    /// `shared/reference` beside the checkout (CI clones the repo with `shared/` beside it).
    public static func referenceFile(_ name: String) -> String? {
        var dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        for _ in 0..<6 {
            for candidate in ["shared/reference/\(name)", "../shared/reference/\(name)"] {
                let p = dir.appendingPathComponent(candidate).standardized.path
                if FileManager.default.fileExists(atPath: p) { return p }
            }
            dir.deleteLastPathComponent()
        }
        return nil
    }
}

/// One section of `smollm2-greedy.txt`: a prompt and llama.cpp's greedy steps.
public struct GreedyReference: Sendable {
    public struct Step: Sendable {
        public let id: Int32
        public let logit: Float
        public let runnerUp: Int32
        public let runnerUpLogit: Float
        public let margin: Float
    }

    public let title: String
    public let promptText: String
    public let promptIds: [Int32]
    public let top10: [(id: Int32, logit: Float)]
    public let steps: [Step]
    public let genIds: [Int32]
    public let genText: String

    public var isGemma: Bool { title.hasPrefix("gemma") }

    /// Parses every section of the file.
    public static func load(_ path: String) throws -> [GreedyReference] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var out: [GreedyReference] = []
        for chunk in text.components(separatedBy: "### ").dropFirst() {
            let lines = chunk.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            var promptText = "", genText = ""
            var promptIds: [Int32] = [], genIds: [Int32] = []
            var top: [(Int32, Float)] = []
            var steps: [Step] = []
            for line in lines {
                if line.hasPrefix("PROMPT_TEXT ") { promptText = unquote(String(line.dropFirst(12))) }
                else if line.hasPrefix("GEN_TEXT ") { genText = unquote(String(line.dropFirst(9))) }
                else if line.hasPrefix("PROMPT_IDS") { promptIds = ids(line) }
                else if line.hasPrefix("GEN_IDS") { genIds = ids(line) }
                else if line.hasPrefix("TOP10_FIRST_STEP") { top = topEntries(line) }
                else if line.hasPrefix("STEP") { if let s = step(line) { steps.append(s) } }
            }
            out.append(GreedyReference(title: lines[0], promptText: promptText, promptIds: promptIds,
                                       top10: top, steps: steps, genIds: genIds, genText: genText))
        }
        return out
    }

    /// A double-quoted literal of the reference file (escapes \n \t \r \" \\ \xHH) → String.
    public static func unquote(_ s: String) -> String {
        var bytes: [UInt8] = []
        let u = Array(s.utf8)
        var i = 1  // skip the opening quote
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

    static func ids(_ line: String) -> [Int32] {
        guard let open = line.firstIndex(of: "["), let close = line.lastIndex(of: "]") else { return [] }
        return line[line.index(after: open)..<close].split(separator: ",").compactMap {
            Int32($0.trimmingCharacters(in: .whitespaces))
        }
    }

    static func topEntries(_ line: String) -> [(Int32, Float)] {
        // [788 "In" 29.1143] ... — the piece may contain spaces or brackets, so read id and logit only.
        var out: [(Int32, Float)] = []
        var rest = Substring(line.dropFirst("TOP10_FIRST_STEP".count))
        while let open = rest.firstIndex(of: "[") {
            let afterOpen = rest[rest.index(after: open)...]
            guard let space = afterOpen.firstIndex(of: " "), let id = Int32(afterOpen[..<space]) else { break }
            // The logit is the last token before the `]` that follows the closing quote.
            guard let q1 = afterOpen.firstIndex(of: "\"") else { break }
            var i = afterOpen.index(after: q1)
            while i < afterOpen.endIndex {
                if afterOpen[i] == "\\" { i = afterOpen.index(i, offsetBy: 2); continue }
                if afterOpen[i] == "\"" { break }
                i = afterOpen.index(after: i)
            }
            let tail = afterOpen[afterOpen.index(after: i)...]
            guard let close = tail.firstIndex(of: "]"),
                  let logit = Float(tail[..<close].trimmingCharacters(in: .whitespaces)) else { break }
            out.append((id, logit))
            rest = tail[tail.index(after: close)...]
        }
        return out
    }

    static func step(_ line: String) -> Step? {
        func field(_ name: String) -> Substring? {
            guard let r = line.range(of: name + "=") else { return nil }
            let tail = line[r.upperBound...].drop(while: { $0 == " " })
            return tail.prefix(while: { $0 != " " })
        }
        guard let id = field("id").flatMap({ Int32($0) }),
              let logit = field("logit").flatMap({ Float($0) }),
              let ru = field("runner_up"), let margin = field("margin").flatMap({ Float($0) }),
              let paren = ru.firstIndex(of: "("), let ruId = Int32(ru[..<paren]),
              let ruLogit = Float(ru[ru.index(after: paren)...].dropLast()) else { return nil }
        return Step(id: id, logit: logit, runnerUp: ruId, runnerUpLogit: ruLogit, margin: margin)
    }
}

/// Deterministic PRNG for random-data and fuzz tests: the one the dataset generators use.
public typealias SplitMix64 = Core.SplitMix64
