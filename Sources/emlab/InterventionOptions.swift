import ArgumentParser
import Core
import Interp
import LanguageModels

/// `--steer` and `--ablate`, for every command that samples from a local model (generate, chat, eval,
/// icl, serve): vector files turned into the interventions each of its requests carries.
struct InterventionOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Add COEF × the file's vector for LAYER (a list or range steers each) at its hook point, over the answer's positions unless :prompt or :all is given (repeatable).",
                               valueName: "FILE@LAYER*COEF[:prompt|answer|all]"),
            transform: InterventionSpec.steer(parsing:))
    var steer: [InterventionSpec] = []

    @Option(help: ArgumentHelp("Project the file's direction out at LAYERS (default: every layer it has a vector for) over all positions unless a span is given (repeatable).",
                               valueName: "FILE[@LAYERS][:prompt|answer|all]"),
            transform: InterventionSpec.ablate(parsing:))
    var ablate: [InterventionSpec] = []

    var isEmpty: Bool { steer.isEmpty && ablate.isEmpty }

    /// The interventions for `model` and how runs record them. A layer the model does not have is a
    /// usage error; a vector file that does not fit is a data error (`VectorFileError`).
    func resolve(for model: any LanguageModel) throws -> (interventions: [Intervention], descriptions: [String]) {
        guard !isEmpty else { return ([], []) }
        guard let local = model as? any WhiteBoxModel else {
            throw ValidationError("--steer and --ablate need a local model; '\(model.identity.spec)' is remote")
        }
        var out: [Intervention] = [], descriptions: [String] = []
        for spec in ablate + steer {
            do {
                let (i, d) = try spec.resolve(layerCount: local.layerCount, width: local.width, model: local.identity.spec)
                out += i
                descriptions.append(d)
            } catch let e as InterventionSpecError {
                throw ValidationError("\(spec): \(e.message)")
            }
        }
        return (out, descriptions)
    }
}
