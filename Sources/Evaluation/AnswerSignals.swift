import Foundation

/// Signals of an answer's coherence that the residual stream does not give directly: how the text
/// repeats itself, how much of it looks like words, whether it takes up the question, and how likely
/// the reading model finds its tokens. Each is a plain number with a fixed name, so a regression can
/// combine them with a probe's score (`SignalHead`) and a person can read them.
public enum AnswerSignals {
    /// Names of the text signals, in the order `text` computes them.
    public static let textNames = ["repeated_trigrams", "distinct_words", "repeated_lines", "odd_words", "non_latin",
                                   "symbols", "question_overlap", "log_words"]
    /// Names of the likelihood signals, in the order `likelihood` computes them.
    public static let likelihoodNames = ["mean_logprob", "surprising_tokens", "worst_window", "logprob_p10"]

    /// Words: maximal runs of letters or digits (an apostrophe between letters stays inside), lowercased.
    public static func words(_ text: String) -> [String] {
        var out: [String] = [], current = ""
        let scalars = Array(text.unicodeScalars)
        for (i, u) in scalars.enumerated() {
            if CharacterSet.alphanumerics.contains(u) {
                current.unicodeScalars.append(u)
            } else if (u == "'" || u == "’"), !current.isEmpty, i + 1 < scalars.count, CharacterSet.letters.contains(scalars[i + 1]) {
                current.unicodeScalars.append("'")
            } else if !current.isEmpty {
                out.append(current.lowercased())
                current = ""
            }
        }
        if !current.isEmpty { out.append(current.lowercased()) }
        return out
    }

    /// The text signals of `answer` to `question`, named as `textNames`:
    /// - `repeated_trigrams`: share of the answer's word trigrams that already occurred in it (loops);
    /// - `distinct_words`: distinct words / words (1 for no words);
    /// - `repeated_lines`: share of its lines of 10 or more characters that repeat an earlier line;
    /// - `odd_words`: share of words that look like no word (letters and digits mixed, a letter three
    ///   times in a row, over 20 letters, or letters of two scripts);
    /// - `non_latin`: share of letters outside the Latin script;
    /// - `symbols`: share of characters that are neither letters, digits, spaces nor common punctuation;
    /// - `question_overlap`: share of the question's content words (4 letters or more, not among the
    ///   commonest English words) that the answer uses;
    /// - `log_words`: log(1 + words).
    public static func text(question: String, answer: String) -> [Double] {
        let w = words(answer)
        var trigrams = Set<String>(), repeated = 0, total = 0
        if w.count >= 3 {
            for i in 0...(w.count - 3) {
                total += 1
                if !trigrams.insert(w[i] + " " + w[i + 1] + " " + w[i + 2]).inserted { repeated += 1 }
            }
        }
        var lines = Set<String>(), longLines = 0, repeatedLines = 0
        for line in answer.split(whereSeparator: \.isNewline) {
            let t = line.trimmingCharacters(in: .whitespaces)
            guard t.count >= 10 else { continue }
            longLines += 1
            if !lines.insert(t).inserted { repeatedLines += 1 }
        }
        var letters = 0, nonLatin = 0, symbols = 0, characters = 0
        for u in answer.unicodeScalars where !CharacterSet.whitespacesAndNewlines.contains(u) {
            characters += 1
            if CharacterSet.letters.contains(u) {
                letters += 1
                if !isLatin(u) { nonLatin += 1 }
            } else if !CharacterSet.decimalDigits.contains(u), !commonPunctuation.contains(u) {
                symbols += 1
            }
        }
        let questionWords = Set(words(question).filter { $0.count >= 4 && !stopWords.contains($0) })
        let answerWords = Set(w)
        return [
            total > 0 ? Double(repeated) / Double(total) : 0,
            w.isEmpty ? 1 : Double(answerWords.count) / Double(w.count),
            longLines > 0 ? Double(repeatedLines) / Double(longLines) : 0,
            w.isEmpty ? 0 : Double(w.filter(isOdd).count) / Double(w.count),
            letters > 0 ? Double(nonLatin) / Double(letters) : 0,
            characters > 0 ? Double(symbols) / Double(characters) : 0,
            questionWords.isEmpty ? 1 : Double(questionWords.filter { answerWords.contains($0) || answerWords.contains(stem($0)) }.count) / Double(questionWords.count),
            log(1 + Double(w.count)),
        ]
    }

    /// The likelihood signals of an answer's token log-probabilities (natural log) under a model,
    /// named as `likelihoodNames`: the mean, the share of tokens below log(1/400) (about −6), the lowest
    /// mean over 8 consecutive tokens (the whole answer when shorter), the 10th percentile. An answer
    /// of no tokens gives zeros.
    public static func likelihood(_ logProbabilities: [Float]) -> [Double] {
        let lp = logProbabilities.map(Double.init)
        guard !lp.isEmpty else { return [0, 0, 0, 0] }
        let mean = lp.reduce(0, +) / Double(lp.count)
        let surprising = Double(lp.filter { $0 < -6 }.count) / Double(lp.count)
        let window = min(8, lp.count)
        var sum = lp.prefix(window).reduce(0, +), worst = sum
        if lp.count > window {
            for i in window..<lp.count {
                sum += lp[i] - lp[i - window]
                worst = min(worst, sum)
            }
        }
        let sorted = lp.sorted()
        return [mean, surprising, worst / Double(window), sorted[Int(Double(sorted.count - 1) * 0.1)]]
    }

    // MARK: Helpers

    static let commonPunctuation = CharacterSet(charactersIn: ".,;:!?'\"()-–—’‘“”*#/%&$…[]")

    static func isLatin(_ u: Unicode.Scalar) -> Bool { u.value < 0x250 || (0x1E00...0x1EFF).contains(u.value) }

    static func isOdd(_ word: String) -> Bool {
        let scalars = Array(word.unicodeScalars)
        let hasLetter = scalars.contains { CharacterSet.letters.contains($0) }
        let hasDigit = scalars.contains { CharacterSet.decimalDigits.contains($0) }
        if hasLetter && hasDigit {
            // Ordinals, decades and units (1st, 1990s, 10am, 5km) are words.
            let letters = String(String.UnicodeScalarView(scalars.filter { CharacterSet.letters.contains($0) }))
            let digitsFirst = scalars.prefix { CharacterSet.decimalDigits.contains($0) }.count
            if digitsFirst > 0, digitsFirst + letters.unicodeScalars.count == scalars.count, letters.count <= 3 { return false }
            return true
        }
        guard hasLetter else { return false }
        if scalars.count > 20 { return true }
        var run = 1
        for i in 1..<scalars.count {
            run = scalars[i] == scalars[i - 1] ? run + 1 : 1
            if run >= 3 { return true }
        }
        let latin = scalars.filter(isLatin).count
        return latin > 0 && latin < scalars.count
    }

    /// A plural or -ing form's stem, so that "games" in the question matches "game" in the answer.
    static func stem(_ w: String) -> String {
        for suffix in ["ing", "es", "s"] where w.hasSuffix(suffix) && w.count > suffix.count + 3 {
            return String(w.dropLast(suffix.count))
        }
        return w
    }

    static let stopWords: Set<String> = [
        "about", "after", "again", "also", "been", "before", "being", "could", "does", "doing", "done", "each", "even",
        "every", "from", "have", "having", "here", "into", "just", "know", "like", "made", "make", "many", "more", "most",
        "much", "must", "only", "other", "over", "really", "same", "should", "some", "such", "than", "that", "their",
        "them", "then", "there", "these", "they", "thing", "things", "think", "this", "those", "through", "very", "want",
        "what", "when", "where", "which", "while", "will", "with", "would", "your", "yours", "you're", "i'm", "what's",
    ]
}
