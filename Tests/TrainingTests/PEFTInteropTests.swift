import Foundation
import GGUF
import Inference
import Safetensors
import Testing
@testable import Training

/// Our PEFT adapter folder loaded by Hugging Face's `peft` on the same base model gives the logits
/// emlab's engine gives with the adapter, and the cross-entropy the trainer computes (llama, qwen2
/// and gemma3). Needs a Python with torch, transformers and peft:
/// `EMLAB_PEFT_PYTHON`, or `/work/venv/bin/python`; skipped with a printed reason otherwise.
@Suite("PEFT interop", .serialized)
struct PEFTInteropTests {
    static var python: String? {
        let candidates = [ProcessInfo.processInfo.environment["EMLAB_PEFT_PYTHON"], "/work/venv/bin/python"].compactMap { $0 }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static let script = #"""
    import json, sys, torch
    from transformers import AutoModelForCausalLM
    from peft import PeftModel
    base_dir, adapter_dir, tokens = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    model = AutoModelForCausalLM.from_pretrained(base_dir, torch_dtype=torch.float32).eval()
    ids = torch.tensor([tokens])
    with torch.no_grad():
        base = model(input_ids=ids).logits[0].flatten().tolist()
        peft_model = PeftModel.from_pretrained(model, adapter_dir).eval()
        adapted = peft_model(input_ids=ids).logits[0].flatten().tolist()
    print(json.dumps({"base": base, "adapted": adapted}))
    """#

    @Test func peftLoadsOurAdapter() throws {
        try Self.check(TinyModel.shape, seed: 50)
    }

    /// The same on a qwen2 model: `Qwen2ForCausalLM` (Q/K/V biases, rotate-half RoPE, untied head)
    /// reads the base's Q/K rows as the GGUF file holds them, and our adapter's B rows as written.
    @Test func peftLoadsOurQwen2Adapter() throws {
        try Self.check(TinyModel.qwen2Shape, seed: 52)
    }

    /// The same on a gemma3 model: `Gemma3ForCausalLM` (norm weights stored as w − 1, Q/K norms,
    /// post-norms, a sliding window of 4 on layer 0, linear RoPE scaling on layer 1).
    @Test func peftLoadsOurGemma3Adapter() throws {
        try Self.check(TinyModel.gemma3Shape, seed: 54)
    }

    static func check(_ s: ModelShape, seed: UInt64) throws {
        guard let python = Self.python else {
            print("PEFT interop skipped: no Python with torch, transformers and peft (set EMLAB_PEFT_PYTHON or make /work/venv)")
            return
        }
        let check = Process()
        check.executableURL = URL(fileURLWithPath: python)
        check.arguments = ["-c", "import torch, transformers, peft"]
        check.standardError = FileHandle.nullDevice
        try check.run()
        check.waitUntilExit()
        guard check.terminationStatus == 0 else {
            print("PEFT interop skipped: \(python) cannot import torch, transformers and peft")
            return
        }
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("emlab-peft-interop-\(s.architecture.rawValue)-\(getpid())")
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)

        // One random model, written twice: GGUF (for llama, Q/K rows permuted as llama.cpp's converter
        // does; qwen2 and gemma3 files keep them) and a Hugging Face folder (rows as they are).
        let tiny = try TinyModel(seed: seed, shape: s)   // its weights are in GGUF order
        let qwen2 = s.architecture == .qwen2, gemma = s.architecture == .gemma3, permuted = s.architecture == .llama
        defer { try? FileManager.default.removeItem(atPath: tiny.path) }
        let layout = WeightLayout(s)
        func matrix(_ offset: Int, rows: Int, cols: Int) -> [Float] { Array(tiny.weights[offset..<(offset + rows * cols)]) }
        var hf = SafetensorsWriter(metadata: ["format": "pt"])
        try hf.add("model.embed_tokens.weight", shape: [s.vocabulary, s.width], values: matrix(layout.embedding, rows: s.vocabulary, cols: s.width))
        /// A norm's weight as Hugging Face stores it: Gemma's RMSNorm multiplies by 1 + w (GGUF files hold the sum).
        func norm(_ offset: Int, _ n: Int) -> [Float] { matrix(offset, rows: 1, cols: n).map { gemma ? $0 - 1 : $0 } }
        try hf.add("model.norm.weight", shape: [s.width], values: norm(layout.outputNorm, s.width))
        for (l, L) in layout.layers.enumerated() {
            let p = "model.layers.\(l)."
            let q = matrix(L.qkv, rows: s.qDim, cols: s.width), k = matrix(L.qkv + s.qDim * s.width, rows: s.kvDim, cols: s.width)
            try hf.add(p + "self_attn.q_proj.weight", shape: [s.qDim, s.width],
                       values: !permuted ? q : LoRAAdapter.permuteRows(q, heads: s.heads, headDim: s.headDim, cols: s.width, toGGUF: false))
            try hf.add(p + "self_attn.k_proj.weight", shape: [s.kvDim, s.width],
                       values: !permuted ? k : LoRAAdapter.permuteRows(k, heads: s.kvHeads, headDim: s.headDim, cols: s.width, toGGUF: false))
            if let b = L.qkvBias {
                try hf.add(p + "self_attn.q_proj.bias", shape: [s.qDim], values: matrix(b, rows: 1, cols: s.qDim))
                try hf.add(p + "self_attn.k_proj.bias", shape: [s.kvDim], values: matrix(b + s.qDim, rows: 1, cols: s.kvDim))
                try hf.add(p + "self_attn.v_proj.bias", shape: [s.kvDim], values: matrix(b + s.qDim + s.kvDim, rows: 1, cols: s.kvDim))
            }
            try hf.add(p + "self_attn.v_proj.weight", shape: [s.kvDim, s.width], values: matrix(L.qkv + (s.qDim + s.kvDim) * s.width, rows: s.kvDim, cols: s.width))
            try hf.add(p + "self_attn.o_proj.weight", shape: [s.width, s.qDim], values: matrix(L.o, rows: s.width, cols: s.qDim))
            try hf.add(p + "mlp.gate_proj.weight", shape: [s.feedForward, s.width], values: matrix(L.gateUp, rows: s.feedForward, cols: s.width))
            try hf.add(p + "mlp.up_proj.weight", shape: [s.feedForward, s.width],
                       values: matrix(L.gateUp + s.feedForward * s.width, rows: s.feedForward, cols: s.width))
            try hf.add(p + "mlp.down_proj.weight", shape: [s.width, s.feedForward], values: matrix(L.down, rows: s.width, cols: s.feedForward))
            try hf.add(p + "input_layernorm.weight", shape: [s.width], values: norm(L.attnNorm, s.width))
            if gemma {
                try hf.add(p + "self_attn.q_norm.weight", shape: [s.headDim], values: norm(L.qNorm!, s.headDim))
                try hf.add(p + "self_attn.k_norm.weight", shape: [s.headDim], values: norm(L.kNorm!, s.headDim))
                try hf.add(p + "post_attention_layernorm.weight", shape: [s.width], values: norm(L.postAttnNorm!, s.width))
                try hf.add(p + "pre_feedforward_layernorm.weight", shape: [s.width], values: norm(L.ffnNorm, s.width))
                try hf.add(p + "post_feedforward_layernorm.weight", shape: [s.width], values: norm(L.postFFNNorm!, s.width))
            } else {
                try hf.add(p + "post_attention_layernorm.weight", shape: [s.width], values: norm(L.ffnNorm, s.width))
            }
        }
        if !s.tiedOutput {
            try hf.add("lm_head.weight", shape: [s.vocabulary, s.width], values: matrix(layout.output, rows: s.vocabulary, cols: s.width))
        }
        let baseDir = root.appendingPathComponent("base").path
        try FileManager.default.createDirectory(atPath: baseDir, withIntermediateDirectories: true)
        try hf.write(to: baseDir + "/model.safetensors")
        var config: [String: Any] = [
            "architectures": [qwen2 ? "Qwen2ForCausalLM" : "LlamaForCausalLM"], "model_type": qwen2 ? "qwen2" : "llama",
            "vocab_size": s.vocabulary, "hidden_size": s.width,
            "intermediate_size": s.feedForward, "num_hidden_layers": s.layers, "num_attention_heads": s.heads,
            "num_key_value_heads": s.kvHeads, "head_dim": s.headDim, "rms_norm_eps": Double(s.eps), "rope_theta": Double(s.ropeBase),
            "rope_parameters": ["rope_type": "default", "rope_theta": Double(s.ropeBase)],
            "max_position_embeddings": s.contextLength, "tie_word_embeddings": s.tiedOutput, "hidden_act": "silu", "torch_dtype": "float32",
        ]
        if qwen2 { config["use_sliding_window"] = false }
        if gemma {
            let factor = Double(1 / s.globalPositionScale)
            config["architectures"] = ["Gemma3ForCausalLM"]
            config["model_type"] = "gemma3_text"
            config["hidden_activation"] = "gelu_pytorch_tanh"
            config["hidden_act"] = "gelu_pytorch_tanh"
            config["query_pre_attn_scalar"] = s.headDim
            config["sliding_window"] = s.slidingWindow!
            config["sliding_window_pattern"] = s.globalEvery
            config["layer_types"] = (0..<s.layers).map { s.isGlobal(layer: $0) ? "full_attention" : "sliding_attention" }
            config["rope_local_base_freq"] = Double(s.localRopeBase)
            config["rope_scaling"] = ["rope_type": "linear", "factor": factor]
            config["rope_parameters"] = ["full_attention": ["rope_type": "linear", "factor": factor, "rope_theta": Double(s.ropeBase)],
                                         "sliding_attention": ["rope_type": "default", "rope_theta": Double(s.localRopeBase)]]
            config["final_logit_softcapping"] = NSNull()
            config["attn_logit_softcapping"] = NSNull()
            config["attention_bias"] = false
        }
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: baseDir + "/config.json"))

        let adapter = TinyModel.randomAdapter(s, rank: 4, seed: seed + 1, scale: 0.2)
        let adapterDir = root.appendingPathComponent("adapter").path
        try adapter.writePEFT(folder: adapterDir, model: s.modelConfig)

        let tokens: [Int32] = [3, 14, 15, 9, 26, 53, 58, 9, 7, 32]
        let p = Process()
        p.executableURL = URL(fileURLWithPath: python)
        p.arguments = ["-c", Self.script, baseDir, adapterDir, "\(tokens)"]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: [Double]])
        let torchBase = json["base"]!.map { Float($0) }, torchAdapted = json["adapted"]!.map { Float($0) }
        let oursBase = try TinyModel.engineLogits(path: tiny.path, tokens: tokens)
        let oursAdapted = try TinyModel.engineLogits(path: tiny.path, tokens: tokens, adapters: [(adapter, 1)])
        let dBase = LoRATests.maxAbsDiff(oursBase, torchBase), dAdapted = LoRATests.maxAbsDiff(oursAdapted, torchAdapted)
        let moved = LoRATests.maxAbsDiff(torchBase, torchAdapted)
        // The trainer (float32 throughout, no half-float cache) against the same logits: its loss on
        // every next token, without and with the adapter (read back from the PEFT folder).
        let all = tokens.map { _ in true }
        var batch = PackedBatch()
        batch.append(tokens: tokens, trained: all)
        let full = try TrainableModel(shape: s, weights: Floats(tiny.weights), mode: .full)
        let lora = try TrainableModel(shape: s, weights: Floats(tiny.weights), mode: .lora(LoRAConfig(rank: 4, alpha: 8)))
        try lora.lora!.load(try LoRAAdapter.load(path: adapterDir, model: s.modelConfig), into: lora.parameters.pointer)
        let n = Double(tokens.count - 1)
        let trainerBase = try full.run(batch, backward: false).loss / n, trainerAdapted = try lora.run(batch, backward: false).loss / n
        let torchLossBase = crossEntropy(logits: torchBase, vocabulary: s.vocabulary, tokens: tokens, trained: all)
        let torchLossAdapted = crossEntropy(logits: torchAdapted, vocabulary: s.vocabulary, tokens: tokens, trained: all)
        let lBase = abs(trainerBase - torchLossBase), lAdapted = abs(trainerAdapted - torchLossAdapted)
        print("PEFT interop (\(s.architecture.rawValue)): max |Δlogit| emlab vs transformers+peft: base \(dBase), with the adapter \(dAdapted) (the adapter moves logits by \(moved)); trainer loss vs transformers' cross-entropy: base \(lBase), with the adapter \(lAdapted) (losses \(torchLossBase), \(torchLossAdapted))")
        #expect(dBase < 5e-3 && dAdapted < 5e-3)
        #expect(lBase < 1e-5 && lAdapted < 1e-5)
        #expect(moved > 0.1)
    }
}
