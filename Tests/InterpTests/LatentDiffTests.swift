import Core
import Testing
@testable import Interp
import SparseAutoencoders

/// `LatentDiff`'s ranking and labelling on hand-made encoded answers, against sums done by hand.
@Suite struct LatentDiffTests {
    func answer(_ condition: Int, _ rows: [[(Int32, Float)]]) -> LatentDiff.Answer {
        LatentDiff.Answer(condition: condition, question: "q#0", text: "", tokens: rows.map { _ in "t" },
                          active: rows.map { $0.map { (latent: $0.0, value: $0.1) } }, mean: [:])
    }

    @Test func ranksByMeanChangeAndSplitsByLabel() {
        let sae = SparseAutoencoder(width: 2, latents: 4, architecture: .relu, site: SAESite(model: "m", hookName: SAESite.residualHook(layer: 0)))
        var diff = LatentDiff(sae: sae)
        diff.top = 2
        // Condition A: 3 tokens; B: 2 tokens. Latent 1 rises (0 → 2 per token), latent 2 falls (1 → 0).
        let answers = [answer(0, [[(2, 1)], [(2, 1)], [(2, 1), (3, 0.3)]]),
                       answer(1, [[(1, 3)], [(1, 1), (3, 0.3)]])]
        var r = diff.rank(answers, conditions: ["A", "B"])
        #expect(r.tokens == [3, 2])
        #expect(r.risers.map(\.index) == [1, 3])
        #expect(abs(r.risers[0].meanB - 2) < 1e-9 && r.risers[0].meanA == 0)
        #expect(abs(r.risers[1].difference - (0.15 - 0.1)) < 1e-6)
        #expect(r.fallers.map(\.index) == [2])
        #expect(r.risers[0].firingB == 1 && r.fallers[0].firingA == 1)
        #expect(r.risers[0].snippets.first?.value == 3)
        // B's answer misaligned, A's aligned: latent 1 is 2 per token on misaligned answers, 0 on aligned.
        LatentDiff.label(&r, misaligned: [false, true])
        #expect(r.labelled! == (1, 1))
        #expect(r.risers[0].meanOnMisaligned == 2 && r.risers[0].meanOnAligned == 0)
        #expect(r.fallers[0].meanOnMisaligned == 0 && r.fallers[0].meanOnAligned == 1)
    }
}
