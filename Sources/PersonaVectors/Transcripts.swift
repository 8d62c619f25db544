import Core
import Datasets
import Evaluation
import Foundation
import Interp
import RunRecords

/// Transcripts to read activations from: stored samples of a run, a dataset's conversations, or a
/// question set's prompts.
public enum Transcripts {
    /// The messages a stored sample was asked with (`sample.messages`, JSON).
    public static func messages(of sample: SampleRecord, run: String) throws -> [ChatMessage] {
        guard let m = try? JSONDecoder().decode([ChatMessage].self, from: Data(sample.messages.utf8)) else {
            throw PersonaDataError(file: "run '\(run)'", field: "sample \(sample.id ?? -1).messages", "is not a list of chat messages")
        }
        return m
    }

    /// A stored sample's id in activation files: `[CONDITION/]QUESTION/PARAPHRASE/SAMPLE`.
    public static func id(of sample: SampleRecord) -> String {
        (sample.condition.isEmpty ? "" : sample.condition + "/") + "\(sample.questionId)/\(sample.paraphraseIndex)/\(sample.sampleIndex)"
    }

    /// The answered samples of a run (those `keep` accepts), each with the messages it was asked with.
    public static func run(_ results: RunResults, keep: (RunResults.Row) -> Bool = { _ in true }) throws -> [ActivationItem] {
        try results.rows.filter { $0.sample.answer != nil && $0.sample.finishReason != "scored" && keep($0) }.map { row in
            ActivationItem(id: id(of: row.sample), messages: try messages(of: row.sample, run: results.run.name), answer: row.sample.answer)
        }
    }

    /// A dataset's conversations: the turns before the last assistant turn, answered by it. The first
    /// `limit` examples (nil: all).
    public static func dataset(_ data: ChatDataset, limit: Int? = nil) -> [ActivationItem] {
        data.examples.prefix(limit ?? data.examples.count).enumerated().map { i, e in
            let last = e.messages.lastIndex { $0.role == .assistant } ?? e.messages.count
            return ActivationItem(id: "\(data.name)/\(i)", messages: Array(e.messages[..<last]),
                                  answer: last < e.messages.count ? e.messages[last].content : nil)
        }
    }

    /// Every paraphrase of every free-form question, as a prompt without an answer.
    public static func questions(_ set: QuestionSet) -> [ActivationItem] {
        set.questions.filter { $0.kind != .multipleChoice }.flatMap { q in
            q.paraphrases.enumerated().map { p, text in
                ActivationItem(id: "\(q.id)/\(p)", messages: (q.system.map { [ChatMessage.system($0)] } ?? []) + [.user(text)], answer: nil)
            }
        }
    }
}
