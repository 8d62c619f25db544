import ArgumentParser
import Bench
import Core
import Foundation
import Inference
import ModelStore

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure the engine against llama.cpp's figures on this machine kind.",
        discussion: """
        host: this host's OpenBLAS sgemm and memory read speed against the machine llama.cpp's \
        figures were taken on (shared VMs vary by tens of percent). pp512, tg128: one sequence \
        (llama-bench). batched_N: N sequences of 64 prompt tokens, 64 new tokens each, decoded \
        together; generated tokens/s over the forward passes (llama-batched-bench's \
        S_TG, which samples nothing), and with sampling (batched_N_sampled). icl: one \
        2,000-token prefix, 8 questions × 16 samples × 64 tokens, with prefix sharing and without.

        --llama-cpp DIR runs llama.cpp's llama-bench and llama-batched-bench from DIR on this host, \
        interleaved with emlab's own runs (--rounds, two by default), and prints every ratio with its \
        spread over the rounds: the normal way to bench (`make llama-cpp` builds the two tools). \
        --reference takes llama.cpp's figures measured earlier on this host (the JSON lines of \
        `llama-bench -p 512 -n 128 -t 2 -o jsonl` and of `llama-batched-bench -npp 64 -ntg 64 \
        -npl 1,8,32,64 -t 2 --output-format jsonl`, in one file). Without either, the ratios are to \
        figures recorded on another host, and move with this one.
        """)

    @OptionGroup var options: ModelOptions

    @Option(help: "Timed runs per single-stream figure (the median is reported).")
    var runs = 5

    static let allParts = ["host", "pp", "tg", "batched", "icl"]

    @Option(help: "Comma-separated parts to run: host, pp, tg, batched, icl, guard (the guard hook's latency with process start; needs no model), steer (batched decoding with per-sequence steering and capturing against plain, at the largest --sequences count), train (one optimizer step, sequence 256, batch 8: LoRA r32 on all seven projections and full finetuning, against PyTorch), sae (one TopK SAE training step, d_in 576, 18,432 latents, k 32, batch 4,096, against PyTorch; needs no model), memory (the KV cache and peak resident memory of one sequence prefilled to each --contexts length). (default: host,pp,tg,batched,icl)",
            transform: CommaList.parser("one of \(BenchCommand.allParts.joined(separator: ", ")), guard, steer, train, sae, memory") { BenchCommand.allParts.contains($0) || ["guard", "steer", "train", "sae", "memory"].contains($0) })
    var only: CommaList<String> = CommaList(BenchCommand.allParts)

    @Option(help: "Comma-separated sequence counts for the batched figures. (default: 1,8,32,64)",
            transform: CommaList.parser("a positive sequence count") { $0 > 0 })
    var sequences: CommaList<Int> = [1, 8, 32, 64]

    @Option(help: "Comma-separated context lengths for the memory part. (default: 512,2048,8192)",
            transform: CommaList.parser("a positive token count") { $0 > 0 })
    var contexts: CommaList<Int> = [512, 2048, 8192]

    @Option(help: "A file of llama-bench / llama-batched-bench JSON lines for the same model, measured on this host: ratios against those figures instead of the reference machine's.")
    var reference: String?

    @Option(name: .customLong("llama-cpp"), help: ArgumentHelp("A llama.cpp build (DIR, DIR/build/bin or DIR/bin holding llama-bench and llama-batched-bench): run them side by side with emlab, round after round, and print each ratio's spread.", valueName: "dir"))
    var llamaCpp: String?

    @Option(help: "Side-by-side rounds with --llama-cpp: llama.cpp, then emlab, this many times.")
    var rounds = 2

    @Flag(help: "Run the unshared ICL scenario in full instead of scaling from 3 measured prompts (slow).")
    var fullIcl = false

    @Option(help: "Vectors/s of shared/reference/sae-baseline.py run on this host (the sae part's ratio is taken against it instead of the issue's Zen 3 figure).")
    var saeBaseline: Double?

    @Flag(help: "Print the figures as one JSON object.")
    var json = false

    func run() throws {
        let parts = Set(only.elements)
        // guard and sae are printed on their own and need no model.
        if parts.contains("guard") { try GuardBench.run(json: json) }
        if parts.contains("sae") {
            // No model: random activation vectors of SmolLM2's width.
            for r in SAEBenchmark().run(threads: options.threads, baseline: saeBaseline) {
                let ref = r.reference.map { String(format: "%@ %g → %.2f×", r.referenceName as NSString, $0, r.value / $0) } ?? ""
                if json { try printJSON([r.name: (r.value * 100).rounded() / 100] as [String: Double]) }
                else { print(String(format: "%-15@ %9.2f %-10@ %@", r.name as NSString, r.value, r.unit as NSString, ref as NSString)) }
            }
        }
        if parts.subtracting(["guard", "sae"]).isEmpty { return }
        if llamaCpp != nil && reference != nil { throw ValidationError("give --llama-cpp or --reference, not both") }
        guard rounds >= 1 else { throw ValidationError("--rounds must be at least 1") }
        let counts = sequences.elements
        let tools = try llamaCpp.map { try LlamaCppTools(directory: $0) }
        let recorded = Registry.entry(named: try options.localName()).flatMap { ReferenceFigures.forModel(named: $0.name) }
        let fixedReference = try reference.map { try ReferenceFigures(llamaCppJSONLinesAt: $0) } ?? (tools == nil ? recorded : nil)
        let engine = try options.openLocalModel().engine
        var results: [BenchResult] = []
        var sideBySide = SideBySide()
        var enginePeak = 0.0  // peak RSS before a host check mid-run restarted it
        func report(_ r: BenchResult) {
            results.append(r)
            if !json {
                let ref = r.reference.map { String(format: "%@ %g → %.2f×", r.referenceName as NSString, $0, r.value / $0) } ?? ""
                print(String(format: "%-15@ %9.2f %-10@ %@", r.name as NSString, r.value, r.unit as NSString, ref as NSString))
            }
        }
        func checkHost(suffix: String = "") {
            let host = HostCheck(threads: options.threads)
            report(host.sgemm(suffix: suffix))
            report(host.memoryRead(suffix: suffix))
        }
        if !json {
            print("model \(options.model), \(options.threads) threads, kernels \(KernelPath.current.description)")
            if tools == nil && reference == nil && recorded != nil && !parts.isDisjoint(with: ["pp", "tg", "batched"]) {
                print("ratios to llama.cpp's figures recorded on another host (smollm2.md): they move with this host; --llama-cpp DIR runs llama.cpp side by side")
            }
        }
        if parts.contains("host") {
            checkHost()
            resetPeakResidentMemory()  // peak_rss_mb: the engine's, not the check's buffers
        }
        for round in 1...(tools == nil ? 1 : rounds) {
            var roundReference = fixedReference
            if let tools, !parts.isDisjoint(with: ["pp", "tg", "batched"]) {
                guard let path = engine.file.path else { throw ValidationError("--llama-cpp needs the model as a file") }
                if !json { print("-- round \(round): llama.cpp") }
                roundReference = try tools.measure(model: path, threads: options.threads, prompt: parts.contains("pp"),
                                                   generation: parts.contains("tg"),
                                                   sequences: parts.contains("batched") ? counts : [],
                                                   label: "llama.cpp round \(round)")
                if !json { print("-- round \(round): emlab") }
            }
            let bench = Benchmark(engine: engine, threads: options.threads, runs: runs, reference: roundReference)
            func take(_ r: BenchResult) {
                report(r)
                if tools != nil { sideBySide.add(r) }
            }
            if parts.contains("pp") {
                take(try bench.promptProcessing())
                if engine.promptPath == .float { take(try bench.promptProcessing(eightBit: true)) }
            }
            if parts.contains("tg") {
                let tg = try bench.textGeneration()
                take(tg)
                // What memory bandwidth allows: the host's read speed, measured right after (the host
                // changes from minute to minute), over the bytes one token reads.
                enginePeak = max(enginePeak, peakResidentMegabytes() ?? 0)
                let hostRead = HostCheck(threads: options.threads).memoryRead(suffix: "_tg")
                resetPeakResidentMemory()  // its 512 MB buffer is not the engine's
                report(hostRead)
                let read = hostRead.value
                let limit = bench.decodingLimit(readGBps: read)
                take(limit)
                if !json {
                    print(String(format: "  (%.1f MB read a token at %.1f GB/s: tg128 is %.0f%% of that limit)",
                                 Double(bench.bytesReadPerToken(context: 64)) / 1e6, read, 100 * tg.value / limit.value))
                }
            }
            if parts.contains("batched") {
                for n in counts { for r in try bench.batched(sequences: n) { take(r) } }
            }
        }
        if tools != nil && !json && !sideBySide.rows.isEmpty {
            print("side by side, \(rounds) round\(rounds == 1 ? "" : "s") (smallest–largest):")
            func cell(_ text: String) -> String { text.padding(toLength: max(16, text.count + 1), withPad: " ", startingAt: 0) }
            print(cell("figure") + cell("llama.cpp") + cell("emlab") + "emlab / llama.cpp")
            for row in sideBySide.rows {
                print(cell(row.name) + cell(spread(row.llamaCpp)) + cell(spread(row.emlab)) + spread(row.ratios, digits: 2, suffix: "×"))
            }
        }
        let bench = Benchmark(engine: engine, threads: options.threads, runs: runs, reference: fixedReference)
        if parts.contains("icl") {
            let (cached, uncached) = try bench.icl(fullUncached: fullIcl)
            report(cached)
            report(uncached)
            if !json { print(String(format: "icl speed-up from sharing: %.1f×", uncached.value / cached.value)) }
        }
        if parts.contains("steer") { for r in try bench.steering(sequences: counts.max()!) { report(r) } }
        if parts.contains("train") {
            let sgemm = results.first { $0.name == "host_sgemm1024" }?.value ?? {
                let r = HostCheck(threads: options.threads).sgemm()
                report(r)
                return r.value
            }()
            try TrainBenchmark(file: engine.file, threads: options.threads).runAll(sgemm: sgemm) { report($0) }
        }
        var rss = peakResidentMegabytes().map { max($0, enginePeak) }
        if parts.contains("memory") {
            for r in try bench.memory(contexts: contexts.elements) { report(r) }
            rss = nil  // the memory part restarts the peak for each length and reports it itself
        }
        if parts.contains("host") && parts.count > 1 { checkHost(suffix: "_after") }  // the host may have changed meanwhile
        if json {
            var object: [String: Double] = [:]
            for r in results {
                object[r.name] = (r.value * 100).rounded() / 100
                if let ratio = r.ratio { object[r.name + "_ratio"] = (ratio * 100).rounded() / 100 }
            }
            for row in sideBySide.rows {  // over the rounds: the median, and the ratio's spread
                object[row.name] = (median(row.emlab) * 100).rounded() / 100
                object[row.name + "_llama_cpp"] = (median(row.llamaCpp) * 100).rounded() / 100
                object[row.name + "_ratio"] = (median(row.ratios) * 100).rounded() / 100
                object[row.name + "_ratio_min"] = ((row.ratios.min() ?? 0) * 100).rounded() / 100
                object[row.name + "_ratio_max"] = ((row.ratios.max() ?? 0) * 100).rounded() / 100
            }
            object["threads"] = Double(options.threads)
            if let rss { object["peak_rss_mb"] = rss.rounded() }
            try printJSON(object)
        } else if let rss {
            print(String(format: "peak_rss_mb     %9.0f", rss))
        }
    }
}
