import Foundation
import Inference
import TestSupport
import Testing

@testable import Bench

@Suite("Host check and bench helpers")
struct HostCheckTests {
    @Test("sgemm and memory read give finite rates, named and referenced as the JSON keys say")
    func hostFigures() {
        Parallel.configure(threads: 2)
        let check = HostCheck(threads: 2)
        let s = check.sgemm(n: 64, repeats: 3)
        #expect(s.name == "host_sgemm64" && s.unit == "GFLOP/s")
        #expect(s.value.isFinite && s.value > 0)
        #expect(s.reference == 139 && s.referenceName == "reference machine")
        let r = check.memoryRead(megabytes: 8, repeats: 2, suffix: "_after")
        #expect(r.name == "host_read_after" && r.unit == "GB/s")
        #expect(r.value.isFinite && r.value > 0)
        #expect(r.reference == 18.5)
        #expect(HostCheck(threads: 3).sgemm(n: 16, repeats: 1).reference == nil)
    }

    @Test("median of odd and even counts")
    func medians() {
        #expect(median([3, 1, 2]) == 2)
        #expect(median([4, 1, 3, 2]) == 2.5)
        #expect(median([7]) == 7)
    }
}

@Suite("Bytes a decoding step reads")
struct DecodeBytesTests {
    @Test("SmolLM2 (tied head): every tensor once, near the file's size; keys and values per position on top",
          .enabled(if: TestResources.smolLM2 != nil, "SmolLM2 is not in the model folder (make test-models)"))
    func smolLM2() throws {
        let path = TestResources.smolLM2!
        let engine = try Engine(path: path)
        let bench = Benchmark(engine: engine, threads: 1, reference: nil)
        let weights = bench.bytesReadPerToken(context: 0)
        let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int
        // The file is the tensors plus metadata (the vocabulary) and alignment.
        #expect(weights <= size && weights > size * 9 / 10)
        let c = engine.model.config
        #expect(bench.bytesReadPerToken(context: 64) - weights == 64 * 2 * c.layerCount * c.kvDimension * 2)
        let limit = bench.decodingLimit(readGBps: 20, context: 0)
        #expect(abs(limit.value - 20e9 / Double(weights)) < 1e-9 * limit.value)
    }
}
