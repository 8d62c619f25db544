import Foundation

/// Scenario text with `{name}` placeholders. `{{` and `}}` are literal braces; a name is letters,
/// digits and `_`. Unknown names are caught when a scenario is loaded, not when it runs.
enum Template {
    /// The placeholder names in `text`, in order of appearance (repeats kept).
    static func placeholders(in text: String) -> [String] {
        var names: [String] = []
        scan(text) { names.append($0); return "" }
        return names
    }

    /// `text` with each placeholder replaced by `values[name]`; a name not in `values` stays as written.
    static func render(_ text: String, _ values: [String: String]) -> String {
        scan(text) { values[$0] ?? "{\($0)}" }
    }

    @discardableResult
    private static func scan(_ text: String, _ replace: (String) -> String) -> String {
        var out = ""
        let chars = Array(text)
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if c == "{", i + 1 < chars.count, chars[i + 1] == "{" { out.append("{"); i += 2; continue }
            if c == "}", i + 1 < chars.count, chars[i + 1] == "}" { out.append("}"); i += 2; continue }
            if c == "{" {
                var j = i + 1
                while j < chars.count, chars[j].isLetter || chars[j].isNumber || chars[j] == "_" { j += 1 }
                if j < chars.count, chars[j] == "}", j > i + 1 {
                    out += replace(String(chars[(i + 1)..<j]))
                    i = j + 1
                    continue
                }
            }
            out.append(c)
            i += 1
        }
        return out
    }

    /// Runs of three or more line breaks (left by empty placeholders) cut to a blank line; ends trimmed.
    static func tidy(_ text: String) -> String {
        var s = text
        while s.contains("\n\n\n") { s = s.replacingOccurrences(of: "\n\n\n", with: "\n\n") }
        return s.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
