import CGuardYAML

/// A YAML document as libyaml reads it: scalars stay text (the policy reader gives them types), and
/// every node keeps its line for error messages. Anchors and aliases are resolved.
public indirect enum YAMLNode: Sendable {
    case scalar(String, line: Int, quoted: Bool)
    case sequence([YAMLNode], line: Int)
    case mapping([(key: String, value: YAMLNode)], line: Int)

    public var line: Int {
        switch self {
        case .scalar(_, let l, _), .sequence(_, let l), .mapping(_, let l): return l
        }
    }

    /// A plain `null`, `~` or empty scalar.
    public var isNull: Bool {
        if case .scalar(let s, _, let quoted) = self, !quoted { return s.isEmpty || s == "~" || s == "null" || s == "Null" || s == "NULL" }
        return false
    }

    public var kindName: String {
        switch self {
        case .scalar: return "a scalar"
        case .sequence: return "a list"
        case .mapping: return "a mapping"
        }
    }
}

public struct YAMLSyntaxError: Error, Sendable {
    public var line: Int
    public var column: Int
    public var message: String
}

public enum YAML {
    /// Parses the first document of `text`. An empty text is an empty mapping.
    public static func parse(_ text: String) throws(YAMLSyntaxError) -> YAMLNode {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else { throw YAMLSyntaxError(line: 0, column: 0, message: "libyaml could not start") }
        defer { yaml_parser_delete(&parser) }
        let bytes = Array(text.utf8)
        return try bytes.withUnsafeBufferPointer { buffer throws(YAMLSyntaxError) -> YAMLNode in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            var reader = EventReader(parser: parser)
            defer { parser = reader.parser }
            return try reader.document()
        }
    }

    private struct EventReader {
        var parser: yaml_parser_t
        var anchors: [String: YAMLNode] = [:]

        enum Event {
            case streamStart, streamEnd, documentStart, documentEnd
            case alias(String, line: Int)
            case scalar(String, anchor: String?, line: Int, quoted: Bool)
            case sequenceStart(anchor: String?, line: Int), sequenceEnd
            case mappingStart(anchor: String?, line: Int), mappingEnd
        }

        mutating func next() throws(YAMLSyntaxError) -> Event {
            var event = yaml_event_t()
            guard yaml_parser_parse(&parser, &event) == 1 else {
                let message = parser.problem.map { String(cString: $0) } ?? "syntax error"
                let context = parser.context.map { String(cString: $0) + " " } ?? ""
                throw YAMLSyntaxError(line: Int(parser.problem_mark.line) + 1, column: Int(parser.problem_mark.column) + 1,
                                      message: context + message)
            }
            defer { yaml_event_delete(&event) }
            let line = Int(event.start_mark.line) + 1
            func text(_ p: UnsafeMutablePointer<yaml_char_t>?) -> String? { p.map { String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self)) } }
            switch event.type {
            case YAML_STREAM_START_EVENT: return .streamStart
            case YAML_STREAM_END_EVENT: return .streamEnd
            case YAML_DOCUMENT_START_EVENT: return .documentStart
            case YAML_DOCUMENT_END_EVENT: return .documentEnd
            case YAML_ALIAS_EVENT: return .alias(text(event.data.alias.anchor) ?? "", line: line)
            case YAML_SCALAR_EVENT:
                let s = event.data.scalar
                let value = s.value.map { String(decoding: UnsafeBufferPointer(start: $0, count: s.length), as: UTF8.self) } ?? ""
                return .scalar(value, anchor: text(s.anchor), line: line, quoted: s.style != YAML_PLAIN_SCALAR_STYLE)
            case YAML_SEQUENCE_START_EVENT: return .sequenceStart(anchor: text(event.data.sequence_start.anchor), line: line)
            case YAML_SEQUENCE_END_EVENT: return .sequenceEnd
            case YAML_MAPPING_START_EVENT: return .mappingStart(anchor: text(event.data.mapping_start.anchor), line: line)
            case YAML_MAPPING_END_EVENT: return .mappingEnd
            default: return .streamEnd
            }
        }

        mutating func document() throws(YAMLSyntaxError) -> YAMLNode {
            guard case .streamStart = try next() else { throw YAMLSyntaxError(line: 1, column: 1, message: "no YAML stream") }
            switch try next() {
            case .streamEnd: return .mapping([], line: 1)
            case .documentStart: break
            default: throw YAMLSyntaxError(line: 1, column: 1, message: "no YAML document")
            }
            return try node(try next())
        }

        mutating func node(_ event: Event) throws(YAMLSyntaxError) -> YAMLNode {
            switch event {
            case .scalar(let value, let anchor, let line, let quoted):
                let n = YAMLNode.scalar(value, line: line, quoted: quoted)
                if let anchor { anchors[anchor] = n }
                return n
            case .alias(let name, let line):
                guard let n = anchors[name] else { throw YAMLSyntaxError(line: line, column: 1, message: "unknown alias *\(name)") }
                return n
            case .sequenceStart(let anchor, let line):
                var items: [YAMLNode] = []
                while true {
                    let e = try next()
                    if case .sequenceEnd = e { break }
                    items.append(try node(e))
                }
                let n = YAMLNode.sequence(items, line: line)
                if let anchor { anchors[anchor] = n }
                return n
            case .mappingStart(let anchor, let line):
                var pairs: [(key: String, value: YAMLNode)] = []
                while true {
                    let e = try next()
                    if case .mappingEnd = e { break }
                    let key = try node(e)
                    guard case .scalar(let k, _, _) = key else {
                        throw YAMLSyntaxError(line: key.line, column: 1, message: "a mapping key must be a scalar")
                    }
                    pairs.append((k, try node(try next())))
                }
                let n = YAMLNode.mapping(pairs, line: line)
                if let anchor { anchors[anchor] = n }
                return n
            default:
                throw YAMLSyntaxError(line: 0, column: 0, message: "unexpected YAML event")
            }
        }
    }
}
