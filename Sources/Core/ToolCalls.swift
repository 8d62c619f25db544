import Foundation

/// A function the model may call (an OpenAI "function tool"): its name, what it does, and a JSON
/// schema of its arguments object.
///
/// Encodes as OpenAI's wire shape, `{"type": "function", "function": {"name", "description",
/// "parameters"}}`, and decodes that shape back.
public struct ToolDefinition: Sendable, Hashable, Codable {
    public var name: String
    public var description: String
    /// JSON schema of the arguments object (`{"type": "object", "properties": {…}, "required": […]}`).
    public var parameters: JSONTree

    public init(name: String, description: String, parameters: JSONTree) {
        self.name = name
        self.description = description
        self.parameters = parameters
    }

    /// A tool whose schema is written as JSON text. Throws when the text is not a JSON object.
    public init(name: String, description: String, parametersJSON: String) throws(JSONTreeError) {
        let schema = try JSONTree(parsing: parametersJSON)
        guard case .object = schema else { throw JSONTreeError("a tool's parameters must be a JSON object, not \(schema.kind)") }
        self.init(name: name, description: description, parameters: schema)
    }

    /// Tool names OpenAI accepts: 1–64 of `a-z A-Z 0-9 _ -`.
    public static func isValidName(_ name: String) -> Bool {
        (1...64).contains(name.count) && name.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_" || $0 == "-"
        }
    }

    /// The tool as its wire object, `{"type": "function", "function": {…}}`.
    public var wireValue: JSONTree {
        .object(["type": .string("function"),
                 "function": .object(["name": .string(name), "description": .string(description), "parameters": parameters])])
    }

    /// The wire object as chat templates write it: Python `json.dumps` layout, keys in the order
    /// type, function; name, description, parameters (as Hugging Face passes them).
    public var templateJSON: String {
        "{\"type\": \"function\", \"function\": {\"name\": \(JSONTree.quoted(name)), \"description\": \(JSONTree.quoted(description)), \"parameters\": \(parameters.text(.spaced))}}"
    }

    private enum CodingKeys: String, CodingKey { case type, function }
    private enum FunctionKeys: String, CodingKey { case name, description, parameters }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let f = try c.nestedContainer(keyedBy: FunctionKeys.self, forKey: .function)
        name = try f.decode(String.self, forKey: .name)
        description = try f.decodeIfPresent(String.self, forKey: .description) ?? ""
        parameters = try f.decodeIfPresent(JSONTree.self, forKey: .parameters) ?? .object(["type": .string("object"), "properties": .object([:])])
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode("function", forKey: .type)
        var f = c.nestedContainer(keyedBy: FunctionKeys.self, forKey: .function)
        try f.encode(name, forKey: .name)
        try f.encode(description, forKey: .description)
        try f.encode(parameters, forKey: .parameters)
    }
}

/// A `<tool_call>` block in a reply that could not be read as a call.
public struct ToolCallParseFailure: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The block as the model wrote it (opening tag to closing tag, or to the end of the reply).
    public var text: String
    /// What is wrong with it.
    public var reason: String
    public init(text: String, reason: String) {
        self.text = text
        self.reason = reason
    }
    public var description: String { "garbled tool call (\(reason)): \(text.prefix(200))" }
}

/// Tool calls written as text: the `<tool_call>` JSON blocks of Qwen2.5's template (Hermes style),
/// which emlab also uses as its documented text format for chat templates that have no tool-call
/// syntax of their own (SmolLM2's ChatML, Gemma 3, the plain transcript).
///
/// A call is one block, alone or among the reply's text:
///
///     <tool_call>
///     {"name": "send_email", "arguments": {"to": "ana@example.com", "subject": "Hi", "body": "…"}}
///     </tool_call>
///
/// `arguments` is a JSON object (a string holding a JSON object, and the key `parameters`, are read
/// too); a missing `arguments` is `{}`. Anything else inside a block — text that is not JSON, no
/// `name`, an unterminated block — is a `ToolCallParseFailure`, and the block stays in the reply's
/// text, so nothing the model wrote is lost.
public enum ToolCallSyntax {
    public static let open = "<tool_call>"
    public static let close = "</tool_call>"

    /// A reply split into its text and its calls.
    public struct Parsed: Sendable, Hashable {
        /// The reply without the blocks that parsed (garbled blocks stay), trimmed.
        public var content: String
        public var calls: [ToolCall]
        public var failures: [ToolCallParseFailure]
    }

    /// `parse(text)`, and also: `bareCallNames`: when the reply has no block and is, as a whole, one `{"name", "arguments"}`
    /// object — bare or in a ```json fence, as small models (Qwen2.5-Coder 0.5B) write it — naming one
    /// of these tools, that object is the call. Anything else around it, and it is text.
    public static func parse(_ text: String, bareCallNames: Set<String>) -> Parsed {
        let parsed = parse(text)
        guard parsed.calls.isEmpty, parsed.failures.isEmpty, !bareCallNames.isEmpty else { return parsed }
        var body = text.trimmingWhitespace()
        if body.hasPrefix("```") {
            guard body.hasSuffix("```"), body.count > 6, let newline = body.firstIndex(of: "\n") else { return parsed }
            let language = body[body.index(body.startIndex, offsetBy: 3)..<newline].trimmingWhitespace()
            guard language.isEmpty || language == "json" else { return parsed }
            let start = body.index(after: newline), end = body.index(body.endIndex, offsetBy: -3)
            guard start <= end else { return parsed }
            body = String(body[start..<end]).trimmingWhitespace()
        }
        guard body.hasPrefix("{"), body.hasSuffix("}"),
              case .success(let bare) = Self.call(fromJSON: body, id: "call_" + String(FNV1a.hash(text) & 0xffff_ffff, radix: 16) + "_0"),
              bareCallNames.contains(bare.name) else { return parsed }
        return Parsed(content: "", calls: [bare], failures: [])
    }

    /// Reads the `<tool_call>` blocks of `text`. Call ids are `call_<hash of text>_<i>`, so the same
    /// reply always gets the same ids.
    public static func parse(_ text: String) -> Parsed {
        var content = ""
        var calls: [ToolCall] = []
        var failures: [ToolCallParseFailure] = []
        var rest = Substring(text)
        let stem = "call_" + String(FNV1a.hash(text) & 0xffff_ffff, radix: 16)
        while let start = rest.range(of: open) {
            content += rest[..<start.lowerBound]
            let afterOpen = rest[start.upperBound...]
            guard let end = afterOpen.range(of: close) else {
                let block = String(rest[start.lowerBound...])
                failures.append(ToolCallParseFailure(text: block, reason: "the block has no closing \(close)"))
                content += block
                rest = ""
                break
            }
            let block = String(rest[start.lowerBound..<end.upperBound])
            let inner = String(afterOpen[..<end.lowerBound]).trimmingWhitespace()
            switch call(fromJSON: inner, id: "\(stem)_\(calls.count)") {
            case .success(let call): calls.append(call)
            case .failure(let reason):
                failures.append(ToolCallParseFailure(text: block, reason: reason.message))
                content += block
            }
            rest = afterOpen[end.upperBound...]
        }
        content += rest
        return Parsed(content: content.trimmingWhitespace(), calls: calls, failures: failures)
    }

    /// One block's JSON as a call.
    static func call(fromJSON inner: String, id: String) -> Result<ToolCall, JSONTreeError> {
        let value: JSONTree
        do { value = try JSONTree(parsing: inner) } catch { return .failure(JSONTreeError("the block is not JSON (\(error.message))")) }
        guard case .object(let o) = value else { return .failure(JSONTreeError("the block holds \(value.kind), not a {\"name\", \"arguments\"} object")) }
        guard let nameValue = o["name"] else { return .failure(JSONTreeError("the call has no \"name\"")) }
        guard case .string(let name) = nameValue, !name.isEmpty else {
            return .failure(JSONTreeError("\"name\" must be a non-empty string, not \(nameValue.kind)"))
        }
        var arguments = o["arguments"] ?? o["parameters"] ?? .object([:])
        if case .string(let s) = arguments, let nested = try? JSONTree(parsing: s) { arguments = nested }
        guard case .object = arguments else {
            return .failure(JSONTreeError("\"arguments\" of \(name) must be a JSON object, not \(arguments.kind)"))
        }
        return .success(ToolCall(id: id, name: name, arguments: arguments.text(.compact)))
    }

    /// A call as its block, the layout chat templates render (`{"name": "…", "arguments": …}`).
    public static func block(_ call: ToolCall) -> String {
        let arguments = call.arguments.isEmpty ? "{}" : call.arguments
        return "\(open)\n{\"name\": \(JSONTree.quoted(call.name)), \"arguments\": \(arguments)}\n\(close)"
    }

}

extension String {
    /// Without leading and trailing spaces, tabs and line breaks.
    func trimmingWhitespace() -> String {
        var s = Substring(self)
        while let c = s.first, c.isWhitespace { s.removeFirst() }
        while let c = s.last, c.isWhitespace { s.removeLast() }
        return String(s)
    }
}

extension Substring {
    func trimmingWhitespace() -> String { String(self).trimmingWhitespace() }
}
