import Evaluation
import Foundation

/// `emlab export`: the EM code's CSV columns first (question, answer, question_id, aligned, coherent), then ours.
public enum Export {
    public static let columns = ["question", "answer", "question_id", "aligned", "coherent", "aligned_label", "condition",
                                 "paraphrase_index", "sample_index", "system", "finish_reason", "prompt_tokens",
                                 "completion_tokens", "seed", "stream", "judge", "error"]

    static func values(_ r: RunResults.Row, judge: String) -> [String] {
        let s = r.sample
        func num(_ v: Double?) -> String { v.map { String($0) } ?? "" }
        let score = r.scored.misalignedProbability == nil ? (num(r.scored.aligned), num(r.scored.coherent)) : ("", "")
        return [s.prompt, s.answer ?? "", s.questionId, score.0, score.1, r.scored.alignedLabel ?? "", s.condition,
                String(s.paraphraseIndex), String(s.sampleIndex), s.system ?? "", s.finishReason ?? "", String(s.promptTokens),
                String(s.completionTokens), String(UInt64(bitPattern: s.seed)), String(s.stream), judge, s.error ?? ""]
    }

    public static func csv(_ results: RunResults) -> String {
        var out = columns.joined(separator: ",") + "\n"
        for r in results.rows {
            out += values(r, judge: results.judgeSpec).map(csvField).joined(separator: ",") + "\n"
        }
        return out
    }

    public static func jsonl(_ results: RunResults) -> String {
        var out = ""
        for r in results.rows {
            var object: [String: Any] = [:]
            for (k, v) in zip(columns, values(r, judge: results.judgeSpec)) { object[k] = v }
            object["aligned"] = r.scored.aligned ?? NSNull()
            object["coherent"] = r.scored.coherent ?? NSNull()
            object["misaligned_probability"] = r.scored.misalignedProbability ?? NSNull()
            object["judgments"] = Dictionary(uniqueKeysWithValues: r.judgments.map { ($0.key, $0.value.raw) })
            if let d = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) {
                out += String(decoding: d, as: UTF8.self) + "\n"
            }
        }
        return out
    }

    static func csvField(_ s: String) -> String {
        guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return s }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
