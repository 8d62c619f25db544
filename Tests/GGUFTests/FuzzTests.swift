import Foundation
import TestSupport
import Testing
import GGUF

/// Seeded mutation fuzzing of GGUF headers: every mutated input must either parse or throw
/// `GGUFError` (typed throws make anything else impossible short of a crash), promptly.
@Suite("GGUF header fuzzing")
struct FuzzTests {
    static let interesting64: [UInt64] = [0, 1, 2, 8, 9, 31, 255, 1 << 16, 1 << 31, 1 << 32, 1 << 62, 1 << 63,
                                          UInt64(Int64.max), .max, .max - 1]
    static let interesting32: [UInt32] = [0, 1, 2, 3, 4, 5, 8, 9, 12, 13, 30, 31, 99, 1 << 31, .max]

    /// One to four random edits confined to the first `region` bytes: bit flips, special bytes,
    /// insertions, deletions, and overwrites with boundary u32/u64 values (lengths, counts, types).
    static func mutate(_ bytes: inout [UInt8], region: Int, rng: inout SplitMix64) {
        for _ in 0..<Int.random(in: 1...4, using: &rng) {
            let limit = min(region, bytes.count)
            guard limit > 0 else { bytes.append(UInt8.random(in: 0...255, using: &rng)); continue }
            let i = Int.random(in: 0..<limit, using: &rng)
            switch rng.next() % 7 {
            case 0: bytes[i] ^= UInt8(1) << UInt8(rng.next() % 8)
            case 1: bytes[i] = [0, 1, 0x7F, 0x80, 0xFF].randomElement(using: &rng)!
            case 2: bytes.insert(UInt8.random(in: 0...255, using: &rng), at: i)
            case 3: bytes.remove(at: i)
            case 4: bytes.removeSubrange(i..<min(bytes.count, i + Int.random(in: 1...64, using: &rng)))
            case 5:
                var v = interesting64.randomElement(using: &rng)!
                if rng.next() % 3 == 0 { v = UInt64.random(in: 0...UInt64(bytes.count * 2), using: &rng) }
                for k in 0..<8 where i + k < bytes.count { bytes[i + k] = UInt8(truncatingIfNeeded: v >> UInt64(8 * k)) }
            default:
                let v = interesting32.randomElement(using: &rng)!
                for k in 0..<4 where i + k < bytes.count { bytes[i + k] = UInt8(truncatingIfNeeded: v >> UInt32(8 * k)) }
            }
        }
    }

    /// Parses; on success checks the invariants every caller relies on and touches all tensor bytes.
    static func parses(_ bytes: [UInt8]) -> Bool {
        do {
            let f = try GGUFFile(bytes: bytes)
            var sum = 0
            for t in f.tensors {
                #expect(t.offset >= 0 && f.dataOffset + t.offset + t.byteCount <= f.fileSize)
                #expect(t.offset % f.alignment == 0)
                let d = f.data(for: t)
                if let first = d.first, let last = d.last { sum &+= Int(first) &+ Int(last) }
            }
            #expect(f.metadataKeys.count == f.metadata.count)
            return sum >= 0 || true
        } catch {
            _ = error.description  // formatting the message must not trap either
            return false
        }
    }

    static func run(seed: UInt64, base: [UInt8], region: Int, iterations: Int) -> (ok: Int, failed: Int) {
        var rng = SplitMix64(seed: seed)
        var ok = 0, failed = 0
        let clock = ContinuousClock()
        var slowest = Duration.zero
        for _ in 0..<iterations {
            var bytes = base
            mutate(&bytes, region: region, rng: &rng)
            let start = clock.now
            if parses(bytes) { ok += 1 } else { failed += 1 }
            slowest = max(slowest, clock.now - start)
        }
        // No input may make the parser crawl (a hang would show up here long before a timeout).
        #expect(slowest < .seconds(1), "slowest parse took \(slowest)")
        return (ok, failed)
    }

    @Test func mutatedSyntheticModel() throws {
        let bytes = try syntheticModel(vocab: 400, merges: 300).serialized()
        let header = try GGUFFile(bytes: bytes).dataOffset
        let (ok, failed) = Self.run(seed: 0xF022, base: bytes, region: header, iterations: 3000)
        // Both outcomes must occur, or the mutations are not exercising the parser.
        #expect(ok > 100 && failed > 100, "ok \(ok), failed \(failed)")
    }

    @Test(.enabled(if: RealModel.isPresent, "SmolLM2 model not found at \(RealModel.expectedPath)"))
    func mutatedRealModelPrefix() throws {
        let handle = try #require(FileHandle(forReadingAtPath: RealModel.path!))
        defer { try? handle.close() }
        let prefix = [UInt8](handle.readData(ofLength: 64 * 1024))
        #expect(prefix.count == 64 * 1024)
        // The unmodified prefix is cut inside the vocabulary, whose 49152 entries cannot fit in what is left.
        guard case .countTooLarge(_, 49152, _, let context)? = parseError(prefix) else {
            Issue.record("expected a refused vocabulary count, got \(String(describing: parseError(prefix)))"); return
        }
        #expect(context.contains("tokenizer.ggml.tokens"))
        let (ok, failed) = Self.run(seed: 0x5EED, base: prefix, region: prefix.count, iterations: 600)
        #expect(failed > 0 && ok >= 0)
    }
}
