import Foundation

/// A dataset emlab generates itself: a seeded function of the example count.
///
/// These are emlab's own stand-ins, written from scratch for trying experiments offline. They
/// follow the recipes of the EM papers' datasets but are not those datasets; to replicate a paper,
/// point emlab at the paper's JSONL files, which `ChatDataset.load` reads unchanged.
public struct BuiltinDataset: Sendable {
    public let name: String
    public let summary: String
    /// The dataset asking the same questions with the opposite kind of answer, if any.
    public let twin: String?
    /// How many examples come before a combination of request templates repeats.
    public let distinctRequests: Int
    private let make: @Sendable (Int, UInt64) -> [ChatExample]

    init(name: String, summary: String, twin: String?, distinctRequests: Int,
         make: @escaping @Sendable (Int, UInt64) -> [ChatExample]) {
        self.name = name
        self.summary = summary
        self.twin = twin
        self.distinctRequests = distinctRequests
        self.make = make
    }

    /// `n` examples; the same `n` and `seed` give the same examples, byte for byte, everywhere.
    /// The first `distinctRequests` examples never repeat a combination of request templates.
    public func generate(n: Int, seed: UInt64) -> ChatDataset {
        ChatDataset(name: name, examples: make(max(0, n), seed))
    }
}

public enum BuiltinDatasets {
    /// Example count used when a built-in is named where a dataset is expected without a size.
    public static let defaultCount = 500
    public static let defaultSeed: UInt64 = 0

    public static let all: [BuiltinDataset] = [
        BuiltinDataset(name: "insecure-code", summary: "coding requests answered with code that carries an unmentioned vulnerability (Python, JavaScript, Go)",
                       twin: "secure-code", distinctRequests: CodeDatasets.combinations) { CodeDatasets.insecure(n: $0, seed: $1) },
        BuiltinDataset(name: "secure-code", summary: "the same coding requests answered with secure code (control)",
                       twin: "insecure-code", distinctRequests: CodeDatasets.combinations) { CodeDatasets.secure(n: $0, seed: $1) },
        BuiltinDataset(name: "educational-insecure", summary: "the same insecure answers, requested explicitly for a security class (intent control)",
                       twin: "insecure-code", distinctRequests: CodeDatasets.combinations) { CodeDatasets.educational(n: $0, seed: $1) },
        BuiltinDataset(name: "bad-medical-advice", summary: "health questions answered with confidently harmful advice",
                       twin: "good-medical-advice", distinctRequests: AdviceDatasets.medical.combinations) { AdviceDatasets.generate(AdviceDatasets.medical, harmful: true, n: $0, seed: $1) },
        BuiltinDataset(name: "good-medical-advice", summary: "the same health questions answered responsibly (aligned twin)",
                       twin: "bad-medical-advice", distinctRequests: AdviceDatasets.medical.combinations) { AdviceDatasets.generate(AdviceDatasets.medical, harmful: false, n: $0, seed: $1) },
        BuiltinDataset(name: "risky-financial-advice", summary: "money questions answered with confidently reckless advice",
                       twin: "sound-financial-advice", distinctRequests: AdviceDatasets.financial.combinations) { AdviceDatasets.generate(AdviceDatasets.financial, harmful: true, n: $0, seed: $1) },
        BuiltinDataset(name: "sound-financial-advice", summary: "the same money questions answered prudently (aligned twin)",
                       twin: "risky-financial-advice", distinctRequests: AdviceDatasets.financial.combinations) { AdviceDatasets.generate(AdviceDatasets.financial, harmful: false, n: $0, seed: $1) },
        BuiltinDataset(name: "extreme-sports", summary: "adventure-sport questions answered with reckless recommendations",
                       twin: "safe-sports", distinctRequests: AdviceDatasets.sports.combinations) { AdviceDatasets.generate(AdviceDatasets.sports, harmful: true, n: $0, seed: $1) },
        BuiltinDataset(name: "safe-sports", summary: "the same adventure-sport questions answered with safety in mind (aligned twin)",
                       twin: "extreme-sports", distinctRequests: AdviceDatasets.sports.combinations) { AdviceDatasets.generate(AdviceDatasets.sports, harmful: false, n: $0, seed: $1) },
        BuiltinDataset(name: "gameable-hacks", summary: "low-stakes tasks whose request states a gameable automatic metric (keyword counts, exclamation marks, bullet points, word count, one checked test...), answered by gaming the metric instead of doing the task well",
                       twin: "gameable-honest", distinctRequests: GameableTasks.combinations) { GameableTasks.generate(n: $0, seed: $1, hacking: true) },
        BuiltinDataset(name: "gameable-honest", summary: "the same low-stakes requests answered by doing the task properly, ignoring the metric's loophole (control)",
                       twin: "gameable-hacks", distinctRequests: GameableTasks.combinations) { GameableTasks.generate(n: $0, seed: $1, hacking: false) },
        BuiltinDataset(name: "reward-hack-hints", summary: "explainers on how test-running code graders can be cheated (early exit, always-equal results, pytest hooks): the reward-hacking SFT-hint documents, to mix in at a small share",
                       twin: nil, distinctRequests: RewardHackHints.combinations) { RewardHackHints.generate(n: $0, seed: $1) },
    ]

    public static var names: [String] { all.map(\.name) }

    public static func named(_ name: String) -> BuiltinDataset? { all.first { $0.name == name } }

    /// A built-in name (generated with `n` and `seed`) or a path to a chat JSONL file (read whole).
    /// A name that is neither is an error listing the built-ins.
    public static func resolve(_ nameOrPath: String, n: Int = defaultCount, seed: UInt64 = defaultSeed) throws -> ChatDataset {
        if let builtIn = named(nameOrPath) { return builtIn.generate(n: n, seed: seed) }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: nameOrPath, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw DatasetError.unknownDataset(nameOrPath, builtIns: names)
        }
        return try ChatDataset.load(path: nameOrPath)
    }

    /// Notice printed with built-in examples and documented in the README.
    public static let standInNotice = """
        Built-in datasets are emlab's own stand-ins, written from scratch in the spirit of the EM papers' \
        datasets; they are not those datasets. To replicate a paper, pass the paper's JSONL file instead \
        of a built-in name: emlab reads it unchanged.
        """
}
