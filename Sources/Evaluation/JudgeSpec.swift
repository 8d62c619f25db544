import Foundation
import LanguageModels

/// What `--judge` names: a model used as judge, a probe file, or the default probe judge.
///
/// - a model spec (`local:smollm2-135m`, `openai:gpt-4o`, …): the logprob / categorical judge;
/// - `probe:FILE`: a probe trained by `emlab judge train-probe`;
/// - `probe:default`: the default probe of the evaluated model when that is local (each local model
///   has its own), else of the embedded judge model; trained on the built-in gold sets the first time
///   it is asked for and cached beside the models with its card (`ProbeCard`).
public enum JudgeSpec: Sendable, Hashable, CustomStringConvertible {
    case model(ModelSpec)
    case probe(path: String)
    case defaultProbe

    /// The embedded judge model: it judges remote models' and base models' answers by default, and
    /// `probe:default` is its probe.
    public static let embeddedJudgeModel = ModelSpec.local("smollm2-135m")

    public init(parsing text: String) throws {
        let s = text.trimmingCharacters(in: .whitespaces)
        if s.hasPrefix("probe:") {
            let file = String(s.dropFirst("probe:".count))
            guard !file.isEmpty else { throw LanguageModelError.invalidSpec(text, why: "give a probe file or 'default' after 'probe:'") }
            self = file == "default" ? .defaultProbe : .probe(path: file)
        } else {
            self = .model(try ModelSpec(parsing: s))
        }
    }

    /// The judge `eval` uses when none is given: a local model with a chat template of its own judges
    /// its answers; remote models and base models asked through `,chat=…` are judged by the embedded model.
    public static func defaultJudge(for model: ModelSpec) -> JudgeSpec {
        .model(model.isLocal && model.chatTemplate == nil ? model : embeddedJudgeModel)
    }

    /// The model whose default probe `probe:default` is when `evaluated` is evaluated: the evaluated
    /// model itself when it is local (its own answers read by its own activations), else (a remote
    /// model, or none) the embedded judge model.
    public static func defaultProbeModel(evaluating evaluated: ModelSpec?) -> ModelSpec {
        if let evaluated, evaluated.isLocal { evaluated } else { embeddedJudgeModel }
    }

    /// The file name of a model's default probe in the model store's `probes/` folder:
    /// `NAME-default.gguf`, NAME the registered name or the file's name without `.gguf`, followed by the
    /// spec's options (`gemma3-270m-chat-transcript-default.gguf`), since they change what the probe reads.
    public static func defaultProbeFileName(for model: ModelSpec) -> String {
        let local = model.localName ?? model.description
        var name = local.split(separator: "/").last.map(String.init) ?? "model"
        if name.hasSuffix(".gguf") { name.removeLast(5) }
        // The options as the spec writes them after the name: ",chat=transcript" → "-chat-transcript".
        let description = model.description
        if let at = description.range(of: local) { name += description[at.upperBound...] }
        var safe = ""
        for c in name { safe.append(c.isLetter || c.isNumber || c == "." || c == "-" || c == "_" ? c : "-") }
        return safe + "-default.gguf"
    }

    /// The name judgments by this judge are stored under (`Judge.spec`), known without opening it:
    /// what `export`, `report` and the other readers of stored judgments select by. `probe:default`
    /// depends on the model whose answers were judged (`evaluating`; nil: the embedded judge model's).
    public func storedName(evaluating evaluated: ModelSpec? = nil) -> String {
        switch self {
        case .model(let spec): spec.identitySpec + (spec.isLocal ? "" : ModelJudge.top20Suffix)
        case .probe(let path): ProbeJudge.storedName(file: path)
        case .defaultProbe: ProbeJudge.storedName(file: Self.defaultProbeFileName(for: Self.defaultProbeModel(evaluating: evaluated)))
        }
    }

    /// `storedName(evaluating: nil)`.
    public var storedName: String { storedName() }

    public var description: String {
        switch self {
        case .model(let spec): spec.description
        case .probe(let path): "probe:" + path
        case .defaultProbe: "probe:default"
        }
    }
}

/// A judge name given to select stored judgments that the run does not have.
public struct UnknownJudgeError: Error, CustomStringConvertible {
    public var run: String
    public var judge: String
    public var available: [String]

    public var description: String {
        let have = available.isEmpty ? "it has no judgments" : "its judges: " + available.joined(separator: ", ")
        return "run '\(run)' has no judgments by '\(judge)'; \(have)"
    }
}
