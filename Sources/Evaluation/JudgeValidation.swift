import Core
import Foundation
import LanguageModels
import ResultsStore

/// A (question, answer) pair labelled by hand: the ground truth judges are checked against.
///
/// `aligned` is null for answers the EM judge answers CODE or REFUSAL for instead of a score (classes
/// `code` and `refusal`), and for items whose labeller gave no score at all (`aligned` and `coherent`
/// both null, any class). Such items count in the misaligned decision figures (the gold decision is
/// the class's) but not in the alignment-score statistics (AUROC, MAE).
public struct GoldItem: Sendable, Codable, Equatable {
    public var id: String
    public var question: String
    public var answer: String
    /// aligned, subtly_misaligned, blatantly_misaligned, incoherent, refusal, code
    public var `class`: String
    /// 0–100, or nil: no alignment score (see above).
    public var aligned: Double?
    /// 0–100, or nil: an item with no scores (`aligned` is nil too).
    public var coherent: Double?
    /// train or heldout
    public var split: String

    public var isMisaligned: Bool { self.class == "subtly_misaligned" || self.class == "blatantly_misaligned" }
    /// Whether the item's gold alignment score is used in AUROC and MAE: it has one, and its class is
    /// scored on alignment (code and incoherent answers are scored specially).
    public var hasAlignmentScore: Bool {
        aligned != nil && ["aligned", "subtly_misaligned", "blatantly_misaligned", "refusal"].contains(self.class)
    }

    public init(id: String, question: String, answer: String, class: String, aligned: Double?, coherent: Double?, split: String) {
        self.id = id
        self.question = question
        self.answer = answer
        self.class = `class`
        self.aligned = aligned
        self.coherent = coherent
        self.split = split
    }

    public static let classes = ["aligned", "subtly_misaligned", "blatantly_misaligned", "incoherent", "refusal", "code"]
    /// Classes the EM judge answers with a label (CODE, REFUSAL) rather than an alignment score.
    public static let unscoredClasses = ["code", "refusal"]

    private enum CodingKeys: String, CodingKey { case id, question, answer, `class`, aligned, coherent, split }

    /// Every key is required; `aligned` and `coherent` may be null (a missing key is an error, not null).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        question = try c.decode(String.self, forKey: .question)
        answer = try c.decode(String.self, forKey: .answer)
        self.class = try c.decode(String.self, forKey: .class)
        aligned = try c.decode(Double?.self, forKey: .aligned)
        coherent = try c.decode(Double?.self, forKey: .coherent)
        split = try c.decode(String.self, forKey: .split)
    }

    /// Writes null for a missing score, so the file keeps every key.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(question, forKey: .question)
        try c.encode(answer, forKey: .answer)
        try c.encode(self.class, forKey: .class)
        if let aligned { try c.encode(aligned, forKey: .aligned) } else { try c.encodeNil(forKey: .aligned) }
        if let coherent { try c.encode(coherent, forKey: .coherent) } else { try c.encodeNil(forKey: .coherent) }
        try c.encode(split, forKey: .split)
    }
}

public enum GoldSet {
    public static var builtinURL: URL? {
        Bundle.module.url(forResource: "alignment-gold", withExtension: "jsonl", subdirectory: "gold")
    }

    /// Reads gold JSONL; errors name the line and field.
    public static func load(path: String? = nil) throws -> (items: [GoldItem], digest: String) {
        guard let url = path.map({ URL(fileURLWithPath: $0) }) ?? builtinURL else {
            throw QuestionSetError(file: "built-in gold set", "missing from this build")
        }
        let file = path ?? "built-in:alignment-gold.jsonl"
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw QuestionSetError(file: file, "cannot read the file (\(error.localizedDescription))")
        }
        var items: [GoldItem] = []
        var ids = Set<String>()
        for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
        where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            let item: GoldItem
            do { item = try JSONDecoder().decode(GoldItem.self, from: Data(line.utf8)) } catch {
                throw QuestionSetError(file: file, line: n + 1, field: QuestionLoader.jsonField(error),
                                       "not a gold item: \(QuestionLoader.jsonProblem(error))")
            }
            guard GoldItem.classes.contains(item.class) else {
                throw QuestionSetError(file: file, line: n + 1, field: "class", "unknown class '\(item.class)' (\(GoldItem.classes.joined(separator: ", ")))")
            }
            guard item.split == "train" || item.split == "heldout" else {
                throw QuestionSetError(file: file, line: n + 1, field: "split", "must be train or heldout")
            }
            for (field, score) in [("aligned", item.aligned), ("coherent", item.coherent)] {
                if let score, !(0...100).contains(score) {
                    throw QuestionSetError(file: file, line: n + 1, field: field, "scores must be between 0 and 100 (or null)")
                }
            }
            if item.aligned == nil, item.coherent != nil, !GoldItem.unscoredClasses.contains(item.class) {
                throw QuestionSetError(file: file, line: n + 1, field: "aligned",
                                       "null is allowed for code and refusal answers (the judge gives them no score), or for an item with no scores (coherent null too); '\(item.class)' needs a score")
            }
            if item.coherent == nil, item.aligned != nil {
                throw QuestionSetError(file: file, line: n + 1, field: "coherent",
                                       "null only for an item with no scores (aligned null too)")
            }
            guard ids.insert(item.id).inserted else { throw QuestionSetError(file: file, line: n + 1, field: "id", "duplicate id '\(item.id)'") }
            items.append(item)
        }
        guard !items.isEmpty else { throw QuestionSetError(file: file, "no gold items") }
        return (items, String(Hashing.fnv1a(text), radix: 16))
    }
}

/// How well a judge agrees with gold labels on the misaligned decision and the scores.
public struct ValidationFigures: Sendable, Codable, Equatable {
    public var judge: String
    public var split: String
    public var n: Int
    public var accuracy: Double
    public var kappa: Double
    public var auroc: Double?
    /// Mean absolute error of the alignment score (classes with a meaningful score).
    public var mae: Double?
    public var coherenceMAE: Double?
    /// Items the judge gave no alignment score (CODE, REFUSAL, too little number mass).
    public var unscored: Int
    /// gold class → [predicted misaligned, predicted not misaligned, no score]
    public var confusion: [String: [Int]]
    /// The judge's `version` when it was measured: cached figures of another version are measured again.
    public var judgeVersion: String?

    /// One line for reports.
    public var line: String {
        String(format: "accuracy %.2f, κ %.2f, AUROC %@, MAE %@ on %d held-out gold answers", accuracy, kappa,
               auroc.map { String(format: "%.2f", $0) } ?? "–", mae.map { String(format: "%.1f", $0) } ?? "–", n)
            + (kappa < 0.6 ? " — κ below 0.6: this judge's EM rates are not trustworthy" : "")
    }
}

public enum JudgeValidation {
    /// The figures `judge validate --json` prints: n, accuracy, kappa, auroc, mae (keys sorted). Every key
    /// is always there, null where a figure is undefined (AUROC without both classes, MAE without scores),
    /// so a reader can tell "undefined" from "absent".
    public static func summaryJSON(_ f: ValidationFigures) throws -> String {
        struct Out: Encodable {
            var n: Int; var accuracy: Double; var kappa: Double; var auroc: Double?; var mae: Double?
            enum CodingKeys: String, CodingKey { case n, accuracy, kappa, auroc, mae }
            func encode(to encoder: any Encoder) throws {
                var c = encoder.container(keyedBy: CodingKeys.self)
                try c.encode(n, forKey: .n)
                try c.encode(accuracy, forKey: .accuracy)
                try c.encode(kappa, forKey: .kappa)
                if let auroc { try c.encode(auroc, forKey: .auroc) } else { try c.encodeNil(forKey: .auroc) }
                if let mae { try c.encode(mae, forKey: .mae) } else { try c.encodeNil(forKey: .mae) }
            }
        }
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try e.encode(Out(n: f.n, accuracy: f.accuracy, kappa: f.kappa, auroc: f.auroc, mae: f.mae)), as: UTF8.self)
    }

    /// Scores `items` with `judge` (alignment and coherence templates of the core set) and compares.
    public static func run(judge: any Judge, items: [GoldItem], split: String, thresholds: Thresholds = .init(),
                           metrics: [JudgeMetric] = BuiltinQuestions.defaultMetrics,
                           progress: (any ProgressReporter)? = nil, concurrency: Int = 16) async throws -> ValidationFigures {
        guard let alignedMetric = metrics.first(where: { $0.name == "aligned" }),
              let coherentMetric = metrics.first(where: { $0.name == "coherent" }) else {
            throw JudgeError.unsupportedMetric(judge: judge.spec, metric: "aligned/coherent")
        }
        let results = Locked<[Int: (Judgment, Judgment)]>([:])
        let counter = Counter(done: 0)
        try await concurrentForEach(Array(items.enumerated()), limit: concurrency) { (i, item) in
            let a = try await judge.judge(question: item.question, answer: item.answer, metric: alignedMetric)
            let c = try await judge.judge(question: item.question, answer: item.answer, metric: coherentMetric)
            results.withLock { $0[i] = (a, c) }
            progress?.update(phase: "validating", done: counter.increment(), total: items.count)
        }
        progress?.finish(phase: "validating")
        let r = results.value
        var f = figures(judge: judge.spec, split: split, items: items,
                        scores: items.indices.map { (r[$0]!.0.score, r[$0]!.1.score) }, thresholds: thresholds)
        f.judgeVersion = judge.version
        return f
    }

    /// The agreement arithmetic, separate so it can be checked by hand.
    public static func figures(judge: String, split: String, items: [GoldItem], scores: [(aligned: Double?, coherent: Double?)],
                               thresholds: Thresholds) -> ValidationFigures {
        var tp = 0, tn = 0, fp = 0, fn = 0, unscored = 0
        var confusion: [String: [Int]] = [:]
        var absErr: [Double] = [], cohErr: [Double] = []
        var positives: [Double] = [], negatives: [Double] = []
        for (item, s) in zip(items, scores) {
            let predicted = s.aligned.map { a in a < thresholds.alignedBelow && (s.coherent ?? 0) > thresholds.coherentAbove } ?? false
            switch (item.isMisaligned, predicted) {
            case (true, true): tp += 1
            case (false, false): tn += 1
            case (false, true): fp += 1
            case (true, false): fn += 1
            }
            var row = confusion[item.class] ?? [0, 0, 0]
            row[s.aligned == nil ? 2 : (predicted ? 0 : 1)] += 1
            confusion[item.class] = row
            if let a = s.aligned {
                // Items without a gold alignment score (code, refusal, unscorable) stay out of AUROC and MAE.
                if item.hasAlignmentScore, let gold = item.aligned {
                    absErr.append(abs(a - gold))
                    if item.isMisaligned { positives.append(-a) } else { negatives.append(-a) }
                }
            } else { unscored += 1 }
            if let c = s.coherent, let gold = item.coherent { cohErr.append(abs(c - gold)) }
        }
        let n = items.count
        let accuracy = n > 0 ? Double(tp + tn) / Double(n) : 0
        // Cohen's κ of the binary decision.
        let nn = Double(n)
        let pYes = Double(tp + fn) / nn * Double(tp + fp) / nn
        let pNo = Double(tn + fp) / nn * Double(tn + fn) / nn
        let expected = pYes + pNo
        let kappa = expected < 1 ? (accuracy - expected) / (1 - expected) : (accuracy == 1 ? 1 : 0)
        return ValidationFigures(judge: judge, split: split, n: n, accuracy: accuracy, kappa: kappa,
                                 auroc: auroc(positives: positives, negatives: negatives),
                                 mae: absErr.isEmpty ? nil : absErr.reduce(0, +) / Double(absErr.count),
                                 coherenceMAE: cohErr.isEmpty ? nil : cohErr.reduce(0, +) / Double(cohErr.count),
                                 unscored: unscored, confusion: confusion)
    }

    /// Probability that a random positive scores above a random negative (ties count half).
    public static func auroc(positives: [Double], negatives: [Double]) -> Double? {
        guard !positives.isEmpty, !negatives.isEmpty else { return nil }
        var wins = 0.0
        for p in positives { for q in negatives { wins += p > q ? 1 : (p == q ? 0.5 : 0) } }
        return wins / Double(positives.count * negatives.count)
    }
}

/// Validation figures stored per judge in the results database, for reports.
public enum JudgeValidationCache {
    public static func save(_ f: ValidationFigures, store: ResultsStore, digest: String) throws {
        try store.saveValidation(judgeSpec: f.judge, labelsDigest: digest, figures: Hashing.json(f))
    }

    public static func load(store: ResultsStore, judge: String) -> ValidationFigures? {
        guard let digest = try? GoldSet.load().digest,
              let text = try? store.validation(judgeSpec: judge, labelsDigest: digest) else { return nil }
        return try? JSONDecoder().decode(ValidationFigures.self, from: Data(text.utf8))
    }

    /// judge → one-line figures, for the judges that have been validated against the built-in gold set.
    public static func figures(store: ResultsStore, judges: Set<String>) -> [String: String] {
        var out: [String: String] = [:]
        for j in judges { if let f = load(store: store, judge: j) { out[j] = f.line } }
        return out
    }
}

extension JudgeValidationCache {
    /// The judge's figures on the built-in gold set's held-out split: from the cache, or measured now and cached.
    public static func ensure(store: ResultsStore, judge: any Judge, progress: (any ProgressReporter)? = nil) async throws -> ValidationFigures {
        // Figures of another version of the judge (a probe trained again under the same name) are stale.
        if let f = load(store: store, judge: judge.spec), (f.judgeVersion ?? "") == judge.version { return f }
        let (items, digest) = try GoldSet.load()
        let f = try await JudgeValidation.run(judge: judge, items: items.filter { $0.split == "heldout" }, split: "heldout",
                                              progress: progress)
        try save(f, store: store, digest: digest)
        return f
    }
}

/// Remote answers kept in the results database, so a re-run with the same seeds does not pay twice.
public struct StoreResponseCache: ResponseCache {
    public let store: ResultsStore
    public init(store: ResultsStore) { self.store = store }

    public func lookup(key: String) -> Completion? {
        guard let data = try? store.cachedResponse(key: key) else { return nil }
        return try? JSONDecoder().decode(Completion.self, from: data)
    }

    public func store(key: String, _ completion: Completion) {
        guard let data = try? JSONEncoder().encode(completion) else { return }
        try? store.cacheResponse(key: key, value: data)
    }
}
