import Inference
import Testing
import TestSupport

/// Every test that runs the real model lives under this suite: they share one engine and run one
/// at a time (the engine and its thread pool serve one forward pass at a time).
@Suite(.serialized, .enabled(if: TestResources.smolLM2 != nil, "SmolLM2 model not pulled (make model)"))
struct RealModel {
    static let engine: Engine = {
        Parallel.configure(threads: 2)
        return try! Engine(path: TestResources.smolLM2!)
    }()
}
