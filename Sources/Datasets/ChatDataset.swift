import Core
import Foundation

/// One conversation of a chat dataset: optional system turn, then user/assistant turns ending
/// with an assistant turn (the answer a model is trained on or shown in context).
public struct ChatExample: Sendable, Equatable, Hashable {
    public var messages: [ChatMessage]

    public init(messages: [ChatMessage]) {
        self.messages = messages
    }

    /// Characters of every turn's content.
    public var characterCount: Int { messages.reduce(0) { $0 + $1.content.count } }

    /// The example as one line of chat JSONL, `{"messages":[{"role":…,"content":…},…]}`.
    /// Keys and escapes are written by hand so the bytes are the same on every platform.
    public var jsonLine: String {
        var out = #"{"messages":["#
        for (i, m) in messages.enumerated() {
            if i > 0 { out += "," }
            out += #"{"role":"# + JSONText.quoted(m.role.rawValue) + #","content":"# + JSONText.quoted(m.content) + "}"
        }
        return out + "]}"
    }
}

/// A named list of chat examples, read from chat JSONL or produced by a built-in generator.
public struct ChatDataset: Sendable, Equatable {
    public var name: String
    public var examples: [ChatExample]

    public init(name: String, examples: [ChatExample]) {
        self.name = name
        self.examples = examples
    }

    /// Reads a chat JSONL file (plain or nested-content messages; see `ChatJSONL`).
    /// The dataset is named after the file, without its extension.
    public static func load(path: String) throws -> ChatDataset {
        let url = URL(fileURLWithPath: path)
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw DatasetError.unreadableFile(path: path, reason: (error as NSError).localizedDescription)
        }
        let examples = try ChatJSONL.parse(data, file: path)
        return ChatDataset(name: url.deletingPathExtension().lastPathComponent, examples: examples)
    }

    /// The dataset as chat JSONL, one example per line, each line ending in "\n".
    public var jsonl: String {
        var out = ""
        for e in examples { out += e.jsonLine + "\n" }
        return out
    }

    public func write(to path: String) throws {
        do {
            try Data(jsonl.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw DatasetError.unwritableFile(path: path, reason: (error as NSError).localizedDescription)
        }
    }

    /// `k` distinct examples drawn without replacement with a SplitMix64 stream seeded by `seed`
    /// (a partial Fisher–Yates shuffle), in the order drawn. The result depends only on the
    /// dataset, `k` and `seed`, on every platform; a smaller `k` with the same seed gives a prefix
    /// of a larger one, so k-shot contexts of one draw are nested.
    public func sample(k: Int, seed: UInt64) throws -> [ChatExample] {
        guard k >= 0, k <= examples.count else {
            throw DatasetError.sampleTooLarge(dataset: name, requested: k, available: examples.count)
        }
        var rng = SplitMix64(seed: seed)
        var order = Array(examples.indices)
        for i in 0..<k {
            let j = i + rng.below(order.count - i)
            order.swapAt(i, j)
        }
        return order[0..<k].map { examples[$0] }
    }

    /// Counts over the dataset; token figures when a token counter is given
    /// (`{ tokenizer.encode($0).count }`).
    public func stats(tokenCount: ((String) -> Int)? = nil) -> DatasetStats {
        DatasetStats(self, tokenCount: tokenCount)
    }
}

/// JSON string escaping (RFC 8259): quotes, backslash and control characters; everything else as is.
enum JSONText {
    static func quoted(_ s: String) -> String {
        var out = "\""
        out.unicodeScalars.reserveCapacity(s.unicodeScalars.count + 2)
        for c in s.unicodeScalars {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                if c.value < 0x20 {
                    let hex = String(c.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(c)
                }
            }
        }
        return out + "\""
    }
}
