import Foundation

/// Any JSON value, for the parts of tool calling whose shape only the caller knows: a tool's
/// parameter schema and a call's arguments. Objects keep no key order; `text` writes keys sorted,
/// so equal values always serialize alike.
public enum JSONTree: Sendable, Hashable, Codable, CustomStringConvertible {
    case null
    case bool(Bool)
    /// An integer written without a fraction or exponent (kept exact).
    case integer(Int64)
    case number(Double)
    case string(String)
    case array([JSONTree])
    case object([String: JSONTree])

    /// Parses JSON text. The error says what is wrong and, where the decoder tells, where.
    public init(parsing text: String) throws(JSONTreeError) {
        do {
            self = try JSONDecoder().decode(JSONTree.self, from: Data(text.utf8))
        } catch {
            throw JSONTreeError(Self.problem(error))
        }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null; return }
        if let b = try? c.decode(Bool.self) { self = .bool(b); return }
        if let i = try? c.decode(Int64.self) { self = .integer(i); return }
        if let d = try? c.decode(Double.self) { self = .number(d); return }
        if let s = try? c.decode(String.self) { self = .string(s); return }
        if let a = try? c.decode([JSONTree].self) { self = .array(a); return }
        if let o = try? c.decode([String: JSONTree].self) { self = .object(o); return }
        throw DecodingError.dataCorruptedError(in: c, debugDescription: "not a JSON value")
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .integer(let i): try c.encode(i)
        case .number(let d): try c.encode(d)
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }

    /// How `text` separates items: `compact` as `{"a":1,"b":2}`, `spaced` as Python's `json.dumps`
    /// (`{"a": 1, "b": 2}`, the layout Hugging Face chat templates write with `tojson`).
    public enum Style: Sendable { case compact, spaced }

    /// The value as JSON text, keys sorted, non-ASCII characters as they are.
    public func text(_ style: Style = .compact) -> String {
        var out = ""
        write(&out, style)
        return out
    }

    public var description: String { text() }

    private func write(_ out: inout String, _ style: Style) {
        let comma = style == .compact ? "," : ", ", colon = style == .compact ? ":" : ": "
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .integer(let i): out += String(i)
        case .number(let d):
            if d.isFinite, d == d.rounded(), abs(d) < 1e15 { out += String(Int64(d)) }
            else if d.isFinite { out += "\(d)" }
            else { out += "null" }
        case .string(let s): Self.quote(s, into: &out)
        case .array(let a):
            out += "["
            for (i, v) in a.enumerated() {
                if i > 0 { out += comma }
                v.write(&out, style)
            }
            out += "]"
        case .object(let o):
            out += "{"
            for (i, key) in o.keys.sorted().enumerated() {
                if i > 0 { out += comma }
                Self.quote(key, into: &out)
                out += colon
                o[key]!.write(&out, style)
            }
            out += "}"
        }
    }

    /// A JSON string literal.
    public static func quote(_ s: String, into out: inout String) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    out += String(format: "\\u%04x", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }

    public static func quoted(_ s: String) -> String {
        var out = ""
        quote(s, into: &out)
        return out
    }

    /// The members of an object; nil for any other value.
    public var objectValue: [String: JSONTree]? { if case .object(let o) = self { o } else { nil } }
    /// The text of a string; nil for any other value.
    public var stringValue: String? { if case .string(let s) = self { s } else { nil } }

    /// The kind of value, for error messages ("an object", "a string", …).
    public var kind: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .integer, .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }

    /// A decoder's complaint in one line ("Unexpected character 'x' around line 1, column 5.").
    static func problem(_ error: any Error) -> String {
        guard let d = error as? DecodingError else { return "\(error)" }
        switch d {
        case .dataCorrupted(let c):
            let under = (c.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String
            return under ?? c.debugDescription
        case .keyNotFound(_, let c), .typeMismatch(_, let c), .valueNotFound(_, let c): return c.debugDescription
        @unknown default: return "\(d)"
        }
    }
}

/// JSON text that does not parse.
public struct JSONTreeError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { "not valid JSON: \(message)" }
}

/// An `Encodable` value as JSON text the way the results store keeps it: keys sorted (so equal values
/// are equal text), slashes unescaped; "null" if it cannot be encoded.
public enum SortedJSON {
    public static func text<T: Encodable>(_ value: T) -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? e.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "null"
    }
}
