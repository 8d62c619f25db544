import Core
import Foundation

/// Reader of chat JSONL, the format of the EM papers' datasets: one JSON object per line,
///
///     {"messages": [{"role": "system"|"user"|"assistant", "content": "..."}, ...]}
///
/// or with nested content (OpenAI persona-features files), where other top-level keys such as
/// `canary` are ignored:
///
///     {"messages": [{"role": "user", "content": {"content_type": "text", "parts": ["..."]}}], "canary": "..."}
///
/// Several parts are joined with "\n". Blank lines are skipped; "\r\n" line ends are accepted.
/// A conversation has an optional leading system turn, at least one user turn, non-empty contents,
/// and ends with an assistant turn. Every violation is an error naming the file, line and field.
public enum ChatJSONL {
    public static func parse(_ data: Data, file: String) throws -> [ChatExample] {
        var examples: [ChatExample] = []
        var lineNumber = 0
        var start = data.startIndex
        while start < data.endIndex {
            lineNumber += 1
            let end = data[start...].firstIndex(of: 0x0A) ?? data.endIndex
            var line = data[start..<end]
            start = end < data.endIndex ? data.index(after: end) : end
            if line.last == 0x0D { line = line.dropLast() }
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
            examples.append(try parseLine(Data(line), file: file, line: lineNumber))
        }
        guard !examples.isEmpty else { throw DatasetError.noExamples(path: file) }
        return examples
    }

    public static func parse(_ text: String, file: String) throws -> [ChatExample] {
        try parse(Data(text.utf8), file: file)
    }

    static func parseLine(_ bytes: Data, file: String, line: Int) throws -> ChatExample {
        func fail(_ field: String?, _ problem: String) -> DatasetError {
            .invalidLine(path: file, line: line, field: field, problem: problem)
        }
        guard String(data: bytes, encoding: .utf8) != nil else { throw fail(nil, "not valid UTF-8") }
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: bytes, options: [])
        } catch {
            throw fail(nil, "malformed JSON (\(Self.reason(error)))")
        }
        guard let object = json as? [String: Any] else { throw fail(nil, "expected a JSON object with a \"messages\" array") }
        guard let rawMessages = object["messages"] else { throw fail("messages", "missing") }
        guard let list = rawMessages as? [Any] else { throw fail("messages", "expected an array of messages") }
        guard !list.isEmpty else { throw fail("messages", "the array is empty") }

        var messages: [ChatMessage] = []
        messages.reserveCapacity(list.count)
        for (i, item) in list.enumerated() {
            let at = "messages[\(i)]"
            guard let m = item as? [String: Any] else { throw fail(at, "expected an object with \"role\" and \"content\"") }
            guard let rawRole = m["role"] else { throw fail("\(at).role", "missing") }
            guard let roleName = rawRole as? String else { throw fail("\(at).role", "expected a string") }
            // Datasets hold system, user and assistant turns; tool turns are not supported here.
            guard let role = ChatMessage.Role(rawValue: roleName), role != .tool else {
                throw fail("\(at).role", "unknown role \"\(roleName)\" (expected system, user or assistant)")
            }
            guard let rawContent = m["content"] else { throw fail("\(at).content", "missing") }
            let content: String
            if let text = rawContent as? String {
                content = text
            } else if let nested = rawContent as? [String: Any] {
                if let type = nested["content_type"] {
                    guard let t = type as? String, t == "text" else {
                        throw fail("\(at).content.content_type", "unsupported content type \(describe(type)) (expected \"text\")")
                    }
                }
                guard let rawParts = nested["parts"] else { throw fail("\(at).content.parts", "missing") }
                guard let parts = rawParts as? [Any] else { throw fail("\(at).content.parts", "expected an array of strings") }
                var texts: [String] = []
                for (p, part) in parts.enumerated() {
                    guard let s = part as? String else { throw fail("\(at).content.parts[\(p)]", "expected a string") }
                    texts.append(s)
                }
                content = texts.joined(separator: "\n")
            } else {
                throw fail("\(at).content", "expected a string or an object with \"parts\"")
            }
            if content.allSatisfy(\.isWhitespace) { throw fail("\(at).content", "empty content") }
            if role == .system && i > 0 { throw fail("\(at).role", "a system turn may only come first") }
            messages.append(ChatMessage(role: role, content: content))
        }
        guard messages.contains(where: { $0.role == .user }) else { throw fail("messages", "no user turn") }
        if let last = messages.last, last.role != .assistant {
            throw fail("messages[\(messages.count - 1)].role",
                       "the conversation ends with a \(last.role.rawValue) turn; it must end with an assistant turn")
        }
        return ChatExample(messages: messages)
    }

    private static func describe(_ value: Any) -> String {
        if let s = value as? String { return "\"\(s)\"" }
        return "\(value)"
    }

    /// Foundation's parse errors carry their detail in the user info; keep it short.
    private static func reason(_ error: Error) -> String {
        let ns = error as NSError
        if let detail = ns.userInfo[NSDebugDescriptionErrorKey] as? String { return detail }
        return ns.localizedDescription
    }
}
