import Inference
import Testing
import TestSupport

/// Every test that runs a real model lives under this suite: they run one at a time (an engine and
/// the thread pool serve one forward pass at a time, and some tests change the thread count).
/// SmolLM2 suites share `engine`; the Gemma suite has its own.
@Suite(.serialized)
struct RealModel {
    static let smolLM2Present = ConditionTrait.enabled(if: TestResources.smolLM2 != nil, "SmolLM2 model not pulled (emlab models pull smollm2-135m)")
    static let gemma3Present = ConditionTrait.enabled(if: TestResources.gemma3 != nil, "Gemma 3 model not pulled (emlab models pull gemma3-270m)")

    static let engine: Engine = {
        Parallel.configure(threads: 2)
        return try! Engine(path: TestResources.smolLM2!)
    }()

    static let gemma: Engine = {
        Parallel.configure(threads: 2)
        return try! Engine(path: TestResources.gemma3!)
    }()
}
