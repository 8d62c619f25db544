/// Python source cut into logical lines with comments dropped and string literals masked, enough
/// for the static hack detectors to look at code and literals apart. Not a parser: it knows strings
/// (prefixes, triple quotes, escapes), comments, bracket continuation and indentation.
struct PythonLine: Sendable, Equatable {
    /// The 1-based physical line the logical line starts on.
    var number: Int
    /// Leading spaces (a tab counts to the next multiple of 8).
    var indent: Int
    /// The code with every string literal replaced by `"…"` and comments removed, whitespace kept.
    var code: String
    /// The values of the line's string literals, in order (escapes kept as written).
    var literals: [String]
}

enum PythonLines {
    static let mask = "\"…\""

    static func split(_ source: String) -> [PythonLine] {
        let chars = Array(source)
        var lines: [PythonLine] = []
        var i = 0
        var lineNumber = 1
        var current = ""
        var literals: [String] = []
        var depth = 0
        var startLine = 1
        var indent = 0
        var atLineStart = true

        func finishLine() {
            let trimmed = current.trimmingCharacters(in: .whitespaces)
            if !trimmed.isEmpty || !literals.isEmpty {
                lines.append(PythonLine(number: startLine, indent: indent, code: trimmed, literals: literals))
            }
            current = ""
            literals = []
            atLineStart = true
        }

        while i < chars.count {
            let c = chars[i]
            if atLineStart {
                // Measure indentation of a new logical line.
                var width = 0
                var j = i
                while j < chars.count, chars[j] == " " || chars[j] == "\t" {
                    width = chars[j] == "\t" ? (width / 8 + 1) * 8 : width + 1
                    j += 1
                }
                indent = width
                startLine = lineNumber
                atLineStart = false
                i = j
                continue
            }
            if c == "#" {
                while i < chars.count, chars[i] != "\n" { i += 1 }
                continue
            }
            if c == "\\", i + 1 < chars.count, chars[i + 1] == "\n" {
                i += 2
                lineNumber += 1
                current.append(" ")
                continue
            }
            if c == "\n" {
                lineNumber += 1
                i += 1
                if depth > 0 { current.append(" ") } else { finishLine() }
                continue
            }
            if c == "\"" || c == "'" {
                // A string literal; its prefix letters are already in `current` and harmless.
                let triple = i + 2 < chars.count && chars[i + 1] == c && chars[i + 2] == c
                let quoteLength = triple ? 3 : 1
                var j = i + quoteLength
                var value = ""
                while j < chars.count {
                    if chars[j] == "\\", j + 1 < chars.count {
                        value.append(chars[j])
                        value.append(chars[j + 1])
                        if chars[j + 1] == "\n" { lineNumber += 1 }
                        j += 2
                        continue
                    }
                    if triple, j + 2 < chars.count, chars[j] == c, chars[j + 1] == c, chars[j + 2] == c { j += 3; break }
                    if !triple, chars[j] == c { j += 1; break }
                    if !triple, chars[j] == "\n" { break }  // unterminated: stop at the line's end
                    if chars[j] == "\n" { lineNumber += 1 }
                    value.append(chars[j])
                    j += 1
                }
                literals.append(value)
                current += mask
                i = j
                continue
            }
            if "([{".contains(c) { depth += 1 }
            if ")]}".contains(c) { depth = max(0, depth - 1) }
            current.append(c)
            i += 1
        }
        finishLine()
        return lines
    }
}
