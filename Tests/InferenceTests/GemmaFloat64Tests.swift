import Foundation
import GGUF
import Inference
import Testing
import TestSupport

extension RealModel {
@Suite(RealModel.gemma3Present, .enabled(if: TestResources.referenceFile("smollm2-greedy.txt") != nil, "shared/reference missing"))
struct GemmaFloat64Tests {
    /// How far the engine and llama.cpp each are from the double-precision definition, on the
    /// first step of both Gemma references (the top-10 ids and every 61st vocabulary row).
    @Test func promptLogitsAgainstDoublePrecision() throws {
        let engine = RealModel.gemma
        for ref in try GreedyReference.load(TestResources.referenceFile("smollm2-greedy.txt")!).filter(\.isGemma) {
            let sample = ref.top10.map { Int($0.id) } + Array(stride(from: 0, to: engine.model.config.vocabularySize, by: 61))
            let exact = try gemma3Float64Logits(file: engine.file, tokens: ref.promptIds, rows: sample)
            // The definition over a half-float cache: what the engine's float prompt path computes.
            let cached = try gemma3Float64Logits(file: engine.file, tokens: ref.promptIds, rows: sample, numerics: .engine)
            let ours = try engine.prefill(ref.promptIds, into: engine.model.newSequence())
            let engineTop10 = (0..<10).map { abs(Double(ours[sample[$0]]) - cached[$0]) }.max()!
            let llamaTop10 = (0..<10).map { abs(Double(ref.top10[$0].logit) - exact[$0]) }.max()!
            let llamaMean = (0..<10).map { Double(ref.top10[$0].logit) - exact[$0] }.reduce(0, +) / 10
            let engineSample = sample.indices.map { abs(Double(ours[sample[$0]]) - cached[$0]) }.max()!
            let byCache = sample.indices.map { abs(cached[$0] - exact[$0]) }.max()!
            // The same prompt with every product on the 8-bit-activation kernels (as llama.cpp
            // computes prompts too): where its first-step logits lie against llama.cpp's and exact.
            var kb = Batch()
            kb.independentRows = true
            kb.append(ref.promptIds, to: engine.model.newSequence())
            let kh = Hooks()
            kh.capture(.residualOut(layer: engine.model.config.layerCount - 1))
            let kernels = Array(try engine.model.forward(kb, hooks: kh))
            // The same residual through a float head (dequantized rows, float activations).
            let resid = kh.captured[.residualOut(layer: engine.model.config.layerCount - 1)]!.last!.map(Double.init)
            let onw = engine.file.tensor(named: "output_norm.weight")!
            let onp = engine.file.data(for: onw).baseAddress!.assumingMemoryBound(to: Float.self)
            let dd = resid.count
            let rs = 1 / (resid.reduce(0) { $0 + $1 * $1 } / Double(dd) + 1e-6).squareRoot()
            let normed = (0..<dd).map { resid[$0] * rs * Double(onp[$0]) }
            let embd = engine.file.tensor(named: "token_embd.weight")!
            let floatHead = (0..<10).map { i -> Double in
                var f = [Float](repeating: 0, count: dd)
                f.withUnsafeMutableBufferPointer {
                    Dequantize.row(embd.type, engine.file.data(for: embd).baseAddress! + sample[i] * embd.type.byteCount(elements: dd), $0.baseAddress!, count: dd)
                }
                return (0..<dd).reduce(0.0) { $0 + Double(f[$1]) * normed[$1] }
            }
            let floatHeadVsExact = (0..<10).map { abs(floatHead[$0] - exact[$0]) }.max()!
            print("[reference] \(ref.title.prefix(30)) kernels' last residual through a float head: top-10 vs float64 \(floatHeadVsExact)")
            #expect(floatHeadVsExact < 1.0)
            let kernelsVsLlama = (0..<10).map { abs(kernels[sample[$0]] - ref.top10[$0].logit) }.max()!
            let kernelsVsExact = (0..<10).map { abs(Double(kernels[sample[$0]]) - exact[$0]) }.max()!
            print("[reference] \(ref.title.prefix(30)) first step on the 8-bit kernels: top-10 vs llama.cpp \(kernelsVsLlama), vs float64 \(kernelsVsExact)")
            #expect(kernelsVsExact < 1.0)

            // The decode path (8-bit activations in every product, as llama.cpp computes everything):
            // one more token through the KV cache, against the exact logits of the longer prompt.
            let next = ref.steps[0].id
            let seq = engine.model.newSequence()
            _ = try engine.prefill(ref.promptIds, into: seq)
            var b = Batch()
            b.append([next], to: seq)
            let decoded = Array(try engine.model.forward(b, hooks: nil))
            let exactNext = try gemma3Float64Logits(file: engine.file, tokens: ref.promptIds + [next], rows: sample, numerics: .engine)
            let decodeSample = sample.indices.map { abs(Double(decoded[sample[$0]]) - exactNext[$0]) }.max()!
            let llamaNext = abs(Double(ref.steps[1].logit) - exactNext[sample.firstIndex(of: Int(ref.steps[1].id)) ?? 0])
            print("[reference] \(ref.title.prefix(30)) first step vs float64: engine top-10 \(engineTop10), engine sampled vocabulary \(engineSample) (both against the definition over a half cache, which moves the exact logits by \(byCache)); llama.cpp top-10 \(llamaTop10) (mean signed \(llamaMean)); second step (decode path) engine sampled vocabulary \(decodeSample)" + (sample.contains(Int(ref.steps[1].id)) ? ", llama.cpp's chosen token \(llamaNext)" : ""))
            #expect(engineTop10 < 0.15)
            #expect(engineSample < 0.25)
            // 8-bit activations move these logits by 0.7-1.1 (see roundingSensitivity).
            #expect(decodeSample < 1.5)
        }
    }

    /// Why the first-step top-10 logits cannot be held within 0.25 of llama.cpp's: llama.cpp rounds
    /// every product's activations to 8 bits, and on these prompts Gemma 3 turns the choice of those
    /// roundings into logit changes of 0.2-0.6. The same double-precision pass with llama.cpp's
    /// roundings switched on one after another moves that far from the exact logits, and changing
    /// only the GELU's last bits (its fp16 table) flips enough 8-bit roundings downstream to move
    /// the top-10 by 0.19-0.42. llama.cpp's own logits are 0.42-0.47 from exact. No choice of
    /// roundings lands reliably within 0.25 of them: without flash attention the pass is 0.24-0.26
    /// from llama.cpp, with ggml's flash attention (an fp16 value accumulator; the references were
    /// recorded with it on) 0.46-0.70.
    @Test func roundingSensitivity() throws {
        let engine = RealModel.gemma
        let variants: [(String, GGMLNumerics)] = [
            ("8-bit activations", GGMLNumerics(quantizeActivations: true)),
            ("8-bit activations, fp16 attention", GGMLNumerics(quantizeActivations: true, halfCache: true, halfAttention: true)),
            ("8-bit activations, fp16 attention, fp16 GELU table", .llamaCpp),
            ("8-bit activations, flash attention, fp16 GELU table",
             GGMLNumerics(quantizeActivations: true, halfCache: true, halfAttention: true, geluTable: true, flashAttention: true)),
        ]
        for ref in try GreedyReference.load(TestResources.referenceFile("smollm2-greedy.txt")!).filter(\.isGemma) {
            let ids = ref.top10.map { Int($0.id) }
            let exact = try gemma3Float64Logits(file: engine.file, tokens: ref.promptIds, rows: ids)
            func distance(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).map { abs($0 - $1) }.max()! }
            let llama = ref.top10.map { Double($0.logit) }
            var moved: [Double] = [], logits: [[Double]] = []
            for (name, numerics) in variants {
                let l = try gemma3Float64Logits(file: engine.file, tokens: ref.promptIds, rows: ids, numerics: numerics)
                moved.append(distance(l, exact))
                logits.append(l)
                print("[reference] \(ref.title.prefix(30)) double precision with \(name): top-10 vs exact \(distance(l, exact)), vs llama.cpp \(distance(l, llama))")
            }
            // The GELU table changes each activation by under 5e-4 relative (without 8-bit
            // activations it moves the logits by under 0.01).
            let byTable = distance(logits[1], logits[2])
            print("[reference] \(ref.title.prefix(30)) llama.cpp top-10 vs exact \(distance(llama, exact)); the fp16 GELU table alone moves the top-10 by \(byTable)")
            // Every variant is a perturbation, not a different model: within 0.8 of exact.
            #expect(moved.allSatisfy { $0 < 0.8 })
            // And the roundings alone move the top-10 logits by more than 0.2.
            #expect(moved.max()! > 0.2)
            #expect(byTable > 0.05)
        }
    }
}
}
