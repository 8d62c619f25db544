import CKernels
import Foundation
import Inference

/// How the learning rate moves over the run: linear warm-up from lr/warmup to lr over `warmup`
/// steps, then constant, linear decay to 0 or cosine decay to 0 at the last step.
public struct LearningRateSchedule: Sendable, Equatable, Codable {
    public enum Decay: String, Sendable, Codable, CaseIterable { case constant, linear, cosine }
    public var peak: Float
    public var warmup: Int
    public var decay: Decay
    public var totalSteps: Int

    public init(peak: Float, warmup: Int = 0, decay: Decay = .linear, totalSteps: Int) {
        self.peak = peak
        self.warmup = warmup
        self.decay = decay
        self.totalSteps = totalSteps
    }

    /// The rate of optimizer step `step` (0-based). Warm-up uses (step+1)/warmup, so the first step
    /// already moves the weights (Hugging Face's schedule gives step 0 a rate of 0).
    public func rate(step: Int) -> Float {
        if step < warmup { return peak * Float(step + 1) / Float(warmup) }
        let span = max(1, totalSteps - warmup)
        let progress = min(1, Float(step - warmup) / Float(span))
        switch decay {
        case .constant: return peak
        case .linear: return peak * (1 - progress)
        case .cosine: return peak * 0.5 * (1 + Foundation.cos(Float.pi * progress))
        }
    }
}

/// AdamW (decoupled weight decay, bias-corrected moments) over one float buffer of parameters,
/// with gradient clipping by the global norm.
public final class AdamW: @unchecked Sendable {
    public var beta1: Float = 0.9
    public var beta2: Float = 0.999
    public var eps: Float = 1e-8
    public var weightDecay: Float
    /// Ranges of the buffer that get no weight decay (norm weights).
    public let noDecay: [Range<Int>]
    public let m: Floats
    public let v: Floats
    /// Optimizer steps taken (the bias corrections use it).
    public var steps = 0

    public init(count: Int, weightDecay: Float = 0, noDecay: [Range<Int>] = []) {
        self.weightDecay = weightDecay
        self.noDecay = noDecay.sorted { $0.lowerBound < $1.lowerBound }
        m = Floats(count)
        v = Floats(count)
    }

    /// The gradient's L2 norm, summed in double in a fixed order.
    public static func norm(_ g: Floats) -> Double { ekt_sum_squares(g.pointer, g.count).squareRoot() }

    /// One update of `parameters` from `gradients`; the gradient is first scaled so its norm is at
    /// most `clip` (no clipping when nil or 0). Returns the norm before clipping.
    @discardableResult
    public func step(parameters p: Floats, gradients g: Floats, lr: Float, clip: Float?) -> Double {
        let norm = Self.norm(g)
        var scale: Float = 1
        if let clip, clip > 0, norm > Double(clip) { scale = Float(Double(clip) / (norm + 1e-6)) }
        steps += 1
        let bc1 = 1 - Foundation.pow(beta1, Float(steps)), bc2 = 1 - Foundation.pow(beta2, Float(steps))
        // Split into fixed pieces (decay on or off), each spread over the pool by fixed chunks.
        var pieces: [(Range<Int>, Float)] = []
        var at = 0
        for r in noDecay {
            if r.lowerBound > at { pieces.append((at..<r.lowerBound, weightDecay)) }
            pieces.append((r, 0))
            at = r.upperBound
        }
        if at < p.count { pieces.append((at..<p.count, weightDecay)) }
        let chunk = 1 << 16
        var jobs: [(Int, Int, Float)] = []
        for (r, wd) in pieces {
            var lo = r.lowerBound
            while lo < r.upperBound { jobs.append((lo, min(chunk, r.upperBound - lo), wd)); lo += chunk }
        }
        let (b1, b2, e) = (beta1, beta2, eps)
        jobs.withUnsafeBufferPointer { jp in
            Parallel.forRange(jp.count) { range in
                for j in range {
                    let (lo, n, wd) = jp[j]
                    ekt_adamw(p.pointer + lo, g.pointer + lo, m.pointer + lo, v.pointer + lo, n, lr, b1, b2, e, wd, bc1, bc2, scale)
                }
            }
        }
        return norm
    }
}
