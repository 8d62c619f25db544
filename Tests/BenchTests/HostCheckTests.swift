import Inference
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
