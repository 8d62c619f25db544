/// A shell command line split as a POSIX shell (and bash) would split it, without running anything:
/// lists (`;`, `&`, `&&`, `||`, newlines), pipelines, subshells and groups, `if`/`while`/`for`/`case`,
/// function definitions, redirections and here-documents; words keep their quoting, so that `~`, globs
/// and brace lists are expanded only where a shell would expand them, and `$(…)`, backticks and
/// `<(…)` are parsed as the scripts they are.
public struct Script: Sendable, Equatable {
    public var items: [ListItem] = []
    public init(items: [ListItem] = []) { self.items = items }
}

public struct ListItem: Sendable, Equatable {
    public var pipeline: Pipeline
    /// What follows it: ";", "&", "&&", "||", "\n", or "" at the end.
    public var connector: String
}

public struct Pipeline: Sendable, Equatable {
    public var negated = false
    public var commands: [Command] = []
}

public indirect enum Command: Sendable, Equatable {
    case simple(SimpleCommand)
    /// `( … )`: runs in a subshell (a `cd` inside does not leak).
    case subshell(Script, redirects: [Redirect])
    /// `{ …; }`, `if`, `while`, `until`, `case`: the scripts they may run, in order.
    case compound(kind: String, scripts: [Script], redirects: [Redirect])
    /// `for NAME in WORDS; do …; done` (`words` nil: the positional parameters).
    case forLoop(variable: String, words: [Word]?, body: Script)
    case function(name: String, body: Command)
}

public struct SimpleCommand: Sendable, Equatable {
    public var assignments: [(name: String, value: Word)] = []
    public var words: [Word] = []
    public var redirects: [Redirect] = []

    public static func == (a: SimpleCommand, b: SimpleCommand) -> Bool {
        a.words == b.words && a.redirects == b.redirects && a.assignments.map(\.name) == b.assignments.map(\.name)
            && a.assignments.map(\.value) == b.assignments.map(\.value)
    }
}

public struct Redirect: Sendable, Equatable {
    public var fd: Int?
    /// `<`, `>`, `>>`, `>|`, `<>`, `&>`, `&>>`, `>&`, `<&`, `<<`, `<<-`, `<<<`.
    public var op: String
    public var target: Word
    /// The body of a here-document (`<<`, `<<-`).
    public var hereDoc: HereDoc?
}

/// A here-document's body, filled in when the parser reaches the line after its operator.
public final class HereDoc: @unchecked Sendable, Equatable {
    public let delimiter: String
    /// A quoted delimiter: the body is taken literally (no expansions).
    public let literal: Bool
    public let stripTabs: Bool
    public internal(set) var body = Word(parts: [])
    init(delimiter: String, literal: Bool, stripTabs: Bool) {
        self.delimiter = delimiter
        self.literal = literal
        self.stripTabs = stripTabs
    }
    public static func == (a: HereDoc, b: HereDoc) -> Bool { a.delimiter == b.delimiter && a.body == b.body }
}

public struct Word: Sendable, Equatable, CustomStringConvertible {
    public var parts: [WordPart]
    public init(parts: [WordPart]) { self.parts = parts }

    public static func literal(_ s: String) -> Word { Word(parts: [.literal(s)]) }

    /// The text if the word has no expansions (quotes removed), else nil.
    public var staticText: String? {
        var s = ""
        for p in parts {
            switch p {
            case .literal(let t), .quoted(let t): s += t
            default: return nil
            }
        }
        return s
    }

    /// Unquoted literal text only (a reserved word, an assignment's name).
    public var plainText: String? {
        if parts.count == 1, case .literal(let t) = parts[0] { return t }
        return nil
    }

    public var description: String {
        parts.map { p -> String in
            switch p {
            case .literal(let t): return t
            case .quoted(let t): return "'\(t)'"
            case .variable(let n, _, _): return "$\(n)"
            case .command: return "$(…)"
            case .process: return "<(…)"
            case .arithmetic: return "$((…))"
            }
        }.joined()
    }
}

public indirect enum WordPart: Sendable, Equatable {
    /// Unquoted text: globs, `~` and brace lists keep their meaning.
    case literal(String)
    /// Text from quotes or backslash escapes: taken as it is.
    case quoted(String)
    /// `$NAME`, `${NAME}`, `${NAME:-word}` …; `quoted`: inside double quotes (no field splitting).
    case variable(String, modifier: VariableModifier?, quoted: Bool)
    /// `$(…)` or backticks.
    case command(Script, quoted: Bool)
    /// `<(…)` (`output` false) or `>(…)`.
    case process(Script, output: Bool)
    case arithmetic(String)
}

public struct VariableModifier: Sendable, Equatable {
    /// `:-`, `-`, `:=`, `=`, `:+`, `+`, or `other` (a modifier whose value the guard does not work out).
    public var op: String
    public var word: Word
}

public struct ShellParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    /// Character offset in the command.
    public var offset: Int
    public var description: String { "\(message) (at character \(offset + 1))" }
}

/// Parses shell text into a `Script`.
public enum ShellParser {
    public static let maxDepth = 24

    public static func parse(_ text: String) throws(ShellParseError) -> Script {
        var p = Parser(chars: Array(text), depth: 0)
        let script = try p.script(terminators: [], closers: [])
        p.skipNewlines()
        if case .op(let o) = try p.peek() {
            throw ShellParseError(message: "unexpected '\(o)'", offset: p.lexer.pos)
        }
        if !p.lexer.pendingHereDocs.isEmpty {
            throw ShellParseError(message: "here-document '\(p.lexer.pendingHereDocs[0].delimiter)' has no body", offset: p.lexer.pos)
        }
        return script
    }
}

// MARK: - Lexer

enum Token: Equatable {
    case word(Word)
    case op(String)
    case ioNumber(Int)
    case newline
    case eof
}

struct Lexer {
    var chars: [Character]
    var pos = 0
    var depth: Int
    var pendingHereDocs: [HereDoc] = []

    init(chars: [Character], depth: Int) {
        self.chars = chars
        self.depth = depth
    }

    var atEnd: Bool { pos >= chars.count }
    func char(_ offset: Int = 0) -> Character? { pos + offset < chars.count ? chars[pos + offset] : nil }

    static let operators = ["&&", "||", ";;&", ";;", ";&", "|&", "<<<", "<<-", "<<", ">>", "&>>", "&>", ">&", "<&", ">|", "<>",
                            ";", "&", "|", "(", ")", "<", ">"]
    static let operatorStarts: Set<Character> = [";", "&", "|", "(", ")", "<", ">"]

    func error(_ message: String) -> ShellParseError { ShellParseError(message: message, offset: pos) }

    mutating func skipBlanks() {
        while let c = char() {
            if c == " " || c == "\t" || c == "\r" { pos += 1 }
            else if c == "\\", char(1) == "\n" { pos += 2 }
            else if c == "#" {
                while let d = char(), d != "\n" { pos += 1; _ = d }
            } else { break }
        }
    }

    mutating func next() throws(ShellParseError) -> Token {
        skipBlanks()
        guard let c = char() else { return .eof }
        if c == "\n" {
            pos += 1
            try readHereDocBodies()
            return .newline
        }
        if (c == "<" || c == ">"), char(1) == "(" {
            return .word(try word())
        }
        if Lexer.operatorStarts.contains(c) {
            for op in Lexer.operators where matches(op) {
                pos += op.count
                return .op(op)
            }
        }
        // An io number: digits right before < or >.
        var k = pos
        while k < chars.count, chars[k].isASCII, chars[k].isNumber { k += 1 }
        if k > pos, k < chars.count, chars[k] == "<" || chars[k] == ">", chars[k + 1 < chars.count ? k + 1 : k] != "(" {
            let n = Int(String(chars[pos..<k])) ?? 0
            pos = k
            return .ioNumber(n)
        }
        return .word(try word())
    }

    func matches(_ s: String) -> Bool {
        var i = pos
        for ch in s {
            guard i < chars.count, chars[i] == ch else { return false }
            i += 1
        }
        return true
    }

    /// One word, up to a blank, an operator or a newline.
    mutating func word() throws(ShellParseError) -> Word {
        var parts: [WordPart] = []
        var literal = ""
        func flush() {
            if !literal.isEmpty { parts.append(.literal(literal)); literal = "" }
        }
        while let c = char() {
            if c == " " || c == "\t" || c == "\n" || c == "\r" { break }
            if (c == "<" || c == ">"), char(1) == "(" {
                flush()
                pos += 2
                let script = try subScript(closer: ")")
                parts.append(.process(script, output: c == ">"))
                continue
            }
            if c == "(", !literal.isEmpty, literal.hasSuffix("=") || "@!+*?".contains(literal.last!) {
                // An array assignment `a=(x y)` or an extended glob `@(a|b)`: kept as literal text.
                literal += try balancedRaw(open: "(", close: ")")
                continue
            }
            if Lexer.operatorStarts.contains(c) { break }
            switch c {
            case "\\":
                if char(1) == "\n" { pos += 2; continue }
                flush()
                if let e = char(1) { parts.append(.quoted(String(e))); pos += 2 } else { pos += 1 }
            case "'":
                flush()
                pos += 1
                var s = ""
                while true {
                    guard let d = char() else { throw error("unterminated single quote") }
                    pos += 1
                    if d == "'" { break }
                    s.append(d)
                }
                parts.append(.quoted(s))
            case "\"":
                flush()
                pos += 1
                parts += try doubleQuoted(untilEnd: false)
            case "$":
                if char(1) == "'" {
                    flush()
                    pos += 2
                    parts.append(.quoted(try ansiC()))
                } else if char(1) == "\"" {
                    flush()
                    pos += 2
                    parts += try doubleQuoted(untilEnd: false)
                } else if let part = try dollar(quoted: false) {
                    flush()
                    parts.append(part)
                } else {
                    literal.append("$")
                }
            case "`":
                flush()
                parts.append(.command(try backticks(), quoted: false))
            default:
                literal.append(c)
                pos += 1
            }
        }
        flush()
        return Word(parts: parts)
    }

    /// Text from `open` to its matching `close` (nested pairs and quotes skipped), both included.
    mutating func balancedRaw(open: Character, close: Character) throws(ShellParseError) -> String {
        var level = 0
        var s = ""
        var quote: Character? = nil
        while let c = char() {
            s.append(c)
            pos += 1
            if let q = quote {
                if c == q { quote = nil }
                continue
            }
            if c == "'" || c == "\"" { quote = c; continue }
            if c == "\\", let n = char() { s.append(n); pos += 1; continue }
            if c == open { level += 1 }
            if c == close { level -= 1; if level == 0 { return s } }
        }
        throw error("unterminated '\(open)'")
    }

    /// The inside of "…" (the opening quote consumed), or a here-document body (`untilEnd`).
    mutating func doubleQuoted(untilEnd: Bool) throws(ShellParseError) -> [WordPart] {
        var parts: [WordPart] = []
        var text = ""
        func flush() {
            if !text.isEmpty { parts.append(.quoted(text)); text = "" }
        }
        while true {
            guard let c = char() else {
                if untilEnd { break }
                throw error("unterminated double quote")
            }
            if c == "\"", !untilEnd { pos += 1; break }
            switch c {
            case "\\":
                if let n = char(1), n == "$" || n == "`" || n == "\"" || n == "\\" || n == "\n" {
                    if n != "\n" { text.append(n) }
                    pos += 2
                } else {
                    text.append(c)
                    pos += 1
                }
            case "$":
                if let part = try dollar(quoted: true) {
                    flush()
                    parts.append(part)
                } else {
                    text.append("$")
                }
            case "`":
                flush()
                parts.append(.command(try backticks(), quoted: true))
            default:
                text.append(c)
                pos += 1
            }
        }
        flush()
        if parts.isEmpty { parts.append(.quoted("")) }
        return parts
    }

    /// `$'…'` (the `$'` consumed): ANSI-C escapes decoded.
    mutating func ansiC() throws(ShellParseError) -> String {
        var scalars: [Unicode.Scalar] = []
        func hexValue(_ c: Character) -> UInt32? { c.hexDigitValue.map(UInt32.init) }
        while true {
            guard let c = char() else { throw error("unterminated $'…' quote") }
            pos += 1
            if c == "'" { break }
            guard c == "\\", let e = char() else { scalars += c.unicodeScalars; continue }
            pos += 1
            switch e {
            case "n": scalars.append("\n")
            case "t": scalars.append("\t")
            case "r": scalars.append("\r")
            case "a": scalars.append("\u{07}")
            case "b": scalars.append("\u{08}")
            case "e", "E": scalars.append("\u{1B}")
            case "f": scalars.append("\u{0C}")
            case "v": scalars.append("\u{0B}")
            case "x", "u", "U":
                let limit = e == "x" ? 2 : (e == "u" ? 4 : 8)
                var v: UInt32 = 0, n = 0
                while n < limit, let d = char(), let h = hexValue(d) { v = v * 16 + h; pos += 1; n += 1 }
                if n == 0 { scalars += "\\\(e)".unicodeScalars } else if let s = Unicode.Scalar(v) { scalars.append(s) }
            case "0", "1", "2", "3", "4", "5", "6", "7":
                var v = UInt32(e.wholeNumberValue!), n = 1
                while n < 3, let d = char(), let o = d.wholeNumberValue, o < 8 { v = v * 8 + UInt32(o); pos += 1; n += 1 }
                if let s = Unicode.Scalar(v & 0xFF) { scalars.append(s) }
            case "c":
                if let d = char() { pos += 1; if let a = d.asciiValue { scalars.append(Unicode.Scalar(a & 0x1F)) } }
            default: scalars += e.unicodeScalars
            }
        }
        var s = ""
        s.unicodeScalars.append(contentsOf: scalars)
        return s
    }

    /// After `$`: a parameter, `$(…)`, `$((…))`; nil when the `$` is literal.
    mutating func dollar(quoted: Bool) throws(ShellParseError) -> WordPart? {
        guard let n = char(1) else { return nil }
        if n == "(" {
            if char(2) == "(" {
                pos += 1
                let raw = try balancedRaw(open: "(", close: ")")
                return .arithmetic(String(raw.dropFirst(2).dropLast(2)))
            }
            pos += 2
            return .command(try subScript(closer: ")"), quoted: quoted)
        }
        if n == "{" {
            pos += 2
            return try braceParameter(quoted: quoted)
        }
        if n == "_" || n.isLetter && n.isASCII {
            pos += 1
            var name = ""
            while let c = char(), c == "_" || (c.isASCII && (c.isLetter || c.isNumber)) { name.append(c); pos += 1 }
            return .variable(name, modifier: nil, quoted: quoted)
        }
        if "?$!#@*-0123456789".contains(n) {
            pos += 2
            return .variable(String(n), modifier: nil, quoted: quoted)
        }
        return nil
    }

    /// `${…}` (the `${` consumed).
    mutating func braceParameter(quoted: Bool) throws(ShellParseError) -> WordPart {
        var name = ""
        if let c = char(), c == "#" || c == "!", char(1) != "}" {
            // ${#X} (a length) and ${!X} (indirection): values the guard does not work out.
            var raw = "{"
            raw += try balancedRaw(open: "{", close: "}").dropFirst(0)
            return .variable("?", modifier: VariableModifier(op: "other", word: .literal(raw)), quoted: quoted)
        }
        while let c = char(), c == "_" || (c.isASCII && (c.isLetter || c.isNumber)) || (name.isEmpty && "?$!#@*-".contains(c)) {
            name.append(c)
            pos += 1
            if !(c == "_" || c.isLetter || c.isNumber) { break }
        }
        guard let c = char() else { throw error("unterminated ${") }
        if c == "}" { pos += 1; return .variable(name, modifier: nil, quoted: quoted) }
        for op in [":-", ":=", ":+", ":?", "-", "=", "+", "?"] where matches(op) {
            pos += op.count
            let word = try modifierWord()
            return .variable(name, modifier: VariableModifier(op: op, word: word), quoted: quoted)
        }
        // Anything else (${X#pat}, ${X/a/b}, ${X:1:2}, ${X^^}): read to the closing brace.
        var level = 1
        var raw = ""
        while let d = char() {
            pos += 1
            if d == "{" { level += 1 }
            if d == "}" { level -= 1; if level == 0 { return .variable(name, modifier: VariableModifier(op: "other", word: .literal(raw)), quoted: quoted) } }
            raw.append(d)
        }
        throw error("unterminated ${")
    }

    /// The word of `${X:-word}` up to the closing brace.
    mutating func modifierWord() throws(ShellParseError) -> Word {
        var parts: [WordPart] = []
        var literal = ""
        func flush() { if !literal.isEmpty { parts.append(.literal(literal)); literal = "" } }
        while let c = char() {
            if c == "}" { pos += 1; flush(); return Word(parts: parts) }
            switch c {
            case "'":
                flush()
                pos += 1
                var s = ""
                while let d = char(), d != "'" { s.append(d); pos += 1 }
                pos += 1
                parts.append(.quoted(s))
            case "\"":
                flush()
                pos += 1
                parts += try doubleQuoted(untilEnd: false)
            case "\\":
                flush()
                if let e = char(1) { parts.append(.quoted(String(e))) }
                pos += 2
            case "$":
                if let part = try dollar(quoted: false) { flush(); parts.append(part) } else { literal.append("$"); pos += 1 }
            case "`":
                flush()
                parts.append(.command(try backticks(), quoted: false))
            default:
                literal.append(c)
                pos += 1
            }
        }
        throw error("unterminated ${")
    }

    /// A backtick substitution (at the opening backtick).
    mutating func backticks() throws(ShellParseError) -> Script {
        pos += 1
        var inner = ""
        while true {
            guard let c = char() else { throw error("unterminated backtick") }
            pos += 1
            if c == "`" { break }
            if c == "\\", let n = char(), n == "`" || n == "\\" || n == "$" {
                inner.append(n)
                pos += 1
                continue
            }
            inner.append(c)
        }
        guard depth < ShellParser.maxDepth else { throw error("commands nested too deeply") }
        var p = Parser(chars: Array(inner), depth: depth + 1)
        let script = try p.script(terminators: [], closers: [])
        return script
    }

    /// A script up to `closer` (for `$(…)` and `<(…)`), the closer consumed.
    mutating func subScript(closer: String) throws(ShellParseError) -> Script {
        guard depth < ShellParser.maxDepth else { throw error("commands nested too deeply") }
        var p = Parser(lexer: Lexer(chars: chars, depth: depth + 1))
        p.lexer.pos = pos
        let script = try p.script(terminators: [], closers: [closer])
        p.skipNewlines()
        guard case .op(closer) = try p.take() else { throw p.lexer.error("unterminated $( or <(: no '\(closer)'") }
        pos = p.lexer.pos
        return script
    }

    /// After a newline: the bodies of the here-documents whose operators were on the line before.
    mutating func readHereDocBodies() throws(ShellParseError) {
        while !pendingHereDocs.isEmpty {
            let doc = pendingHereDocs.removeFirst()
            var lines: [String] = []
            var found = false
            while !atEnd {
                var line = ""
                while let c = char(), c != "\n" { line.append(c); pos += 1 }
                if char() == "\n" { pos += 1 }
                var check = line
                if doc.stripTabs { while check.first == "\t" { check.removeFirst() } }
                if check == doc.delimiter { found = true; break }
                lines.append(doc.stripTabs ? check : line)
            }
            _ = found  // bash takes a missing delimiter as the end of the input, with a warning
            let text = lines.map { $0 + "\n" }.joined()
            if doc.literal {
                doc.body = Word(parts: [.quoted(text)])
            } else {
                var sub = Lexer(chars: Array(text), depth: depth + 1)
                doc.body = Word(parts: try sub.doubleQuoted(untilEnd: true))
            }
        }
    }
}

// MARK: - Parser

struct Parser {
    var lexer: Lexer
    var lookahead: Token?

    init(chars: [Character], depth: Int) { lexer = Lexer(chars: chars, depth: depth) }
    init(lexer: Lexer) { self.lexer = lexer }

    mutating func peek() throws(ShellParseError) -> Token {
        if let t = lookahead { return t }
        let t = try lexer.next()
        lookahead = t
        return t
    }

    mutating func take() throws(ShellParseError) -> Token {
        let t = try peek()
        lookahead = nil
        return t
    }

    mutating func skipNewlines() {
        while (try? peek()) == .newline { lookahead = nil }
    }

    static let reserved: Set<String> = ["if", "then", "else", "elif", "fi", "do", "done", "case", "esac", "while", "until",
                                        "for", "select", "in", "function", "{", "}", "!", "[[", "]]", "time"]

    func reservedWord(_ t: Token) -> String? {
        if case .word(let w) = t, let s = w.plainText, Parser.reserved.contains(s) { return s }
        return nil
    }

    mutating func expectWord(_ s: String) throws(ShellParseError) {
        skipNewlines()
        let t = try take()
        guard reservedWord(t) == s else { throw lexer.error("expected '\(s)'") }
    }

    mutating func script(terminators: Set<String>, closers: Set<String>) throws(ShellParseError) -> Script {
        var items: [ListItem] = []
        while true {
            skipNewlines()
            let t = try peek()
            if t == .eof { break }
            if case .op(let o) = t {
                if closers.contains(o) { break }
                if o == ";" || o == "&" { lookahead = nil; continue }  // a stray separator
            }
            if let r = reservedWord(t), terminators.contains(r) { break }
            if let r = reservedWord(t), ["then", "else", "elif", "fi", "do", "done", "esac", "}", "in"].contains(r), !terminators.contains(r) {
                throw lexer.error("unexpected '\(r)'")
            }
            let pipeline = try self.pipeline()
            var connector = ""
            switch try peek() {
            case .op(let o) where [";", "&", "&&", "||"].contains(o):
                lookahead = nil
                connector = o
            case .newline:
                lookahead = nil
                connector = "\n"
            default: break
            }
            items.append(ListItem(pipeline: pipeline, connector: connector))
            if connector.isEmpty {
                // Only a closer, a terminator or the end may follow a pipeline without a separator.
                let n = try peek()
                if case .op(let o) = n, closers.contains(o) { break }
                if let r = reservedWord(n), terminators.contains(r) { break }
                if n == .eof { break }
                if case .op(let o) = n { throw lexer.error("unexpected '\(o)'") }
            }
        }
        return Script(items: items)
    }

    mutating func pipeline() throws(ShellParseError) -> Pipeline {
        var p = Pipeline()
        while let r = reservedWord(try peek()), r == "!" || r == "time" {
            lookahead = nil
            if r == "!" { p.negated.toggle() }
        }
        while true {
            p.commands.append(try command())
            if case .op(let o) = try peek(), o == "|" || o == "|&" {
                lookahead = nil
                skipNewlines()
                continue
            }
            break
        }
        return p
    }

    mutating func redirects() throws(ShellParseError) -> [Redirect] {
        var r: [Redirect] = []
        while let x = try redirect() { r.append(x) }
        return r
    }

    /// A redirection at the current token, or nil.
    mutating func redirect() throws(ShellParseError) -> Redirect? {
        var fd: Int? = nil
        var t = try peek()
        if case .ioNumber(let n) = t {
            lookahead = nil
            fd = n
            t = try peek()
        }
        guard case .op(let o) = t, ["<", ">", ">>", ">|", "<>", "&>", "&>>", ">&", "<&", "<<", "<<-", "<<<"].contains(o) else {
            if fd != nil { throw lexer.error("a redirection needs an operator") }
            return nil
        }
        lookahead = nil
        guard case .word(let target) = try take() else { throw lexer.error("'\(o)' needs a target") }
        var r = Redirect(fd: fd, op: o, target: target, hereDoc: nil)
        if o == "<<" || o == "<<-" {
            let literal = target.parts.contains { if case .literal = $0 { return false } else { return true } }
            var delimiter = ""
            for part in target.parts {
                switch part {
                case .literal(let s), .quoted(let s): delimiter += s
                default: break
                }
            }
            let doc = HereDoc(delimiter: delimiter, literal: literal, stripTabs: o == "<<-")
            lexer.pendingHereDocs.append(doc)
            r.hereDoc = doc
        }
        return r
    }

    static func isAssignment(_ w: Word) -> (String, Word)? {
        guard case .literal(let first)? = w.parts.first, let eq = first.firstIndex(of: "=") else { return nil }
        var name = String(first[..<eq])
        if name.hasSuffix("+") { name.removeLast() }
        guard let c = name.first, c == "_" || (c.isASCII && c.isLetter),
              name.allSatisfy({ $0 == "_" || ($0.isASCII && ($0.isLetter || $0.isNumber)) }) else { return nil }
        var parts = w.parts
        let rest = String(first[first.index(after: eq)...])
        if rest.isEmpty { parts.removeFirst() } else { parts[0] = .literal(rest) }
        return (name, Word(parts: parts))
    }

    mutating func command() throws(ShellParseError) -> Command {
        let t = try peek()
        if case .op("(") = t {
            lookahead = nil
            let body = try script(terminators: [], closers: [")"])
            skipNewlines()
            guard case .op(")") = try take() else { throw lexer.error("unterminated '(': no ')'") }
            return .subshell(body, redirects: try redirects())
        }
        if let r = reservedWord(t) {
            switch r {
            case "{":
                lookahead = nil
                let body = try script(terminators: ["}"], closers: [])
                try expectWord("}")
                return .compound(kind: "group", scripts: [body], redirects: try redirects())
            case "if":
                lookahead = nil
                var scripts: [Script] = [try script(terminators: ["then"], closers: [])]
                try expectWord("then")
                scripts.append(try script(terminators: ["elif", "else", "fi"], closers: []))
                while true {
                    skipNewlines()
                    let k = reservedWord(try take())
                    if k == "fi" { break }
                    if k == "elif" {
                        scripts.append(try script(terminators: ["then"], closers: []))
                        try expectWord("then")
                        scripts.append(try script(terminators: ["elif", "else", "fi"], closers: []))
                    } else if k == "else" {
                        scripts.append(try script(terminators: ["fi"], closers: []))
                    } else {
                        throw lexer.error("unterminated 'if': no 'fi'")
                    }
                }
                return .compound(kind: "if", scripts: scripts, redirects: try redirects())
            case "while", "until":
                lookahead = nil
                let condition = try script(terminators: ["do"], closers: [])
                try expectWord("do")
                let body = try script(terminators: ["done"], closers: [])
                try expectWord("done")
                return .compound(kind: r, scripts: [condition, body], redirects: try redirects())
            case "for", "select":
                lookahead = nil
                if case .op("(") = try peek() {
                    // for ((i=0; i<n; i++)): the arithmetic header is skipped.
                    var level = 0
                    repeat {
                        let x = try take()
                        if x == .op("(") { level += 1 }
                        if x == .op(")") { level -= 1 }
                        if x == .eof { throw lexer.error("unterminated 'for ((…))'") }
                    } while level > 0
                    if case .op(";") = try peek() { lookahead = nil }
                    try expectWord("do")
                    let body = try script(terminators: ["done"], closers: [])
                    try expectWord("done")
                    _ = try redirects()
                    return .forLoop(variable: "", words: [], body: body)
                }
                guard case .word(let nameWord) = try take(), let name = nameWord.plainText else { throw lexer.error("'for' needs a variable name") }
                var words: [Word]? = nil
                skipNewlines()
                if reservedWord(try peek()) == "in" {
                    lookahead = nil
                    var list: [Word] = []
                    while case .word(let w) = try peek() {
                        lookahead = nil
                        list.append(w)
                    }
                    words = list
                }
                if case .op(";") = try peek() { lookahead = nil }
                try expectWord("do")
                let body = try script(terminators: ["done"], closers: [])
                try expectWord("done")
                _ = try redirects()
                return .forLoop(variable: name, words: words, body: body)
            case "case":
                lookahead = nil
                guard case .word = try take() else { throw lexer.error("'case' needs a word") }
                try expectWord("in")
                var scripts: [Script] = []
                while true {
                    skipNewlines()
                    let n = try peek()
                    if reservedWord(n) == "esac" { lookahead = nil; break }
                    if n == .eof { throw lexer.error("unterminated 'case': no 'esac'") }
                    if n == .op("(") { lookahead = nil }
                    // Patterns up to ')'.
                    while true {
                        let x = try take()
                        if x == .op(")") { break }
                        if x == .eof { throw lexer.error("unterminated 'case' pattern") }
                    }
                    scripts.append(try script(terminators: ["esac"], closers: [";;", ";&", ";;&"]))
                    if case .op(let o) = try peek(), [";;", ";&", ";;&"].contains(o) { lookahead = nil }
                }
                return .compound(kind: "case", scripts: scripts, redirects: try redirects())
            case "function":
                lookahead = nil
                guard case .word(let nameWord) = try take() else { throw lexer.error("'function' needs a name") }
                if case .op("(") = try peek() {
                    lookahead = nil
                    guard case .op(")") = try take() else { throw lexer.error("expected ')'") }
                }
                skipNewlines()
                return .function(name: nameWord.staticText ?? "", body: try command())
            case "[[":
                // A test expression: its words up to ']]', operators included, as one command.
                lookahead = nil
                var simple = SimpleCommand()
                simple.words.append(.literal("[["))
                while true {
                    let x = try take()
                    switch x {
                    case .word(let w):
                        simple.words.append(w)
                        if w.plainText == "]]" { return .simple(simple) }
                    case .op(let o): simple.words.append(.literal(o))
                    case .ioNumber(let n): simple.words.append(.literal(String(n)))
                    case .newline: continue
                    case .eof: throw lexer.error("unterminated '[[': no ']]'")
                    }
                }
            default:
                break
            }
        }
        var simple = SimpleCommand()
        loop: while true {
            if let r = try redirect() { simple.redirects.append(r); continue }
            switch try peek() {
            case .word(let w):
                if simple.words.isEmpty, let (name, value) = Parser.isAssignment(w) {
                    lookahead = nil
                    simple.assignments.append((name, value))
                } else if !simple.words.isEmpty, let r = reservedWord(.word(w)), r == "}" || r == "]]" {
                    // `}` closes a group only in command position; as an argument it is a word.
                    lookahead = nil
                    simple.words.append(w)
                } else {
                    lookahead = nil
                    simple.words.append(w)
                }
            case .op("("):
                // NAME () { …; }: a function definition.
                guard simple.words.count == 1, simple.assignments.isEmpty, let name = simple.words[0].staticText else {
                    throw lexer.error("unexpected '('")
                }
                lookahead = nil
                guard case .op(")") = try take() else { throw lexer.error("expected ')' in a function definition") }
                skipNewlines()
                return .function(name: name, body: try command())
            default:
                break loop
            }
        }
        if simple.words.isEmpty, simple.assignments.isEmpty, simple.redirects.isEmpty {
            let t = try peek()
            switch t {
            case .op(let o): throw lexer.error("unexpected '\(o)'")
            case .eof: throw lexer.error("a command is missing")
            default: throw lexer.error("unexpected token")
            }
        }
        return .simple(simple)
    }
}
