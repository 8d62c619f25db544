import Foundation

/// llama.cpp's speeds for one model, tokens/s: the figures in `shared/reference/smollm2.md`
/// (measured once on this machine kind), or figures measured on this very host from llama.cpp's
/// JSON-lines output, which leave the host's speed out of the ratios.
public struct ReferenceFigures: Sendable, Equatable {
    public var pp512: [Int: Double]             // by thread count
    public var tg128: [Int: Double]             // by thread count
    public var batched: [Int: [Int: Double]]    // by thread count, then sequence count
    /// Whose figures these are, as the bench prints them.
    public var source: String

    public init(pp512: [Int: Double] = [:], tg128: [Int: Double] = [:], batched: [Int: [Int: Double]] = [:],
                source: String = "llama.cpp") {
        self.pp512 = pp512
        self.tg128 = tg128
        self.batched = batched
        self.source = source
    }

    /// The figures in `smollm2.md` for a registered model (2-thread batched figures only).
    public static func forModel(named name: String) -> ReferenceFigures? {
        switch name {
        case "smollm2-135m":
            return ReferenceFigures(pp512: [1: 116, 2: 219], tg128: [1: 60, 2: 85],
                                    batched: [2: [1: 92, 8: 147, 32: 145, 64: 140]])
        case "gemma3-270m":
            return ReferenceFigures(pp512: [1: 166, 2: 260], tg128: [1: 23.6, 2: 37.8],
                                    batched: [2: [1: 49, 8: 93, 32: 121, 64: 131]])
        default:
            return nil
        }
    }

    /// Reads llama.cpp's JSON lines from a file; an unreadable file is a `ReferenceFileError` too.
    public init(llamaCppJSONLinesAt path: String) throws {
        guard let text = try? String(contentsOf: URL(fileURLWithPath: path), encoding: .utf8) else {
            throw ReferenceFileError(file: path, line: nil, reason: "cannot read the file as UTF-8 text")
        }
        try self.init(llamaCppJSONLines: text, file: path)
    }

    /// Reads the JSON-lines output of `llama-bench -o jsonl` (records with `n_prompt`, `n_gen`,
    /// `n_threads`, `avg_ts`: pp512 is 512 prompt tokens and no generation, tg128 the reverse) and
    /// of `llama-batched-bench --output-format jsonl` (records with `pp`, `tg`, `pl`, `n_threads`,
    /// `is_pp_shared`, `speed_tg`: batched_N is 64 + 64 tokens over N unshared prompts), in any
    /// order and mix. Records of other shapes are skipped; a line that is not such a record is an
    /// error that names it.
    public init(llamaCppJSONLines text: String, file: String) throws {
        self.init(source: "llama.cpp (\((file as NSString).lastPathComponent))")
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty { continue }
            let fail = { (why: String) in ReferenceFileError(file: file, line: index + 1, reason: why) }
            guard let data = line.data(using: .utf8),
                  let record = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
                throw fail("not a JSON object")
            }
            func number(_ key: String) throws -> Double {
                guard let value = record[key] else { throw fail("no field '\(key)'") }
                guard let n = value as? NSNumber, n.doubleValue.isFinite else { throw fail("field '\(key)' is not a number") }
                return n.doubleValue
            }
            func count(_ key: String) throws -> Int {
                let v = try number(key)
                guard v >= 0, v == v.rounded(), v < 1e9 else { throw fail("field '\(key)' is not a count") }
                return Int(v)
            }
            func rate(_ key: String) throws -> Double {
                let v = try number(key)
                guard v > 0 else { throw fail("field '\(key)' is not a positive rate") }
                return v
            }
            if record["n_prompt"] != nil || record["avg_ts"] != nil {          // llama-bench
                let (prompt, generated, threads) = (try count("n_prompt"), try count("n_gen"), try count("n_threads"))
                if prompt == 512 && generated == 0 { pp512[threads] = try rate("avg_ts") }
                if prompt == 0 && generated == 128 { tg128[threads] = try rate("avg_ts") }
            } else if record["speed_tg"] != nil || record["pl"] != nil {       // llama-batched-bench
                let (pp, tg, sequences) = (try count("pp"), try count("tg"), try count("pl"))
                let (threads, shared) = (try count("n_threads"), try count("is_pp_shared"))
                if pp == 64 && tg == 64 && shared == 0 && sequences > 0 {
                    batched[threads, default: [:]][sequences] = try rate("speed_tg")
                }
            } else {
                throw fail("neither a llama-bench record (n_prompt, avg_ts) nor a llama-batched-bench one (pl, speed_tg)")
            }
        }
        if pp512.isEmpty && tg128.isEmpty && batched.isEmpty {
            throw ReferenceFileError(file: file, line: nil, reason: "no pp512, tg128 or 64+64-token batched figures")
        }
    }
}

/// A reference-figures file that cannot be read as llama.cpp's JSON-lines output.
public struct ReferenceFileError: Error, CustomStringConvertible {
    public let file: String
    public let line: Int?
    public let reason: String
    public var description: String { "\(file)\(line.map { ":\($0)" } ?? ""): \(reason)" }
}
