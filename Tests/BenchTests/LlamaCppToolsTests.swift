import Foundation
import TestSupport
import Testing

@testable import Bench

/// `bench --llama-cpp`: the tools are stand-in shell scripts that record their arguments and print
/// what llama.cpp's would (a table and log lines around the JSON records, logs on stderr).
@Suite("Side by side with llama.cpp's own tools")
struct LlamaCppToolsTests {
    /// A folder `build/bin` with the two scripts; `bench` and `batched` are their bodies.
    static func tools(bench: String, batched: String) throws -> String {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("emlab-llamacpp-\(UUID().uuidString)").path
        let bin = root + "/build/bin"
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        for (name, body) in [("llama-bench", bench), ("llama-batched-bench", batched)] {
            let script = "#!/bin/sh\necho \"$@\" > \"$(dirname \"$0\")/\(name).args\"\n" + body + "\n"
            try script.write(toFile: "\(bin)/\(name)", atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: "\(bin)/\(name)")
        }
        return root
    }

    static let benchBody = """
        echo 'load_backend: loaded CPU backend' >&2
        echo '{"n_threads": 2, "n_prompt": 512, "n_gen": 0, "avg_ts": 300.5}'
        echo '{"n_threads": 2, "n_prompt": 0, "n_gen": 128, "avg_ts": 110.25}'
        """
    static let batchedBody = """
        echo 'llama_model_loader: - type q4_1' >&2
        echo 'main: n_kv_max = 8192'
        echo '|    PP |     TG |    B |'
        echo '{"n_kv_max": 8192, "n_threads": 2, "is_pp_shared": 0, "pp": 64, "tg": 64, "pl": 32, "speed_tg": 177.0}'
        echo '{"n_kv_max": 8192, "n_threads": 2, "is_pp_shared": 0, "pp": 64, "tg": 64, "pl": 64, "speed_tg": 168.5}'
        """

    @Test("finds the tools under build/bin, runs them with the bench's shapes, and reads their figures")
    func measures() throws {
        let root = try Self.tools(bench: Self.benchBody, batched: Self.batchedBody)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let tools = try LlamaCppTools(directory: root)
        #expect(tools.benchTool == root + "/build/bin/llama-bench")
        let r = try tools.measure(model: "/m/model.gguf", threads: 2, prompt: true, generation: true, sequences: [32, 64],
                                  repetitions: 3, label: "llama.cpp round 1")
        #expect(r.pp512 == [2: 300.5])
        #expect(r.tg128 == [2: 110.25])
        #expect(r.batched == [2: [32: 177.0, 64: 168.5]])
        #expect(r.source == "llama.cpp round 1")
        let benchArgs = try String(contentsOfFile: root + "/build/bin/llama-bench.args", encoding: .utf8)
        #expect(benchArgs == "-m /m/model.gguf -t 2 -p 512 -n 128 -r 3 -o jsonl\n")
        let batchedArgs = try String(contentsOfFile: root + "/build/bin/llama-batched-bench.args", encoding: .utf8)
        // The context holds 64 sequences of 64 + 64 tokens.
        #expect(batchedArgs == "-m /m/model.gguf -c 8192 -b 2048 -ub 512 -npp 64 -ntg 64 -npl 32,64 -t 2 --output-format jsonl\n")
    }

    @Test("only the figures asked for: tg alone runs llama-bench without a prompt, and no batched tool")
    func onlyWhatIsAsked() throws {
        let root = try Self.tools(bench: Self.benchBody, batched: "exit 3")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let tools = try LlamaCppTools(directory: root + "/build/bin")
        _ = try tools.measure(model: "m.gguf", threads: 1, prompt: false, generation: true, sequences: [], label: "x")
        let benchArgs = try String(contentsOfFile: root + "/build/bin/llama-bench.args", encoding: .utf8)
        #expect(benchArgs.contains("-p 0 -n 128"))
        #expect(!FileManager.default.fileExists(atPath: root + "/build/bin/llama-batched-bench.args"))
    }

    @Test("a missing tool, a failing tool and output without figures are errors that say which")
    func errors() throws {
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("emlab-none-\(UUID().uuidString)").path
        #expect(throws: LlamaCppError.self) { try LlamaCppTools(directory: empty) }
        do {
            _ = try LlamaCppTools(directory: empty)
        } catch {
            #expect("\(error)".contains("no executable llama-bench in \(empty)"))
        }

        let failing = try Self.tools(bench: "echo 'error: failed to load model' >&2; exit 1", batched: Self.batchedBody)
        defer { try? FileManager.default.removeItem(atPath: failing) }
        do {
            _ = try LlamaCppTools(directory: failing).measure(model: "m.gguf", threads: 2, prompt: true, generation: true,
                                                              sequences: [], label: "x")
            Issue.record("a failing tool must throw")
        } catch let e as LlamaCppError {
            guard case let .failed(tool, status, log) = e else { Issue.record("expected .failed, got \(e)"); return }
            #expect(tool.hasSuffix("/llama-bench"))
            #expect(status == 1)
            #expect(log.contains("failed to load model"))
        }

        let garbage = try Self.tools(bench: "echo '{\"n_threads\": 2, \"n_prompt\": 512, \"n_gen\": 0, \"avg_ts\": \"fast\"}'",
                                     batched: Self.batchedBody)
        defer { try? FileManager.default.removeItem(atPath: garbage) }
        do {
            _ = try LlamaCppTools(directory: garbage).measure(model: "m.gguf", threads: 2, prompt: true, generation: false,
                                                              sequences: [], label: "x")
            Issue.record("unreadable output must throw")
        } catch let e as LlamaCppError {
            guard case let .unreadableOutput(inner) = e else { Issue.record("expected .unreadableOutput, got \(e)"); return }
            #expect(inner.line == 1)
            #expect(inner.reason.contains("avg_ts"))
        }
    }

    @Test("rounds: each figure's values in order, its per-round ratio and their spread")
    func sideBySide() {
        var s = SideBySide()
        s.add(BenchResult(name: "pp512", value: 450, unit: "tokens/s", reference: 300))
        s.add(BenchResult(name: "batched_32_sampled", value: 600, unit: "tokens/s", reference: nil))  // no llama.cpp figure
        s.add(BenchResult(name: "tg128", value: 100, unit: "tokens/s", reference: 80))
        s.add(BenchResult(name: "pp512", value: 420, unit: "tokens/s", reference: 350))
        #expect(s.rows.map(\.name) == ["pp512", "tg128"])
        #expect(s.rows[0].emlab == [450, 420])
        #expect(s.rows[0].llamaCpp == [300, 350])
        #expect(s.rows[0].ratios == [1.5, 1.2])
        #expect(spread(s.rows[0].ratios, digits: 2, suffix: "×") == "1.20–1.50×")
        #expect(spread(s.rows[1].ratios, digits: 2) == "1.25")
        #expect(spread([]) == "–")
    }
}

/// `emlab bench --llama-cpp` as a user runs it, against the stand-in tools.
@Suite("bench --llama-cpp from the command line",
       .enabled(if: TestResources.smolLM2 != nil && EmlabCLI.built, "needs SmolLM2 (make test-models) and the emlab binary"))
struct LlamaCppCLITests {
    @Test("two rounds: each figure's median, llama.cpp's, and the ratio's spread in the JSON; the table in the text")
    func rounds() throws {
        let root = try LlamaCppToolsTests.tools(bench: LlamaCppToolsTests.benchBody, batched: LlamaCppToolsTests.batchedBody)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let args = ["bench", "--model", TestResources.smolLM2!, "--only", "tg", "--runs", "1", "--rounds", "2", "--llama-cpp", root]
        let r = try EmlabCLI.run(args + ["--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Double], "\(r.stdout)")
        #expect(object["tg128_llama_cpp"] == 110.25)
        let tg = try #require(object["tg128"]), lo = try #require(object["tg128_ratio_min"]), hi = try #require(object["tg128_ratio_max"])
        #expect(tg > 0 && lo <= hi && lo > 0)
        #expect(object["tg128_limit"].map { $0 > 0 } == true)
        let text = try EmlabCLI.run(args)
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.contains("-- round 2: llama.cpp") && text.stdout.contains("side by side, 2 rounds"), "\(text.stdout)")
        #expect(text.stdout.contains("kernels avx2+fma+f16c") || text.stdout.contains("kernels scalar"), "\(text.stdout)")
    }

    @Test("pp: the float path's pp512 and the 8-bit kernels' pp512_8bit, both against llama.cpp's pp512; prompts=8bit gives pp512 alone")
    func promptPaths() throws {
        let root = try LlamaCppToolsTests.tools(bench: LlamaCppToolsTests.benchBody, batched: LlamaCppToolsTests.batchedBody)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let model = TestResources.smolLM2!
        let r = try EmlabCLI.run(["bench", "--model", model, "--only", "pp", "--runs", "1", "--rounds", "1", "--llama-cpp", root, "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Double], "\(r.stdout)")
        #expect(object["pp512"].map { $0 > 0 } == true && object["pp512_8bit"].map { $0 > 0 } == true, "\(object)")
        #expect(object["pp512_llama_cpp"] == 300.5 && object["pp512_8bit_llama_cpp"] == 300.5, "\(object)")
        let eight = try EmlabCLI.run(["bench", "--model", "\(model),prompts=8bit", "--only", "pp", "--runs", "1", "--json"])
        #expect(eight.status == 0, "\(eight.stderr)")
        let keys = try #require(try JSONSerialization.jsonObject(with: Data(eight.stdout.utf8)) as? [String: Double]).keys
        #expect(keys.contains("pp512") && !keys.contains("pp512_8bit"), "\(keys.sorted())")
    }

    @Test("tools that print no figure are a data error (exit 65) naming the field; a missing folder says what to build")
    func errors() throws {
        let garbage = try LlamaCppToolsTests.tools(bench: "echo '{\"n_threads\": 2, \"n_prompt\": 0, \"n_gen\": 128}'", batched: "exit 0")
        defer { try? FileManager.default.removeItem(atPath: garbage) }
        let bad = try EmlabCLI.run(["bench", "--model", TestResources.smolLM2!, "--only", "tg", "--runs", "1", "--llama-cpp", garbage])
        #expect(bad.status == 65, "\(bad.stderr)")
        #expect(bad.stderr.contains("avg_ts"), "\(bad.stderr)")
        let missing = try EmlabCLI.run(["bench", "--model", TestResources.smolLM2!, "--only", "tg", "--llama-cpp", "/nonexistent/llama"])
        #expect(missing.status != 0 && missing.stderr.contains("make llama-cpp"), "\(missing.stderr)")
    }
}
