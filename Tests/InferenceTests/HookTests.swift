import Core
import Foundation
import Inference
import Testing
import TestSupport

extension RealModel {
@Suite(RealModel.smolLM2Present)
struct HookTests {
    static var engine: Engine { RealModel.engine }
    static let prompt: [Int32] = [1, 4093, 198, 1780, 314, 260, 3575, 282, 4649, 47, 2, 198, 1, 520, 9531, 198]

    func logits(_ hooks: Hooks?) throws -> [Float] {
        let model = Self.engine.model
        let seq = model.newSequence()
        var b = Batch()
        b.append(Self.prompt, to: seq)
        return Array(try model.forward(b, hooks: hooks))
    }

    @Test func addingZeroVectorChangesNothing() throws {
        let d = Self.engine.model.config.embeddingLength
        let base = try logits(nil)
        let hooks = Hooks()
        for l in [0, 7, 29] {
            hooks.add([Float](repeating: 0, count: d), scale: 3, at: .residualIn(layer: l))
            hooks.add([Float](repeating: 0, count: d), at: .attentionOutput(layer: l))
            hooks.add([Float](repeating: 0, count: d), at: .mlpOutput(layer: l))
            hooks.add([Float](repeating: 0, count: d), at: .residualOut(layer: l))
        }
        #expect(try logits(hooks) == base)
    }

    @Test func captureAtLastLayerThenUnembedReproducesLogits() throws {
        let model = Self.engine.model
        let last = model.config.layerCount - 1
        let hooks = Hooks()
        hooks.capture(.residualOut(layer: last))
        let out = try logits(hooks)
        let vectors = try #require(hooks.captured[.residualOut(layer: last)])
        #expect(vectors.count == Self.prompt.count)
        #expect(vectors.allSatisfy { $0.count == model.config.embeddingLength })
        let recomputed = model.unembed(vectors.last!)
        let diff = zip(out, recomputed).map { abs($0 - $1) }.max()!
        #expect(diff < 1e-3, "largest difference \(diff)")
    }

    @Test func steeringChangesOutputAndAblationRemovesDirection() throws {
        let model = Self.engine.model
        let d = model.config.embeddingLength
        let base = try logits(nil)
        var direction = [Float](repeating: 0, count: d)
        direction[5] = 1
        direction[100] = -2
        let steer = Hooks()
        steer.add(direction, scale: 8, at: .residualIn(layer: 10))
        let steered = try logits(steer)
        #expect(zip(base, steered).map { abs($0 - $1) }.max()! > 0.1)

        let ablate = Hooks()
        ablate.projectOut(direction, at: .residualOut(layer: 12))
        ablate.capture(.residualOut(layer: 12))
        _ = try logits(ablate)
        let norm = direction.reduce(0) { $0 + $1 * $1 }.squareRoot()
        for v in ablate.captured[.residualOut(layer: 12)]! {
            let dot = zip(v, direction).reduce(0) { $0 + $1.0 * $1.1 } / norm
            #expect(abs(dot) < 1e-3)
        }
    }

    @Test func invalidHookVectorIsRejected() throws {
        let hooks = Hooks()
        hooks.add([1, 2, 3], at: .residualIn(layer: 0))
        #expect(throws: ModelError.self) { try logits(hooks) }
        let far = Hooks()
        far.capture(.residualIn(layer: 99))
        #expect(throws: ModelError.self) { try logits(far) }
    }

    @Test func hookPointNamesRoundTrip() {
        for p in [HookPoint.residualIn(layer: 3), .attentionOutput(layer: 0), .mlpOutput(layer: 29), .residualOut(layer: 7)] {
            #expect(HookPoint(p.description) == p)
        }
        #expect(HookPoint("resid.3") == nil)
    }
}
}
