import Foundation
import Inference
import Testing
import TestSupport

/// Replays llama.cpp's recorded greedy run of `ref` on `engine`.
///
/// First-step top-10 logits must lie within `logitBound` of llama.cpp's and the top-1 must agree;
/// then greedy tokens are compared step by step (at most 24) until they first differ, which may only
/// happen where llama.cpp's recorded margin is below `logitBound`: a margin within how far the two
/// engines' logits may lie apart does not decide the greedy token (which way it falls depends on the
/// host's BLAS kernel: AVX2 or AVX-512). Every step before the first such near tie must match.
/// Returns what it measured.
@discardableResult
func checkGreedyAgainstReference(_ ref: GreedyReference, engine: Engine, logitBound: Float) throws
    -> (steps: Int, firstStepDifference: Float, largestDifference: Float) {
    let model = engine.model
    let seq = model.newSequence()
    var logits = try engine.prefill(ref.promptIds, into: seq)
    var maxDiff: Float = 0
    for (id, expected) in ref.top10 {
        let diff = abs(logits[Int(id)] - expected)
        maxDiff = max(maxDiff, diff)
        #expect(diff <= logitBound, "\(ref.title): logit of \(id) is \(logits[Int(id)]), llama.cpp \(expected)")
    }
    let firstStepDiff = maxDiff
    let ourTop = logits.indices.sorted { logits[$0] > logits[$1] }.prefix(10).map { Int32($0) }
    #expect(ourTop.first == ref.top10.first?.id, "\(ref.title): top-1 differs")
    var checked = 0
    let steps = ref.steps.prefix(24)
    for step in steps {
        let ours = logits.withUnsafeBufferPointer { Sampler.argmax($0) }
        if ours != step.id {
            #expect(step.margin < logitBound, "\(ref.title) step \(checked): got \(ours), llama.cpp \(step.id) with margin \(step.margin)")
            break
        }
        maxDiff = max(maxDiff, abs(logits[Int(step.id)] - step.logit))
        checked += 1
        var batch = Batch()
        batch.append([step.id], to: seq)
        logits = Array(try model.forward(batch, hooks: nil))
    }
    let nearTie = steps.firstIndex { $0.margin < logitBound }.map { $0 - steps.startIndex } ?? steps.count
    print("[reference] \(ref.title.prefix(30)): \(checked) greedy steps match (first near tie at step \(nearTie)), largest first-step top-10 difference \(firstStepDiff), largest over the steps \(maxDiff)")
    #expect(checked >= nearTie)
    return (checked, firstStepDiff, maxDiff)
}

/// Decoding with the KV cache gives exactly the logits of recomputing the continuation in one batch
/// of independent rows (same kernels), and the prompt path (float GEMM) agrees on the next token.
func checkCacheEqualsRecomputation(engine: Engine, prompt: [Int32], continuation: [Int32]) throws {
    let model = engine.model
    let cached = model.newSequence()
    _ = try engine.prefill(prompt, into: cached)
    var incremental: [Float] = []
    for t in continuation {
        var b = Batch()
        b.append([t], to: cached)
        incremental = Array(try model.forward(b, hooks: nil))
    }
    let again = model.newSequence()
    _ = try engine.prefill(prompt, into: again)
    var b = Batch()
    b.independentRows = true
    b.append(continuation, to: again)
    let recomputed = Array(try model.forward(b, hooks: nil))
    #expect(incremental == recomputed)
    let full = model.newSequence()
    var f = Batch()
    f.append(prompt + continuation, to: full)
    let prompted = Array(try model.forward(f, hooks: nil))
    let diff = zip(incremental, prompted).map { abs($0 - $1) }.max()!
    print("[reference] decode vs prompt path: largest logit difference \(diff)")
    #expect(Sampler.argmax(incremental.withUnsafeBufferPointer { $0 }) == Sampler.argmax(prompted.withUnsafeBufferPointer { $0 }))
    #expect(diff < 1.0)
}

/// The 8-bit prompt path (`PromptPath.eightBit`) gives exactly the logits of decoding the prompt one
/// token at a time, across a prompt-chunk boundary, and agrees with the float path on the next token.
func checkEightBitPromptsEqualDecoding(engine: Engine, prompt: [Int32]) throws {
    precondition(prompt.count > Engine.promptChunk)
    let eightBit = try Engine(file: engine.file, promptPath: .eightBit)
    #expect(eightBit.promptPath == .eightBit && engine.promptPath == .float)
    let prompted = try eightBit.prefill(prompt, into: eightBit.model.newSequence())
    let seq = eightBit.model.newSequence()
    var decoded: [Float] = []
    for t in prompt {
        var b = Batch()
        b.append([t], to: seq)
        decoded = Array(try eightBit.model.forward(b, hooks: nil))
    }
    #expect(prompted == decoded)
    let float = try engine.prefill(prompt, into: engine.model.newSequence())
    let diff = zip(prompted, float).map { abs($0 - $1) }.max()!
    print("[reference] 8-bit prompt path vs float prompt path: largest logit difference \(diff)")
    #expect(Sampler.argmax(prompted.withUnsafeBufferPointer { $0 }) == Sampler.argmax(float.withUnsafeBufferPointer { $0 }))
    #expect(diff < 1.5)
    #expect(diff > 0)   // the two paths really differ
}
