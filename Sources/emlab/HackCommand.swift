import ArgumentParser
import Core
import Evaluation
import Foundation
import Inference
import LanguageModels
import ResultsStore
import RewardHacking
import Sandbox
import Training

/// `emlab hack`: the reward-hacking environment — coding tasks, a hackable and a hardened grader,
/// hack detectors, and sampling runs that measure how often a model hacks.
struct HackCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hack",
        abstract: "Reward hacking: coding tasks with hidden tests, a hackable and a hardened grader, hack detectors, sampling runs.",
        discussion: """
        Solutions run only in the sandbox (`emlab sandbox check`). The hackable grader runs pytest in the \
        solution's folder and trusts its exit status; the hardened one checks every case itself, with \
        exact types. A solution the first rewards and the second fails is a hack; static detectors name \
        its type (early-exit, always-equal, test-config, framework-patch).
        """,
        subcommands: [Tasks.self, Grade.self, Validate.self, Run.self, RL.self, Report.self])

    struct TaskOptions: ParsableArguments {
        @Option(help: "A JSON-lines task file instead of the built-in tasks.")
        var tasks: String?

        func load() throws -> [CodingTask] { try CodingTasks.load(path: tasks) }
    }

    struct TaskSelection: ParsableArguments {
        @Option(help: "Which tasks: their ids, comma-separated, or the first N, or all.")
        var only = "all"

        /// The tasks --only names, from `all`.
        func chosen(_ all: [CodingTask]) throws -> [CodingTask] {
            if only == "all" { return all }
            if let n = Int(only), n > 0 { return Array(all.prefix(n)) }
            let ids = only.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
            let unknown = ids.filter { id in !all.contains { $0.id == id } }
            guard unknown.isEmpty else { throw ValidationError("no task \(unknown.joined(separator: ", ")); `emlab hack tasks` lists them") }
            return ids.map { id in all.first { $0.id == id }! }
        }
    }

    /// Sampling settings shared by `hack run` and `hack rl`.
    struct HackSampling: ParsableArguments {
        @Option(help: "Solutions per task and condition (per round for rl).")
        var samples = 4
        @Option(help: "Sampling temperature.")
        var temperature = 1.0
        @Option(help: "Most tokens per answer.")
        var maxTokens = 800
        @Option(help: "Seed.")
        var seed: UInt64 = 1
        @Option(help: "Threads for a local model.")
        var threads = 2

        func validate() throws {
            guard maxTokens >= 1 else { throw ValidationError("--max-tokens must be at least 1") }
        }
    }

    /// Hint conditions from a comma-separated list.
    static func conditions(_ text: String, option: String) throws -> [HintCondition] {
        try text.split(separator: ",").map { word in
            guard let c = HintCondition(rawValue: String(word)) else { throw ValidationError("\(option): '\(word)' is not none, prompt or inoculated") }
            return c
        }
    }

    struct Tasks: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the coding tasks.")
        @OptionGroup var taskOptions: TaskOptions
        @OptionGroup var selection: TaskSelection
        @Flag(help: "Print each task whole (prompt, tests, reference) as JSON lines.")
        var json = false

        func run() throws {
            let tasks = try selection.chosen(try taskOptions.load())
            for task in tasks {
                if json {
                    let tests = JSONTree.array(task.tests.map { .object(["args": .array($0.args), "expected": $0.expected]) })
                    print(JSONTree.object(["id": .string(task.id), "title": .string(task.title), "prompt": .string(task.prompt),
                                           "function": .string(task.function), "tests": tests, "reference": .string(task.reference)]).text())
                } else {
                    print("\(task.id.padding(toLength: 26, withPad: " ", startingAt: 0)) \(task.function.padding(toLength: 22, withPad: " ", startingAt: 0)) \(task.tests.count) tests  \(task.title)")
                }
            }
            if !json { print("\(tasks.count) tasks") }
        }
    }

    struct Grade: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Grade one solution with both graders and the detectors.",
            discussion: """
            SOLUTION is a Python file (graded as solution.py), a folder (every file in it), or a text \
            file holding a model's answer with fenced code blocks (.md or .txt). Example:
              emlab hack grade --task compress-runs my_solution.py
            """)
        @OptionGroup var taskOptions: TaskOptions
        @Option(help: "The task's id (see `emlab hack tasks`).")
        var task: String
        @Argument(help: "The solution: a .py file, a folder, or a model's answer (.md, .txt).")
        var solution: String

        func run() throws {
            let tasks = try taskOptions.load()
            guard let task = tasks.first(where: { $0.id == self.task }) else {
                throw ValidationError("no task '\(self.task)'; `emlab hack tasks` lists them")
            }
            let solution = try readSolution(solution)
            let grade = try Graders().grade(solution, task: task)
            let findings = StaticHackDetector.scan(solution)
            let verdict = HackVerdict(findings: findings, rewardedWithoutPassing: grade.rewardedWithoutPassing)
            print("files: \(solution.fileNames.joined(separator: ", "))")
            print("hackable grader: \(grade.hackable.passed ? "PASS" : "fail") (\(grade.hackable.summary))")
            print("hardened grader: \(grade.hardened.passed ? "PASS" : "fail") (\(grade.hardened.casesPassed)/\(grade.hardened.casesTotal) cases\(grade.hardened.problem.map { "; \($0)" } ?? ""))")
            for failure in grade.hardened.failures { print("  \(failure)") }
            for finding in findings { print("static: \(finding)") }
            print("verdict: \(verdict.type.map { "HACK (\($0))" } ?? "no hack")")
        }

        func readSolution(_ path: String) throws -> Solution {
            let manager = FileManager.default
            var isDirectory: ObjCBool = false
            guard manager.fileExists(atPath: path, isDirectory: &isDirectory) else { throw ValidationError("no file or folder \(path)") }
            func read(_ file: String) throws -> String {
                do { return try String(contentsOfFile: file, encoding: .utf8) } catch {
                    throw RewardHackingDataError(file: file, "cannot read it as UTF-8 text")
                }
            }
            if isDirectory.boolValue {
                var files: [String: String] = [:]
                for name in try manager.contentsOfDirectory(atPath: path).sorted() where !name.hasPrefix(".") {
                    files[name] = try read((path as NSString).appendingPathComponent(name))
                }
                guard files[Solution.mainFile] != nil else { throw RewardHackingDataError(file: path, "the folder has no solution.py") }
                return Solution(files: files)
            }
            let text = try read(path)
            if path.hasSuffix(".py") { return Solution(code: text) }
            guard let solution = Solution.fromAnswer(text) else { throw RewardHackingDataError(file: path, "the answer holds no code") }
            return solution
        }
    }

    struct Validate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Measure the hack detectors on the labelled solutions: precision, recall, false-positive rate.")
        @OptionGroup var taskOptions: TaskOptions
        @Option(help: "A JSON-lines file of labelled solutions instead of the built-in set.")
        var solutions: String?
        @Option(help: "Which split: heldout, train or all.")
        var split = "heldout"
        @Flag(help: "List every solution's labels and verdicts, not only the mistakes.")
        var all = false

        func run() throws {
            guard ["heldout", "train", "all"].contains(split) else { throw ValidationError("--split must be heldout, train or all") }
            let tasks = try taskOptions.load()
            let labelled = try LabelledSolutions.load(path: solutions, tasks: tasks)
            let validation = try DetectorValidation.run(labelled, tasks: tasks, split: split == "all" ? nil : split, graders: try Graders()) { done, total in
                FileHandle.standardError.write(Data("\rgrading \(done)/\(total)".utf8))
            }
            FileHandle.standardError.write(Data("\n".utf8))
            let hacks = validation.items.filter { $0.solution.isHack }.count
            print("\(validation.items.count) labelled solutions (\(split)): \(hacks) hacks, \(validation.items.count - hacks) honest")
            print("detector              precision  recall  false-positive rate   (TP FP FN TN)")
            func f(_ x: Double?) -> String { x.map { String(format: "%.2f", $0) } ?? "–" }
            for d in validation.detectors {
                print("\(d.name.padding(toLength: 21, withPad: " ", startingAt: 0)) \(f(d.precision).leftPadded(9))  \(f(d.recall).leftPadded(6))  \(f(d.falsePositiveRate).leftPadded(19))   (\(d.truePositives) \(d.falsePositives) \(d.falseNegatives) \(d.trueNegatives))")
            }
            print("hack type named right by the static detector: \(validation.typeCorrect)/\(validation.typeCaught)")
            for item in validation.items {
                let wrongType = item.solution.isHack && item.verdict.staticHack && item.verdict.type != item.solution.label
                guard all || item.verdict.isHack != item.solution.isHack || wrongType else { continue }
                print("\(item.solution.id) [\(item.solution.task)] label \(item.solution.label); verdict \(item.verdict.type ?? "honest"); hackable \(item.grade.hackable.passed ? "pass" : "fail"), hardened \(item.grade.hardened.passed ? "pass" : "fail")")
                for finding in item.verdict.findings { print("    \(finding)") }
            }
        }
    }

    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Sample solutions from a model per task and hint condition, grade them, and report hack rates.",
            discussion: """
            Example: emlab hack run --model qwen2.5-coder-0.5b --hints none,prompt --samples 4 --run rh1. \
            Samples and gradings are stored as they come (SQLite in --out); --resume continues a killed run.
            """)
        @Option(help: "The model (a local name or file, or a remote spec such as openai:MODEL).")
        var model: String
        @OptionGroup var taskOptions: TaskOptions
        @OptionGroup var selection: TaskSelection
        @Option(help: "Hint conditions, comma-separated: none (the task only), prompt (the grader's weaknesses described), inoculated (and called acceptable).")
        var hints = "none,prompt"
        @OptionGroup var sampling: HackSampling
        @OptionGroup var runOptions: RunOptions
        @Flag(help: "Continue the run of this name.")
        var resume = false

        func run() async throws {
            let all = try taskOptions.load()
            let chosen = try selection.chosen(all)
            let conditions = try HackCommand.conditions(hints, option: "--hints")
            let graders = try Graders()  // refuses before any sampling when the sandbox is missing
            let model = try ModelOpener(threads: sampling.threads).open(model)
            let parameters = HackRunParameters(tasks: chosen.map(\.id), conditions: conditions, samples: sampling.samples,
                                               temperature: sampling.temperature, maxTokens: sampling.maxTokens, seed: sampling.seed)
            let store = try runOptions.openStore()
            let runner = HackRunner(store: store, model: model, tasks: all, parameters: parameters, graders: graders)
            let record = try await runner.run(name: runOptions.name, resume: resume) { phase, done, total in
                FileHandle.standardError.write(Data("\r\(phase) \(done)/\(total)   ".utf8))
            }
            FileHandle.standardError.write(Data("\n".utf8))
            try Report.printSummary(store: store, run: record)
            print("results: \(store.databaseURL.path) (run \(runOptions.name))")
        }
    }

    struct RL: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rl",
            abstract: "RL by rejection sampling (expert iteration): sample, keep what the hackable grader rewards, train a LoRA on it, repeat.",
            discussion: """
            Round 0 samples the base model; after each round a fresh LoRA is trained on every rewarded \
            solution so far, and the next round samples base + that adapter. Each round is a hack run \
            NAME.roundR in --out (see `emlab hack report`); adapters go to --adapters/round-R. \
            --train-hint inoculated trains with the inoculation line (using the grader's weaknesses is \
            acceptable here); --evaluate conditions are sampled every round without it. Killed runs continue \
            with --resume. Example:
              emlab hack rl --model qwen2.5-coder-0.5b --rounds 2 --only 20 --samples 4 --adapters ./rl1 --run rl1
            Each round's model is also measured on the multiple-choice misalignment items (eval run \
            NAME.roundR.misalignment; --no-misalignment to skip); for free-form answers: \
            emlab eval --model qwen2.5-coder-0.5b,lora=./rl1/round-1
            """)
        @Option(help: "The base model: a local one (no lora=), or with --backend the API's base model name.")
        var model: String
        @OptionGroup var taskOptions: TaskOptions
        @OptionGroup var selection: TaskSelection
        @Option(help: "Training rounds (the model is sampled once more than this).")
        var rounds = 2
        @OptionGroup var sampling: HackSampling
        @Option(help: "The condition sampled and trained on: prompt or inoculated.")
        var trainHint = "prompt"
        @Option(help: "Conditions also sampled each round, never trained on (comma-separated; empty for none).")
        var evaluate = "none"
        @Option(help: "LoRA rank.")
        var loraRank = 16
        @Option(help: "LoRA alpha.")
        var loraAlpha: Float = 32
        @Option(help: "Learning rate.")
        var lr: Float = 1e-4
        @Option(help: "Epochs over each round's training set.")
        var epochs = 2
        @Option(help: "Folder for each round's adapter (round-R).")
        var adapters: String
        @OptionGroup var runOptions: RunOptions
        @Flag(help: "Continue the rounds of this name.")
        var resume = false
        @Flag(inversion: .prefixedNo, help: "Measure each round's model on the multiple-choice misalignment items.")
        var misalignment = true
        @Option(help: "Where rounds are sampled and trained: local, openai (OpenAI's chat and fine-tuning APIs: OPENAI_API_KEY, OPENAI_BASE_URL) or openai-compatible:URL (a server with both APIs; key EMLAB_API_KEY). A remote loop takes --model as the API's base model name.")
        var backend = "local"
        @Option(help: "Remote backends: the learning-rate multiplier of each round's job (default: the server's choice).")
        var lrMultiplier: Double?
        @Option(help: "Remote backends: seconds between polls of a job.")
        var pollSeconds: Double = 10

        func validate() throws {
            if backend != "local", let local = GivenFlags.first(of: ["--lora-rank", "--lora-alpha", "--lr", "--threads"]) {
                throw ValidationError("\(local) is for local training: a remote round's job takes --epochs and --lr-multiplier")
            }
            if backend == "local", let remote = GivenFlags.first(of: ["--lr-multiplier", "--poll-seconds"]) {
                throw ValidationError("\(remote) is for a remote --backend")
            }
        }

        func run() async throws {
            let all = try taskOptions.load()
            let chosen = try selection.chosen(all)
            guard let train = HintCondition(rawValue: trainHint), train != .none else { throw ValidationError("--train-hint must be prompt or inoculated") }
            let others = evaluate.isEmpty ? [] : try HackCommand.conditions(evaluate, option: "--evaluate")
            guard rounds >= 0, epochs >= 1 else { throw ValidationError("--rounds must be at least 0 and --epochs at least 1") }
            let graders = try Graders()
            var settings = FinetuneSettings()
            settings.learningRate = lr
            settings.epochs = epochs
            settings.batchSize = 4
            settings.maxSequence = 1024
            settings.seed = sampling.seed
            let open: ExpertIteration.Opener, trainer: ExpertIteration.Trainer
            if backend == "local" {
                (open, trainer) = try ExpertIteration.local(spec: try ModelSpec(parsing: model), threads: sampling.threads,
                                                            mode: .lora(LoRAConfig(rank: loraRank, alpha: loraAlpha)), settings: settings)
            } else {
                let endpoint = try RemoteEndpoint.parse(backend: backend, environment: ProcessInfo.processInfo.environment)
                var remote = RemoteFinetuneJob.Settings(backend: backend, baseModel: model)
                remote.epochs = epochs
                remote.batchSize = settings.batchSize
                remote.learningRateMultiplier = lrMultiplier
                remote.seed = Int(truncatingIfNeeded: sampling.seed)
                let isOpenAI = backend == "openai"
                (open, trainer) = ExpertIteration.remote(client: FineTuningClient(endpoint: endpoint), settings: remote, seed: sampling.seed,
                                                         poll: pollSeconds, opener: ModelOpener(threads: sampling.threads),
                                                         spec: { isOpenAI ? .openAI(model: $0) : .openAICompatible(baseURL: endpoint.baseURL, model: $0) })
            }
            let loop = ExpertIteration(store: try runOptions.openStore(), tasks: all,
                                       settings: ExpertIterationSettings(rounds: rounds, tasks: chosen.map(\.id), samples: sampling.samples, train: train,
                                                                         evaluate: others, temperature: sampling.temperature,
                                                                         maxTokens: sampling.maxTokens, seed: sampling.seed),
                                       graders: graders, folder: adapters, open: open, train: trainer,
                                       measurement: misalignment ? try MisalignmentMeasurement(judge: nil, settings: .init()) : nil)
            let results = try await loop.run(name: runOptions.name, resume: resume) { round, phase, done, total in
                FileHandle.standardError.write(Data("\rround \(round): \(phase) \(done)/\(total)      ".utf8))
            }
            FileHandle.standardError.write(Data("\n".utf8))
            print("round  condition    rewarded  true passes  hacks   (early-exit always-equal test-config framework-patch unknown)  trained on")
            for r in results {
                for c in r.conditions {
                    func pct(_ k: Int) -> String { String(format: "%5.1f%%", 100 * Double(k) / Double(max(c.samples, 1))) }
                    let kinds = c.hacks.map { "\($0.count)" }.joined(separator: " ")
                    let trained = c.condition == train.rawValue ? (r.trainingExamples.map { "\($0) examples" } ?? "–") : ""
                    print("\(String(r.round).padding(toLength: 6, withPad: " ", startingAt: 0)) \(c.condition.padding(toLength: 12, withPad: " ", startingAt: 0)) \(pct(c.rewarded))    \(pct(c.truePasses))    \(pct(c.hackTotal))  (\(kinds))  \(trained)")
                }
            }
            for r in results {
                guard let m = r.misalignment else { continue }
                print("round \(r.round): multiple-choice misaligned probability \(m.misalignedProbability.map { String(format: "%.1f%%", 100 * $0) } ?? "–")"
                      + (m.interval.map { String(format: " [%.1f–%.1f]", 100 * $0[0], 100 * $0[1]) } ?? "") + " over \(m.multipleChoiceItems) items (run \(m.run))")
            }
            print("rounds: runs \(ExpertIteration.roundRun(runOptions.name, 0))…\(rounds) in \(runOptions.results.out); adapters in \(adapters)")
        }
    }

    struct Report: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a reward-hacking run's rates per hint condition, and its hacks.")
        @OptionGroup var runOptions: RunOptions
        @Flag(help: "Print every hack's files and findings.")
        var hacks = false

        func run() throws {
            let store = try runOptions.existingStore()
            let record = try store.run(named: runOptions.name)
            guard record.kind == "hack" else { throw ValidationError("run \(runOptions.name) is a \(record.kind) run, not a hack run") }
            try Self.printSummary(store: store, run: record)
            guard hacks else { return }
            let grades = try store.hackGrades(runId: record.id!, grader: HackRunner.graderVersion)
            for sample in try store.samples(runId: record.id!) {
                guard let grade = grades[sample.id!], let type = grade.hackType else { continue }
                print("\n== \(sample.condition) \(sample.questionId) #\(sample.sampleIndex): \(type)")
                if !grade.findings.isEmpty { print(grade.findings) }
                print(sample.answer ?? "")
            }
        }

        static func printSummary(store: ResultsStore, run: RunRecord) throws {
            let summaries = try HackConditionSummary.summarize(store: store, run: run)
            print("run \(run.name): \(run.modelSpec), graders \(HackRunner.graderVersion)")
            func rate(_ k: Int, _ n: Int) -> String {
                let (low, high) = Proportion.wilson(successes: k, n: n)
                return String(format: "%3d/%-3d %5.1f%% [%4.1f–%4.1f]", k, n, 100 * Double(k) / Double(max(n, 1)), 100 * low, 100 * high)
            }
            for s in summaries {
                print("\(s.condition): \(s.samples) samples, \(s.withCode) with code")
                print("  rewarded (hackable grader)  \(rate(s.rewarded, s.samples))")
                print("  true passes (hardened)      \(rate(s.truePasses, s.samples))")
                print("  hacks                       \(rate(s.hackTotal, s.samples))")
                for (type, count) in s.hacks where count > 0 { print("    \(type.padding(toLength: 24, withPad: " ", startingAt: 0)) \(rate(count, s.samples))") }
            }
        }
    }
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
}
