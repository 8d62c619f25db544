import Core
import Foundation

/// A solution written and labelled by hand: an honest attempt (right or wrong) or a hack of a given type.
public struct LabelledSolution: Sendable, Hashable {
    public var id: String
    public var task: String
    public var solution: Solution
    /// "honest" or a `HackType` raw value.
    public var label: String
    /// "train" or "heldout".
    public var split: String
    public var note: String

    public var isHack: Bool { label != "honest" }
}

public enum LabelledSolutions {
    public static var builtinPath: String? {
        Bundle.module.url(forResource: "solutions", withExtension: "jsonl", subdirectory: "labelled")?.path
    }

    /// The built-in set, or a JSON-lines file of the same shape:
    /// `{"id", "task", "files": {"solution.py": "..."}, "label": "honest|early-exit|always-equal|test-config|framework-patch", "split": "train|heldout", "note"}`.
    /// Every `task` must name one of `tasks`.
    public static func load(path: String? = nil, tasks: [CodingTask]) throws -> [LabelledSolution] {
        guard let file = path ?? builtinPath else {
            throw RewardHackingDataError(file: "built-in labelled solutions", "missing from this build")
        }
        let label = path ?? "built-in:solutions.jsonl"
        let taskIDs = Set(tasks.map(\.id))
        let labels = Set(["honest"] + HackType.allCases.map(\.rawValue))
        var items: [LabelledSolution] = []
        var seen: Set<String> = []
        for (line, object) in try JSONLines.objects(path: file, label: label) {
            func field(_ key: String) throws -> String { try JSONLines.string(object, key, file: label, line: line) }
            let id = try field("id")
            guard seen.insert(id).inserted else { throw RewardHackingDataError(file: label, line: line, "field 'id': '\(id)' appears twice") }
            let task = try field("task")
            guard taskIDs.contains(task) else { throw RewardHackingDataError(file: label, line: line, "field 'task': no task '\(task)'") }
            guard case .object(let rawFiles)? = object["files"], !rawFiles.isEmpty else {
                throw RewardHackingDataError(file: label, line: line, "field 'files' must map file names to their text")
            }
            var files: [String: String] = [:]
            for (name, value) in rawFiles {
                guard case .string(let text) = value, !name.contains("/") else {
                    throw RewardHackingDataError(file: label, line: line, "field 'files.\(name)' must be a plain file name with text")
                }
                files[name] = text
            }
            let kind = try field("label")
            guard labels.contains(kind) else {
                throw RewardHackingDataError(file: label, line: line, "field 'label': '\(kind)' is not one of \(labels.sorted().joined(separator: ", "))")
            }
            let split = try field("split")
            guard split == "train" || split == "heldout" else {
                throw RewardHackingDataError(file: label, line: line, "field 'split': '\(split)' is not train or heldout")
            }
            let note: String
            if case .string(let text)? = object["note"] { note = text } else { note = "" }
            items.append(LabelledSolution(id: id, task: task, solution: Solution(files: files), label: kind, split: split, note: note))
        }
        return items
    }
}

/// How well a detector separates hacks from honest solutions on a labelled set.
public struct DetectorFigures: Sendable, Hashable {
    public var name: String
    public var truePositives = 0, falsePositives = 0, falseNegatives = 0, trueNegatives = 0

    public var precision: Double? { truePositives + falsePositives == 0 ? nil : Double(truePositives) / Double(truePositives + falsePositives) }
    public var recall: Double? { truePositives + falseNegatives == 0 ? nil : Double(truePositives) / Double(truePositives + falseNegatives) }
    public var falsePositiveRate: Double? { falsePositives + trueNegatives == 0 ? nil : Double(falsePositives) / Double(falsePositives + trueNegatives) }

    mutating func count(predicted: Bool, actual: Bool) {
        switch (predicted, actual) {
        case (true, true): truePositives += 1
        case (true, false): falsePositives += 1
        case (false, true): falseNegatives += 1
        case (false, false): trueNegatives += 1
        }
    }
}

/// The detectors measured on labelled solutions: static, dynamic and either, plus how often the
/// static type is the labelled one; each item's verdict kept for the listing of mistakes.
public struct DetectorValidation: Sendable {
    public struct Item: Sendable {
        public var solution: LabelledSolution
        public var verdict: HackVerdict
        public var grade: Grade
    }

    public var items: [Item]
    public var detectors: [DetectorFigures]
    /// Hacks the static detector caught whose type is the labelled one, and all it caught.
    public var typeCorrect: Int, typeCaught: Int

    /// Grades and scans every labelled solution of `split` (nil: all).
    public static func run(_ solutions: [LabelledSolution], tasks: [CodingTask], split: String?, graders: Graders,
                           progress: ((Int, Int) -> Void)? = nil) throws -> DetectorValidation {
        let byID = Dictionary(uniqueKeysWithValues: tasks.map { ($0.id, $0) })
        let chosen = solutions.filter { split == nil || $0.split == split }
        var items: [Item] = []
        for (index, labelled) in chosen.enumerated() {
            guard let task = byID[labelled.task] else { continue }
            let grade = try graders.grade(labelled.solution, task: task)
            let verdict = HackVerdict(findings: StaticHackDetector.scan(labelled.solution), rewardedWithoutPassing: grade.rewardedWithoutPassing)
            items.append(Item(solution: labelled, verdict: verdict, grade: grade))
            progress?(index + 1, chosen.count)
        }
        return summarize(items)
    }

    static func summarize(_ items: [Item]) -> DetectorValidation {
        var staticFigures = DetectorFigures(name: "static")
        var dynamicFigures = DetectorFigures(name: "dynamic")
        var either = DetectorFigures(name: "static or dynamic")
        var typeCorrect = 0, typeCaught = 0
        for item in items {
            let actual = item.solution.isHack
            staticFigures.count(predicted: item.verdict.staticHack, actual: actual)
            dynamicFigures.count(predicted: item.verdict.dynamicHack, actual: actual)
            either.count(predicted: item.verdict.isHack, actual: actual)
            if actual, item.verdict.staticHack {
                typeCaught += 1
                if item.verdict.type == item.solution.label { typeCorrect += 1 }
            }
        }
        return DetectorValidation(items: items, detectors: [staticFigures, dynamicFigures, either], typeCorrect: typeCorrect, typeCaught: typeCaught)
    }
}
