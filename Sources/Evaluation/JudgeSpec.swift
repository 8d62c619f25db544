import Foundation
import LanguageModels

/// What `--judge` names: a model used as judge, a probe file, or the default probe judge.
///
/// - a model spec (`local:smollm2-135m`, `openai:gpt-4o`, …): the logprob / categorical judge;
/// - `probe:FILE`: a probe trained by `emlab judge train-probe`;
/// - `probe:default`: the default probe of the embedded judge model, trained on the built-in gold set
///   the first time it is asked for and cached beside the models.
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

    /// The file name of a model's default probe in the model store's `probes/` folder.
    public static func defaultProbeFileName(for model: ModelSpec) -> String {
        let name = URL(fileURLWithPath: model.localName ?? model.description).deletingPathExtension().lastPathComponent
        return "\(name)-gold-probe.gguf"
    }

    /// The name judgments by this judge are stored under (`Judge.spec`), known without opening it:
    /// what `export`, `report` and the other readers of stored judgments select by.
    public var storedName: String {
        switch self {
        case .model(let spec): spec.identitySpec + (spec.isLocal ? "" : ModelJudge.top20Suffix)
        case .probe(let path): ProbeJudge.storedName(file: path)
        case .defaultProbe: ProbeJudge.storedName(file: Self.defaultProbeFileName(for: Self.embeddedJudgeModel))
        }
    }

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
