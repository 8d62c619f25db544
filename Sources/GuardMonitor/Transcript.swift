import Foundation

/// What the monitor is told about the session: the user's task and the last few steps, read from
/// Claude Code's transcript (JSON lines of `{"type": "user"|"assistant", "message": {...}}`).
public struct MonitorContext: Sendable, Equatable {
    public var task: String?
    /// Recent entries, oldest first, each one line ("user: …", "assistant ran Bash: …").
    public var recent: [String]

    public init(task: String? = nil, recent: [String] = []) {
        self.task = task
        self.recent = recent
    }

    /// Reads a transcript; an unreadable or odd file gives what could be read (never an error: the
    /// monitor then judges with less context).
    public static func fromTranscript(_ path: String?, entries: Int, task: String? = nil) -> MonitorContext {
        var context = MonitorContext(task: task)
        guard let path, let data = FileManager.default.contents(atPath: path), data.count < 64 << 20 else { return context }
        var lines: [String] = []
        var firstUser: String? = nil
        for line in data.split(separator: UInt8(ascii: "\n")) {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
                  let type = object["type"] as? String, type == "user" || type == "assistant",
                  let message = object["message"] as? [String: Any] else { continue }
            var parts: [String] = []
            if let text = message["content"] as? String {
                parts.append(text)
            } else if let blocks = message["content"] as? [[String: Any]] {
                for block in blocks {
                    switch block["type"] as? String {
                    case "text": if let t = block["text"] as? String { parts.append(t) }
                    case "tool_use":
                        let input = (block["input"] as? [String: Any]).flatMap { try? JSONSerialization.data(withJSONObject: $0, options: [.sortedKeys]) }
                            .map { String(decoding: $0, as: UTF8.self) } ?? ""
                        parts.append("[ran \(block["name"] as? String ?? "a tool"): \(input.prefix(300))]")
                    case "tool_result":
                        let content = (block["content"] as? String) ?? ((block["content"] as? [[String: Any]])?.compactMap { $0["text"] as? String }.joined(separator: " ") ?? "")
                        parts.append("[result: \(content.prefix(200))]")
                    default: break
                    }
                }
            }
            let text = parts.joined(separator: " ").replacingOccurrences(of: "\n", with: " ")
            guard !text.isEmpty else { continue }
            if type == "user", firstUser == nil, !text.hasPrefix("[result") { firstUser = text }
            lines.append("\(type): \(text.prefix(400))")
        }
        if context.task == nil { context.task = firstUser.map { String($0.prefix(1000)) } }
        context.recent = Array(lines.suffix(entries))
        return context
    }
}
