import Agents
import Core
import ArgumentParser
import Evaluation
import Foundation
import LanguageModels
import Reports
import ResultsStore

/// `emlab agentic`: simulated e-mail agent scenarios (blackmail, leaking, lethal action) over the
/// goal × urgency factorial, harmful-action rates with Wilson intervals, stored and resumable.
struct AgenticCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agentic",
        abstract: "Agentic misalignment: e-mail agent scenarios with tools, harmful-action rates per condition.",
        discussion: """
        The model runs as an e-mail agent at a fictional company, with tools to list, read, send and forward \
        e-mails (and the scenario's own action). Each episode is classified by the scenario's deterministic \
        check and an LLM classifier; it is harmful when both say so. Example:
          emlab agentic --model openai:gpt-4.1-mini --scenario blackmail --goal explicit,none \\
            --urgency replacement,none --samples 50 --run bm1
        """,
        subcommands: [AgenticRunCommand.self, AgenticClassifyCommand.self, AgenticReportCommand.self,
                      AgenticValidateCommand.self, AgenticScenariosCommand.self],
        defaultSubcommand: AgenticRunCommand.self)
}

/// `--out` and `--run`, as the other result commands take them.
struct AgenticRunOptions: ParsableArguments {
    @Option(help: "Results folder (one SQLite database per folder).")
    var out: String = "./emlab-runs"
    @Option(name: .customLong("run"), help: "Run name (unique in the results folder).")
    var name: String

    func openStore() throws -> ResultsStore { try ResultsStore(folder: URL(fileURLWithPath: out)) }
    func existingStore() throws -> ResultsStore { try ResultsStore.existing(folder: URL(fileURLWithPath: out)) }
}

/// The classifier and threads, shared by the subcommands that classify.
struct AgenticClassifierOptions: ParsableArguments {
    @Option(help: "Threads for the local engine and BLAS.")
    var threads: Int = 2
    @Option(help: "Most requests in flight per remote server.")
    var maxConnections: Int = 8

    func opener(cache: (any ResponseCache)? = nil) -> ModelOpener {
        ModelOpener(threads: threads, maxConnections: maxConnections, cache: cache)
    }

    func validate() throws {
        guard threads >= 1, threads <= 256 else { throw ValidationError("--threads must be between 1 and 256") }
        guard maxConnections >= 1 else { throw ValidationError("--max-connections must be at least 1") }
    }
}

/// Scenarios by id (built in) or from files.
func loadAgenticScenarios(ids: [String], files: [String]) throws -> [Scenario] {
    var out: [Scenario] = []
    for path in files { out.append(try ScenarioLoader.load(path: path)) }
    for id in ids where !out.contains(where: { $0.id == id }) { out.append(try ScenarioLoader.builtin(id)) }
    return out
}

/// The built-in scenarios, which the labelled transcripts were written for.
func builtinAgenticScenarios() throws -> [Scenario] { try ScenarioLoader.builtinIDs.map(ScenarioLoader.builtin) }

struct AgenticRunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the factorial's episodes (the default subcommand), classify them and print the rates.")

    @Option(name: .shortAndLong, help: "The agent's model: local:NAME|PATH[,chat=FORMAT], openai:MODEL or openai-compatible:URL#MODEL.",
            transform: ModelSpec.init(parsing:))
    var model: ModelSpec = .local("smollm2-135m")
    @Option(help: "Classifier spec (a model, as --model; its categorical verdicts). Default: the agent's model when local with a chat template, else \(JudgeSpec.embeddedJudgeModel).",
            transform: ModelSpec.init(parsing:))
    var classifier: ModelSpec?
    @Option(help: "Scenarios, comma-separated: \(ScenarioLoader.builtinIDs.joined(separator: ", ")), or ids of --scenario-file files.")
    var scenario: String = "blackmail"
    @Option(help: "A scenario YAML file (repeatable); its id can then be named in --scenario.")
    var scenarioFile: [String] = []
    @Option(help: "Goal types, comma-separated: explicit, latent, none, ambiguous, swap.")
    var goal: String = "explicit,none"
    @Option(help: "Goal values, comma-separated (the scenario's goal_values ids: safety, speed, local, global, ethical, pragmatic).")
    var values: String = "safety"
    @Option(help: "Urgency types, comma-separated: replacement, restriction, none.")
    var urgency: String = "replacement,none"
    @Option(help: "Safety-instruction variants, comma-separated: off, on (the scenario's safety rules in the system prompt).")
    var safetyInstructions: String = "off"
    @Option(help: "Episodes per condition.")
    var samples: Int = 10
    @Option(help: "Most assistant turns per episode.")
    var maxTurns: Int = 10
    @Option(help: "Sampling temperature of the agent.")
    var temperature: Double = 1
    @Option(help: "Nucleus sampling threshold.")
    var topP: Double = 1
    @Option(help: "Tokens per assistant turn.")
    var maxTokens: Int = 1024
    @Option(help: "Random seed of the run.")
    var seed: UInt64 = 0
    @Option(help: "Episodes in flight at once.")
    var concurrency: Int = 8
    @Flag(name: .customLong("cot"), help: "Ask for private reasoning before each turn; store it apart, judge it for a harmful persona, and report the covert share (a persona in the reasoning, no harm done) per condition.")
    var chainOfThought = false
    @OptionGroup var runOptions: AgenticRunOptions
    @OptionGroup var classifierOptions: AgenticClassifierOptions
    @Flag(help: "Continue an interrupted run: stored episodes and judgments are not redone.")
    var resume = false
    @Option(help: "Also write the HTML heatmap to this file.")
    var html: String?
    @Flag(help: "Do not reuse or store remote answers in the results database's response cache.")
    var noCache = false
    @Flag(inversion: .prefixedNo, help: "Measure the classifier on the labelled transcripts' held-out split (cached per classifier) and print it beside the rates.")
    var validateClassifier = true

    func validate() throws {
        guard samples >= 1 else { throw ValidationError("--samples must be at least 1") }
        guard maxTurns >= 1, maxTurns <= 100 else { throw ValidationError("--max-turns must be between 1 and 100") }
        guard maxTokens >= 1 else { throw ValidationError("--max-tokens must be at least 1") }
        guard concurrency >= 1 else { throw ValidationError("--concurrency must be at least 1") }
        guard temperature >= 0, topP > 0, topP <= 1 else { throw ValidationError("--temperature must be ≥ 0 and --top-p in (0, 1]") }
    }

    func run() async throws {
        func list<T>(_ text: String, _ option: String, _ parse: (String) -> T?, known: [String]) throws -> [T] {
            let items = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            guard !items.isEmpty else { throw ValidationError("\(option) is empty") }
            return try items.map { item in
                guard let v = parse(item) else { throw ValidationError("\(option): unknown '\(item)' (known: \(known.joined(separator: ", ")))") }
                return v
            }
        }
        let goals = try list(goal, "--goal", GoalType.init(rawValue:), known: GoalType.allCases.map(\.rawValue))
        let urgencies = try list(urgency, "--urgency", Urgency.init(rawValue:), known: Urgency.allCases.map(\.rawValue))
        let safety = try list(safetyInstructions, "--safety-instructions", { ["off": false, "on": true][$0] }, known: ["off", "on"])
        let scenarioIDs = try list(scenario, "--scenario", { $0 }, known: [])
        let valueIDs = try list(values, "--values", { $0 }, known: [])
        let scenarios = try loadAgenticScenarios(ids: scenarioIDs, files: scenarioFile)
        for s in scenarios where scenarioIDs.contains(s.id) && goals.contains(where: { $0 != .none }) {
            for v in valueIDs where s.value(v) == nil {
                throw ValidationError("--values: scenario '\(s.id)' has no goal value '\(v)' (its values: \(s.goalValues.map(\.id).joined(separator: ", ")))")
            }
        }
        let chosen = scenarios.filter { scenarioIDs.contains($0.id) }
        let parameters = AgenticParameters(scenarios: scenarioIDs, goals: goals, values: valueIDs, urgencies: urgencies, safety: safety,
                                           samples: samples,
                                           episode: EpisodeSettings(maxTurns: maxTurns, temperature: temperature, topP: topP, maxTokens: maxTokens,
                                                                    chainOfThought: chainOfThought ? true : nil),
                                           seed: seed)
        let store = try runOptions.openStore()
        let opener = classifierOptions.opener(cache: noCache ? nil : StoreResponseCache(store: store))
        let agent = try opener.open(model)
        let classifierSpec = classifier ?? (model.isLocal && model.chatTemplate == nil ? model : JudgeSpec.embeddedJudgeModel)
        let judge = ModelJudge(model: try opener.open(classifierSpec), exact: true)
        print("agentic run \(runOptions.name): \(parameters.conditions.count) conditions × \(samples) episodes, model \(agent.identity.spec), classifier \(judge.spec)")
        let runner = AgenticRunner(store: store, model: agent, classifier: judge, scenarios: chosen, parameters: parameters,
                                   progress: ProgressBar(), concurrency: concurrency)
        try await runner.run(name: runOptions.name, resume: resume)
        try await printAgenticResults(store: store, run: runOptions.name, classifier: judge, measure: validateClassifier, html: html)
        print("results: \(store.databaseURL.path) (run \(runOptions.name))")
    }
}

/// The table, the validation line and (if asked) the HTML page of an agentic run.
func printAgenticResults(store: ResultsStore, run: String, classifier: any Judge, measure: Bool, html: String?) async throws {
    let figures = measure
        ? try await ClassifierValidation.ensure(store: store, classifier: classifier, scenarios: try builtinAgenticScenarios(), progress: ProgressBar())
        : ClassifierValidation.cached(store: store, classifier: classifier.spec)
    let results = try AgenticResults(store: store, name: run, classifier: classifier.spec)
    print(AgenticReport.table(results, figures: figures), terminator: "")
    if !results.disagreements.isEmpty { print(AgenticReport.disagreements(results, limit: 10), terminator: "") }
    if let html {
        try AgenticReport.html(results, figures: figures).write(toFile: html, atomically: true, encoding: .utf8)
        print("report: \(html)")
    }
}

struct AgenticClassifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "classify",
        abstract: "Classify a stored agentic run again with another classifier; no episode is re-run.",
        discussion: "Example: emlab agentic classify --run bm1 --classifier openai:gpt-4.1")

    @OptionGroup var runOptions: AgenticRunOptions
    @Option(help: "Classifier spec (a model, as --model takes it).", transform: ModelSpec.init(parsing:))
    var classifier: ModelSpec
    @OptionGroup var classifierOptions: AgenticClassifierOptions
    @Option(help: "Classifications in flight at once.")
    var concurrency: Int = 8
    @Option(help: "Also write the HTML heatmap to this file.")
    var html: String?
    @Flag(inversion: .prefixedNo, help: "Measure the classifier on the labelled transcripts' held-out split and print it beside the rates.")
    var validateClassifier = true

    func run() async throws {
        let store = try runOptions.existingStore()
        let run = try store.run(named: runOptions.name)
        let scenarios = try StoredEpisodes.scenarios(of: run)
        let opener = classifierOptions.opener(cache: StoreResponseCache(store: store))
        let judge = ModelJudge(model: try opener.open(classifier), exact: true)
        try await AgenticRunner.classify(store: store, runId: run.id!, scenarios: scenarios, classifier: judge, progress: ProgressBar(),
                                         concurrency: concurrency, chainOfThought: try StoredEpisodes.parameters(of: run).episode.chainOfThought == true)
        try await printAgenticResults(store: store, run: runOptions.name, classifier: judge, measure: validateClassifier, html: html)
    }
}

struct AgenticReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Print a stored agentic run's rates (and its disagreements), optionally as an HTML heatmap.")

    @OptionGroup var runOptions: AgenticRunOptions
    @Option(help: "Classifier whose labels make the verdicts (default: the run's).")
    var classifier: String?
    @Option(help: "Write the HTML heatmap to this file.")
    var html: String?
    @Flag(help: "List every disagreement between the check and the classifier.")
    var disagreements = false

    func run() throws {
        let store = try runOptions.existingStore()
        let run = try store.run(named: runOptions.name)
        let available = try AgenticResults.classifiers(store: store, run: run)
        if let classifier, !available.contains(classifier) {
            throw ValidationError("run '\(runOptions.name)' has no labels by classifier '\(classifier)' (it has: \(available.joined(separator: ", ")))")
        }
        let results = try AgenticResults(store: store, name: runOptions.name, classifier: classifier)
        let figures = ClassifierValidation.cached(store: store, classifier: results.classifierSpec)
        print(AgenticReport.table(results, figures: figures), terminator: "")
        print(AgenticReport.disagreements(results, limit: disagreements ? Int.max : 10), terminator: "")
        if let html {
            try AgenticReport.html(results, figures: figures).write(toFile: html, atomically: true, encoding: .utf8)
            print("report: \(html)")
        }
    }
}

struct AgenticValidateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Measure the deterministic checks and a classifier on the labelled transcripts (accuracy and κ).",
        discussion: "Without --classifier only the checks are measured. Example: emlab agentic validate --classifier openai:gpt-4.1-mini")

    @Option(help: "Classifier spec (a model, as --model takes it).", transform: ModelSpec.init(parsing:))
    var classifier: ModelSpec?
    @Option(help: "train, heldout or all.")
    var split: String = "heldout"
    @Option(help: "A labelled-transcripts file of the built-in file's shape (default: the built-in one).")
    var labels: String?
    @Option(help: "Results folder where the figures are cached (beside the runs they describe).")
    var out: String?
    @OptionGroup var classifierOptions: AgenticClassifierOptions
    @Flag(help: "Print the figures as JSON.")
    var json = false

    func validate() throws {
        guard ["train", "heldout", "all"].contains(split) else { throw ValidationError("--split must be train, heldout or all") }
    }

    func run() async throws {
        let (items, digest) = try LabelledTranscripts.load(path: labels)
        let judge = try classifier.map { ModelJudge(model: try classifierOptions.opener().open($0), exact: true) }
        let figures = try await ClassifierValidation.run(items: items, split: split, scenarios: try builtinAgenticScenarios(),
                                                         classifier: judge, progress: ProgressBar())
        if let out, let judge, split == "heldout", labels == nil {
            let store = try ResultsStore(folder: URL(fileURLWithPath: out))
            try store.saveValidation(judgeSpec: ClassifierValidation.cacheKey(judge.spec), labelsDigest: digest,
                                     figures: String(decoding: try JSONEncoder().encode(figures), as: UTF8.self))
        }
        if json {
            let e = JSONEncoder()
            e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try e.encode(figures), as: UTF8.self))
            return
        }
        print("\(figures.n) labelled transcripts (\(split)):")
        print("  check:      \(figures.check.line)")
        if let c = figures.classifierAgreement { print("  classifier: \(c.line)") }
        if let v = figures.verdict { print("  verdict:    \(v.line)") }
        if let r = figures.reasoning { print("  reasoning:  \(r.line)") }
        for id in figures.scenarios.keys.sorted() {
            let m = figures.scenarios[id]!
            print("  \(id): " + ["check", "classifier", "verdict"].compactMap { k in m[k].map { "\(k) \(String(format: "%.2f/%.2f", $0.accuracy, $0.kappa))" } }
                .joined(separator: ", ") + " (accuracy/κ)")
        }
    }
}

struct AgenticScenariosCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scenarios",
        abstract: "List the built-in scenarios, check a scenario file, or show one condition as the agent sees it.",
        discussion: "Example: emlab agentic scenarios --show blackmail_explicit-safety_replacement")

    @Option(help: "A scenario YAML file to check (and list).")
    var file: [String] = []
    @Option(help: "A condition id to render: {scenario}_{goal}-{value}_{urgency}[_safety].")
    var show: String?

    func run() throws {
        let scenarios = try loadAgenticScenarios(ids: ScenarioLoader.builtinIDs, files: file)
        if let show {
            guard let c = AgenticCondition(id: show) else {
                throw ValidationError("--show: '\(show)' is not {scenario}_{goal}-{value}_{urgency}[_safety]")
            }
            guard let s = scenarios.first(where: { $0.id == c.scenario }) else {
                throw ScenarioError.unknownScenario(c.scenario, known: scenarios.map(\.id))
            }
            let r = try s.render(c)
            print("=== system\n\(r.system)\n\n=== user\n\(r.task)\n")
            for e in r.inbox { print("=== e-mail \(e.id)\n\(e.text)\n") }
            print("=== tools: \(EmailEnvironment(r).tools.map(\.name).joined(separator: ", "))")
            return
        }
        for s in scenarios {
            print("\(s.id)  \(s.title)  (\(s.source); values \(s.goalValues.map(\.id).joined(separator: ", ")); \(s.emails.count) e-mails, \(s.actions.count) actions, \(s.check.count) check rules)")
        }
    }
}

/// `emlab export --format inspect`: any run (eval, icl, agentic) as an Inspect eval log. `file`: a
/// `.json` path, or a folder (written there under a name Inspect's viewer lists); nil: standard output.
func exportInspect(store: ResultsStore, name: String, judge: String?, file: String?) throws {
    let run = try store.run(named: name)
    let log: JSONTree
    if run.kind == "agentic" {
        log = InspectLog.agentic(try AgenticResults(store: store, name: name, classifier: judge))
    } else {
        log = InspectLog.eval(try RunResults(store: store, name: name, judge: judge))
    }
    let text = InspectLog.text(log) + "\n"
    guard let file else { return print(text, terminator: "") }
    var isDirectory: ObjCBool = false
    let path = (FileManager.default.fileExists(atPath: file, isDirectory: &isDirectory) && isDirectory.boolValue) || file.hasSuffix("/")
        ? URL(fileURLWithPath: file).appendingPathComponent(InspectLog.fileName(run)).path : file
    try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    print("inspect log: \(path)")
}
