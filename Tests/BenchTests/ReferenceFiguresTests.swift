import Foundation
import Testing

@testable import Bench

@Suite("Reference figures from llama.cpp's JSON lines")
struct ReferenceFiguresTests {
    // Records shaped as llama-bench -o jsonl and llama-batched-bench --output-format jsonl write them
    // (fields trimmed to those read, plus a few others), mixed and with a blank line.
    static let lines = """
        {"build_commit": "0c1e570", "model_filename": "m.gguf", "n_threads": 2, "n_prompt": 512, "n_gen": 0, "avg_ts": 455.11, "stddev_ts": 2.57}
        {"build_commit": "0c1e570", "model_filename": "m.gguf", "n_threads": 2, "n_prompt": 0, "n_gen": 128, "avg_ts": 72.35, "stddev_ts": 0.82}
        {"build_commit": "0c1e570", "model_filename": "m.gguf", "n_threads": 1, "n_prompt": 512, "n_gen": 0, "avg_ts": 240.5}
        {"build_commit": "0c1e570", "model_filename": "m.gguf", "n_threads": 2, "n_prompt": 128, "n_gen": 0, "avg_ts": 500}

        {"n_kv_max": 8192, "n_threads": 2, "is_pp_shared": 0, "pp": 64, "tg": 64, "pl": 1, "t_tg": 0.919, "speed_tg": 69.67, "speed": 120.71}
        {"n_kv_max": 8192, "n_threads": 2, "is_pp_shared": 0, "pp": 64, "tg": 64, "pl": 64, "t_tg": 21.0, "speed_tg": 194.88, "speed": 278.24}
        {"n_kv_max": 8192, "n_threads": 2, "is_pp_shared": 1, "pp": 64, "tg": 64, "pl": 64, "speed_tg": 300.0}
        {"n_kv_max": 8192, "n_threads": 2, "is_pp_shared": 0, "pp": 128, "tg": 64, "pl": 8, "speed_tg": 150.0}
        """

    @Test("pp512, tg128 and 64+64 batched figures by thread count; other shapes skipped")
    func reads() throws {
        let r = try ReferenceFigures(llamaCppJSONLines: Self.lines, file: "/tmp/here/llama.jsonl")
        #expect(r.pp512 == [2: 455.11, 1: 240.5])
        #expect(r.tg128 == [2: 72.35])
        #expect(r.batched == [2: [1: 69.67, 64: 194.88]])
        #expect(r.source == "llama.cpp (llama.jsonl)")
    }

    @Test("the built-in figures hold 2-thread batched figures; a file's are keyed by its thread counts")
    func usedByResults() throws {
        let r = try ReferenceFigures(llamaCppJSONLines: Self.lines, file: "llama.jsonl")
        #expect(r.batched[2]?[64] == 194.88 && r.batched[1] == nil)
        let builtin = try #require(ReferenceFigures.forModel(named: "gemma3-270m"))
        #expect(builtin.batched[2]?[64] == 131 && builtin.source == "llama.cpp")
        #expect(ReferenceFigures.forModel(named: "unknown") == nil)
    }

    @Test("a file that is not UTF-8 text is a ReferenceFileError naming it (a data error, not a usage mistake)")
    func unreadableFile() throws {
        let path = NSTemporaryDirectory() + "ref-\(UUID().uuidString).jsonl"
        try Data([0xFF, 0xFE, 0x00, 0xC3]).write(to: URL(fileURLWithPath: path))
        #expect(throws: ReferenceFileError.self) { _ = try ReferenceFigures(llamaCppJSONLinesAt: path) }
        #expect(throws: ReferenceFileError.self) { _ = try ReferenceFigures(llamaCppJSONLinesAt: path + "-missing") }
    }

    @Test("malformed lines are errors that name the file, the line and the field")
    func errors() {
        func message(_ text: String) -> String? {
            do {
                _ = try ReferenceFigures(llamaCppJSONLines: text, file: "ref.jsonl")
                return nil
            } catch {
                return "\(error)"
            }
        }
        let good = #"{"n_threads": 2, "n_prompt": 512, "n_gen": 0, "avg_ts": 455}"#
        #expect(message(good + "\n| 64 | 64 | 1 |") == "ref.jsonl:2: not a JSON object")
        #expect(message(#"{"n_threads": 2, "n_prompt": 512, "avg_ts": 455}"#) == "ref.jsonl:1: no field 'n_gen'")
        #expect(message(#"{"n_threads": 2, "n_prompt": 512, "n_gen": 0, "avg_ts": "fast"}"#)
                    == "ref.jsonl:1: field 'avg_ts' is not a number")
        #expect(message(#"{"n_threads": 2, "n_prompt": 512, "n_gen": 0, "avg_ts": 0}"#)
                    == "ref.jsonl:1: field 'avg_ts' is not a positive rate")
        #expect(message(#"{"n_threads": 2.5, "pp": 64, "tg": 64, "pl": 8, "is_pp_shared": 0, "speed_tg": 9}"#)
                    == "ref.jsonl:1: field 'n_threads' is not a count")
        #expect(message(good + "\n[1, 2]")  == "ref.jsonl:2: not a JSON object")
        #expect(message(#"{"model": "x"}"#)?.hasPrefix("ref.jsonl:1: neither a llama-bench record") == true)
        #expect(message(#"{"n_threads": 2, "n_prompt": 128, "n_gen": 0, "avg_ts": 455}"#)
                    == "ref.jsonl: no pp512, tg128 or 64+64-token batched figures")
        #expect(message("") == "ref.jsonl: no pp512, tg128 or 64+64-token batched figures")
        #expect(message(good) == nil)
    }
}
