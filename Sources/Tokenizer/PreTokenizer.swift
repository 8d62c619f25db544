/// Splits text into the pieces that BPE merges within (never across), as llama.cpp does for
/// `tokenizer.ggml.pre`: a list of regexes applied one after another, each refining the pieces of
/// the previous one (a later regex never joins pieces, and its look-ahead stops at a piece's end).
///
/// The regexes are hand-written scanners over Unicode scalars (no regex engine), so the cost is a
/// table load and a few compares per scalar.
public struct PreTokenizer: Sendable, Equatable {
    enum Stage: Sendable, Equatable {
        /// `\p{N}`: every number character alone.
        case eachNumber
        /// GPT-2: `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
        case gpt2
        /// `[\p{P}\$\+<=>\^~\|]+`
        case punctuationRuns
        /// `\p{N}+`
        case numberRuns
        /// `[0-9][0-9][0-9]`
        case digitTriples
        /// Qwen2: `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
        case qwen2
    }

    /// The `tokenizer.ggml.pre` name this was built from.
    public let name: String
    let stages: [Stage]

    // Names llama.cpp maps to the same regex lists.
    static let digitsThenGPT2 = ["smollm", "starcoder", "refact", "command-r", "codeshell", "exaone", "minerva"]
    static let gpt2Only = ["gpt2", "mpt", "olmo", "jais"]
    static let qwen2Names = ["qwen2", "deepseek-r1-qwen", "megrez"]
    public static let supportedNames = digitsThenGPT2 + gpt2Only + qwen2Names + ["default"]

    /// `name` is the GGUF `tokenizer.ggml.pre` value; nil (key absent) means llama.cpp's "default".
    public init(name: String?) throws {
        let name = name ?? "default"
        self.name = name
        if Self.digitsThenGPT2.contains(name) {
            stages = [.eachNumber, .gpt2]
        } else if Self.gpt2Only.contains(name) {
            stages = [.gpt2]
        } else if Self.qwen2Names.contains(name) {
            stages = [.qwen2]
        } else if name == "default" {
            stages = [.punctuationRuns, .gpt2, .numberRuns, .digitTriples]
        } else {
            throw TokenizerError.unsupportedPreTokenizer(name)
        }
    }

    /// Pieces of a string, for inspection and tests.
    public func split(_ text: String) -> [String] {
        let scalars = text.unicodeScalars.map(\.value)
        let flags = scalars.map(CharacterClass.flags)
        var ends: [Int32] = []
        var scratch: [Int32] = []
        scalars.withUnsafeBufferPointer { s in
            flags.withUnsafeBufferPointer { f in split(s, f, ends: &ends, scratch: &scratch) }
        }
        var pieces: [String] = []
        var start = 0
        for end in ends {
            var view = String.UnicodeScalarView()
            for v in scalars[start..<Int(end)] { view.append(Unicode.Scalar(v)!) }
            pieces.append(String(view))
            start = Int(end)
        }
        return pieces
    }

    /// Splits `scalars` (with their `flags` from `CharacterClass`) and leaves in `ends` the end index
    /// of each piece, in order. `scratch` is reused storage.
    func split(_ scalars: UnsafeBufferPointer<UInt32>, _ flags: UnsafeBufferPointer<UInt8>,
               ends: inout [Int32], scratch: inout [Int32]) {
        ends.removeAll(keepingCapacity: true)
        guard !scalars.isEmpty else { return }
        ends.append(Int32(scalars.count))
        for stage in stages {
            scratch.removeAll(keepingCapacity: true)
            var start = 0
            for end in ends {
                let e = Int(end)
                switch stage {
                case .eachNumber: Self.splitEachNumber(flags, start, e, &scratch)
                case .gpt2: Self.splitGPT2(scalars, flags, start, e, &scratch)
                case .punctuationRuns: Self.splitRuns(scalars, flags, start, e, &scratch, Self.isDefaultPunctuation)
                case .numberRuns: Self.splitRuns(scalars, flags, start, e, &scratch) { _, f in f & CharacterClass.number != 0 }
                case .digitTriples: Self.splitDigitTriples(scalars, start, e, &scratch)
                case .qwen2: Self.splitQwen2(scalars, flags, start, e, &scratch)
                }
                start = e
            }
            swap(&ends, &scratch)
        }
    }

    @inline(__always)
    static func isDefaultPunctuation(_ c: UInt32, _ f: UInt8) -> Bool {
        if f & CharacterClass.punctuation != 0 { return true }
        switch c {
        case 0x24, 0x2B, 0x3C, 0x3D, 0x3E, 0x5E, 0x7E, 0x7C: return true  // $ + < = > ^ ~ |
        default: return false
        }
    }

    /// `\p{N}`: each number scalar is a piece; the runs between stay pieces.
    static func splitEachNumber(_ flags: UnsafeBufferPointer<UInt8>, _ s: Int, _ e: Int, _ out: inout [Int32]) {
        var runStart = s
        for i in s..<e where flags[i] & CharacterClass.number != 0 {
            if i > runStart { out.append(Int32(i)) }
            out.append(Int32(i + 1))
            runStart = i + 1
        }
        if runStart < e { out.append(Int32(e)) }
    }

    /// Maximal runs of scalars matching `matches` are pieces; so are the gaps between them.
    static func splitRuns(_ scalars: UnsafeBufferPointer<UInt32>, _ flags: UnsafeBufferPointer<UInt8>,
                          _ s: Int, _ e: Int, _ out: inout [Int32], _ matches: (UInt32, UInt8) -> Bool) {
        var i = s
        while i < e {
            let inRun = matches(scalars[i], flags[i])
            var j = i + 1
            while j < e && matches(scalars[j], flags[j]) == inRun { j += 1 }
            out.append(Int32(j))
            i = j
        }
    }

    /// `[0-9][0-9][0-9]` searched left to right without overlap; the gaps stay pieces.
    static func splitDigitTriples(_ scalars: UnsafeBufferPointer<UInt32>, _ s: Int, _ e: Int, _ out: inout [Int32]) {
        @inline(__always) func digit(_ c: UInt32) -> Bool { c >= 0x30 && c <= 0x39 }
        var gapStart = s
        var i = s
        while i < e {
            if i + 3 <= e, digit(scalars[i]), digit(scalars[i + 1]), digit(scalars[i + 2]) {
                if i > gapStart { out.append(Int32(i)) }
                i += 3
                out.append(Int32(i))
                gapStart = i
            } else {
                i += 1
            }
        }
        if gapStart < e { out.append(Int32(e)) }
    }

    /// The GPT-2 pattern, alternatives tried in order at each position as the regex would.
    /// Look-ahead ends at `e`: a piece boundary from an earlier stage counts as end of text.
    static func splitGPT2(_ cp: UnsafeBufferPointer<UInt32>, _ fl: UnsafeBufferPointer<UInt8>,
                          _ s: Int, _ e: Int, _ out: inout [Int32]) {
        let L = CharacterClass.letter, N = CharacterClass.number, W = CharacterClass.whitespace
        var pos = s
        while pos < e {
            let c = cp[pos]
            // 's 't 're 've 'm 'll 'd (lowercase only, as in GPT-2)
            if c == 0x27, pos + 1 < e {
                let n = cp[pos + 1]
                if n == 0x73 || n == 0x74 || n == 0x6D || n == 0x64 {  // s t m d
                    pos += 2
                    out.append(Int32(pos))
                    continue
                }
                if pos + 2 < e {
                    let nn = cp[pos + 2]
                    if (n == 0x72 && nn == 0x65) || (n == 0x76 && nn == 0x65) || (n == 0x6C && nn == 0x6C) {  // re ve ll
                        pos += 3
                        out.append(Int32(pos))
                        continue
                    }
                }
            }
            // ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`: the class of the scalar after an optional space.
            let probe = c == 0x20 ? pos + 1 : pos
            if probe < e {
                let f = fl[probe]
                let cls: UInt8 = f & L != 0 ? L : (f & N != 0 ? N : (f & (L | N | W) == 0 ? 0 : W))
                if cls != W {
                    var i = probe + 1
                    if cls == 0 {
                        while i < e && fl[i] & (L | N | W) == 0 { i += 1 }
                    } else {
                        while i < e && fl[i] & cls != 0 { i += 1 }
                    }
                    pos = i
                    out.append(Int32(pos))
                    continue
                }
            }
            // `\s+(?!\S)` leaves the last whitespace to prefix the next word; `\s+` takes a final run.
            var i = pos
            while i < e && fl[i] & W != 0 { i += 1 }
            let count = i - pos
            if count > 1 && i < e {
                pos = i - 1
            } else if count > 0 {
                pos = i
            } else {
                pos += 1  // unreachable: every scalar is a letter, number, whitespace or other
            }
            out.append(Int32(pos))
        }
    }
}
