#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A word after the expansions the guard can work out without running anything.
public struct ExpandedWord: Sendable, Equatable, CustomStringConvertible {
    /// The text; parts the guard cannot know are `unknownMark`.
    public var text: String
    /// Holds a part the guard cannot know (`$(…)` of a command it does not model, an unset variable).
    public var unknown: Bool = false
    /// Holds an unquoted `*`, `?` or `[`: the shell matches it against file names.
    public var glob: Bool = false
    /// Came from the output of a network download (`$(curl …)`).
    public var fromNetwork: String? = nil

    public static let unknownMark = "\u{FFFC}"

    public init(text: String, unknown: Bool = false, glob: Bool = false, fromNetwork: String? = nil) {
        self.text = text
        self.unknown = unknown
        self.glob = glob
        self.fromNetwork = fromNetwork
    }

    public var description: String { text.replacing(Self.unknownMark, with: "…") }
    /// The text where every part is known.
    public var known: String? { unknown ? nil : text }
}

/// What a command writes to its standard output, as far as the guard can tell.
enum StreamValue: Equatable {
    case text(String)
    /// Text decoded from base64 or hex, or reversed: hidden until it runs.
    case decoded(String)
    /// Downloaded by this program from the network.
    case network(String)
    /// Paths found under these folders (`find`'s output).
    case paths([String])
    case unknown
}

/// The state a script runs in: variables it set, the folder it is in, the functions it defined.
struct ShellState {
    var variables: [String: String]
    /// Variables set to something the guard cannot know.
    var unknownVariables: Set<String> = []
    var networkVariables: [String: String] = [:]
    /// nil: unknown (after `cd $X`).
    var cwd: String?
    var functions: [String: Command] = [:]
    /// For-loop variables: every value they take.
    var loopValues: [String: [ExpandedWord]] = [:]
}

extension Analyzer {
    // MARK: Expanding words

    /// A word's fields after brace, tilde, parameter and command expansion and field splitting.
    func expand(_ word: Word, _ state: inout ShellState, split: Bool = true) -> [ExpandedWord] {
        var out: [ExpandedWord] = []
        for w in braceExpand(word) {
            out += expandOne(w, &state, split: split)
        }
        return out
    }

    func expandOne(_ word: Word, _ state: inout ShellState, split: Bool) -> [ExpandedWord] {
        // Loop variables with several values: one expansion per value.
        for part in word.parts {
            if case .variable(let name, nil, _) = part, let values = state.loopValues[name], values.count > 1 {
                var results: [ExpandedWord] = []
                for v in values.prefix(16) {
                    var s = state
                    s.loopValues[name] = [v]
                    results += expandOne(word, &s, split: split)
                }
                return results
            }
        }
        var fields: [ExpandedWord] = []
        var current = ExpandedWord(text: "")
        var hasContent = false
        func append(_ s: String, unknown: Bool = false, glob: Bool = false, splitting: Bool, network: String? = nil) {
            if let network { current.fromNetwork = network }
            if unknown { current.unknown = true }
            if !splitting {
                current.text += s
                if glob { current.glob = true }
                hasContent = true
                return
            }
            // Unquoted expansion: split on blanks, each piece may glob.
            var first = true
            for piece in s.split(omittingEmptySubsequences: false, whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }) {
                if !first {
                    if hasContent || !current.text.isEmpty { fields.append(current) }
                    current = ExpandedWord(text: "")
                    hasContent = false
                }
                first = false
                if !piece.isEmpty {
                    current.text += piece
                    if piece.contains(where: { "*?[".contains($0) }) { current.glob = true }
                    hasContent = true
                }
            }
        }
        for (index, part) in word.parts.enumerated() {
            switch part {
            case .literal(var s):
                if index == 0, s.hasPrefix("~") {
                    let end = s.firstIndex(of: "/") ?? s.endIndex
                    let user = String(s[s.index(after: s.startIndex)..<end])
                    if user.isEmpty {
                        s = context.home + s[end...]
                    } else if user == "+" {
                        s = (state.cwd ?? ExpandedWord.unknownMark) + s[end...]
                        if state.cwd == nil { current.unknown = true }
                    } else if let h = Paths.home(ofUser: user) {
                        s = h + s[end...]
                    }
                }
                append(s, glob: s.contains(where: { "*?[".contains($0) }), splitting: false)
            case .quoted(let s):
                append(s, splitting: false)
                hasContent = true
            case .variable(let name, let modifier, let quoted):
                let (value, known, network) = variableValue(name, modifier, &state)
                if let value {
                    append(value, unknown: !known, splitting: split && !quoted, network: network)
                } else {
                    append(ExpandedWord.unknownMark, unknown: true, splitting: false)
                }
                if quoted { hasContent = true }
            case .command(let script, let quoted):
                let output = substitutionOutput(script, state)
                switch output {
                case .text(var t), .decoded(var t):
                    while t.hasSuffix("\n") { t.removeLast() }
                    append(t, splitting: split && !quoted)
                case .network(let source):
                    append(ExpandedWord.unknownMark, unknown: true, splitting: false, network: source)
                case .paths, .unknown:
                    append(ExpandedWord.unknownMark, unknown: true, splitting: false)
                }
                if quoted { hasContent = true }
            case .process(let script, let output):
                // The script is checked where the command is; the word is a /dev/fd path.
                if !output, case .network(let source) = substitutionOutput(script, state) {
                    append("/dev/fd/63", splitting: false, network: source)
                } else {
                    append("/dev/fd/63", splitting: false)
                }
            case .arithmetic:
                append(ExpandedWord.unknownMark, unknown: true, splitting: false)
            }
        }
        if hasContent || !current.text.isEmpty || current.unknown { fields.append(current) }
        return fields
    }

    /// (value, whether it is fully known, network source).
    func variableValue(_ name: String, _ modifier: VariableModifier?, _ state: inout ShellState) -> (String?, Bool, String?) {
        var value: String? = nil
        var known = true
        if let loop = state.loopValues[name], let v = loop.first {
            return (v.text, !v.unknown, v.fromNetwork)
        }
        if let network = state.networkVariables[name] { return (ExpandedWord.unknownMark, false, network) }
        if state.unknownVariables.contains(name) {
            value = nil
        } else if name == "PWD" {
            value = state.cwd
        } else if name == "HOME" {
            value = state.variables["HOME"] ?? context.home
        } else if let v = state.variables[name] {
            value = v
        }
        if let m = modifier {
            switch m.op {
            case ":-", "-", ":=", "=":
                if value == nil || (m.op.hasPrefix(":") && value == "") {
                    let w = expand(m.word, &state, split: false)
                    let text = w.map(\.text).joined(separator: " ")
                    if value == nil, state.unknownVariables.contains(name) || !state.variables.keys.contains(name) {
                        // Unset here, but perhaps set in the agent's shell: either value.
                        if w.contains(where: \.unknown) { known = false }
                        if m.op.hasSuffix("=") { state.variables[name] = text }
                        return (text, known && !state.unknownVariables.contains(name), nil)
                    }
                    return (text, !w.contains(where: \.unknown), nil)
                }
            case ":+", "+":
                if value != nil {
                    let w = expand(m.word, &state, split: false)
                    return (w.map(\.text).joined(separator: " "), !w.contains(where: \.unknown), nil)
                }
                return ("", true, nil)
            default:
                return (nil, false, nil)
            }
        }
        if value == nil { known = false }
        return (value, known, nil)
    }

    /// `{a,b}c` → `ac`, `bc`; `{1..3}` → 1, 2, 3 (in unquoted text only).
    func braceExpand(_ word: Word) -> [Word] {
        for (i, part) in word.parts.enumerated() {
            guard case .literal(let s) = part, let open = s.firstIndex(of: "{") else { continue }
            var level = 0
            var close: String.Index? = nil
            var commas: [String.Index] = []
            var k = open
            while k < s.endIndex {
                let c = s[k]
                if c == "{" { level += 1 }
                if c == "}" { level -= 1; if level == 0 { close = k; break } }
                if c == ",", level == 1 { commas.append(k) }
                k = s.index(after: k)
            }
            guard let close else { continue }
            let inner = s[s.index(after: open)..<close]
            var alternatives: [String] = []
            if !commas.isEmpty {
                var start = s.index(after: open)
                for c in commas + [close] {
                    alternatives.append(String(s[start..<c]))
                    start = s.index(after: c)
                }
            } else if let range = inner.firstRange(of: ".."), let a = Int(inner[..<range.lowerBound]), let b = Int(inner[range.upperBound...]),
                      abs(b - a) < 64 {
                alternatives = (a <= b ? Array(a...b) : Array((b...a).reversed())).map(String.init)
            } else if let range = inner.firstRange(of: ".."), inner[..<range.lowerBound].count == 1, inner[range.upperBound...].count == 1,
                      let a = inner.first?.asciiValue, let b = inner.last?.asciiValue {
                alternatives = (a <= b ? Array(a...b) : Array((b...a).reversed())).map { String(UnicodeScalar($0)) }
            } else {
                continue
            }
            let prefix = String(s[..<open]), suffix = String(s[s.index(after: close)...])
            var results: [Word] = []
            for alt in alternatives.prefix(64) {
                var parts = word.parts
                parts[i] = .literal(prefix + alt + suffix)
                results += braceExpand(Word(parts: parts))
                if results.count >= 64 { break }
            }
            return results
        }
        return [word]
    }
}
