import Foundation
import GGUF
import Inference
import Safetensors
import Testing
@testable import Training

/// Our PEFT adapter folder loaded by Hugging Face's `peft` on the same base model gives the logits
/// emlab's engine gives with the adapter. Needs a Python with torch, transformers and peft:
/// `EMLAB_PEFT_PYTHON`, or `/work/venv/bin/python`; skipped with a printed reason otherwise.
@Suite("PEFT interop", .serialized)
struct PEFTInteropTests {
    static var python: String? {
        let candidates = [ProcessInfo.processInfo.environment["EMLAB_PEFT_PYTHON"], "/work/venv/bin/python"].compactMap { $0 }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static let script = #"""
    import json, sys, torch
    from transformers import LlamaForCausalLM
    from peft import PeftModel
    base_dir, adapter_dir, tokens = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    model = LlamaForCausalLM.from_pretrained(base_dir, torch_dtype=torch.float32).eval()
    ids = torch.tensor([tokens])
    with torch.no_grad():
        base = model(input_ids=ids).logits[0].flatten().tolist()
        peft_model = PeftModel.from_pretrained(model, adapter_dir).eval()
        adapted = peft_model(input_ids=ids).logits[0].flatten().tolist()
    print(json.dumps({"base": base, "adapted": adapted}))
    """#

    @Test func peftLoadsOurAdapter() throws {
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
        let s = TinyModel.shape
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("emlab-peft-interop-\(getpid())")
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)

        // One random model, written twice: GGUF (Q/K rows permuted as llama.cpp's converter does) and
        // a Hugging Face folder (rows as they are).
        let tiny = try TinyModel(seed: 50)   // its weights are in GGUF order
        defer { try? FileManager.default.removeItem(atPath: tiny.path) }
        let layout = WeightLayout(s)
        func matrix(_ offset: Int, rows: Int, cols: Int) -> [Float] { Array(tiny.weights[offset..<(offset + rows * cols)]) }
        var hf = SafetensorsWriter(metadata: ["format": "pt"])
        try hf.add("model.embed_tokens.weight", shape: [s.vocabulary, s.width], values: matrix(layout.embedding, rows: s.vocabulary, cols: s.width))
        try hf.add("model.norm.weight", shape: [s.width], values: matrix(layout.outputNorm, rows: 1, cols: s.width))
        for (l, L) in layout.layers.enumerated() {
            let p = "model.layers.\(l)."
            let q = matrix(L.qkv, rows: s.qDim, cols: s.width), k = matrix(L.qkv + s.qDim * s.width, rows: s.kvDim, cols: s.width)
            try hf.add(p + "self_attn.q_proj.weight", shape: [s.qDim, s.width],
                       values: LoRAAdapter.permuteRows(q, heads: s.heads, headDim: s.headDim, cols: s.width, toGGUF: false))
            try hf.add(p + "self_attn.k_proj.weight", shape: [s.kvDim, s.width],
                       values: LoRAAdapter.permuteRows(k, heads: s.kvHeads, headDim: s.headDim, cols: s.width, toGGUF: false))
            try hf.add(p + "self_attn.v_proj.weight", shape: [s.kvDim, s.width], values: matrix(L.qkv + (s.qDim + s.kvDim) * s.width, rows: s.kvDim, cols: s.width))
            try hf.add(p + "self_attn.o_proj.weight", shape: [s.width, s.qDim], values: matrix(L.o, rows: s.width, cols: s.qDim))
            try hf.add(p + "mlp.gate_proj.weight", shape: [s.feedForward, s.width], values: matrix(L.gateUp, rows: s.feedForward, cols: s.width))
            try hf.add(p + "mlp.up_proj.weight", shape: [s.feedForward, s.width],
                       values: matrix(L.gateUp + s.feedForward * s.width, rows: s.feedForward, cols: s.width))
            try hf.add(p + "mlp.down_proj.weight", shape: [s.width, s.feedForward], values: matrix(L.down, rows: s.width, cols: s.feedForward))
            try hf.add(p + "input_layernorm.weight", shape: [s.width], values: matrix(L.attnNorm, rows: 1, cols: s.width))
            try hf.add(p + "post_attention_layernorm.weight", shape: [s.width], values: matrix(L.ffnNorm, rows: 1, cols: s.width))
        }
        let baseDir = root.appendingPathComponent("base").path
        try FileManager.default.createDirectory(atPath: baseDir, withIntermediateDirectories: true)
        try hf.write(to: baseDir + "/model.safetensors")
        let config: [String: Any] = [
            "architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": s.vocabulary, "hidden_size": s.width,
            "intermediate_size": s.feedForward, "num_hidden_layers": s.layers, "num_attention_heads": s.heads,
            "num_key_value_heads": s.kvHeads, "head_dim": s.headDim, "rms_norm_eps": Double(s.eps), "rope_theta": Double(s.ropeBase),
            "max_position_embeddings": s.contextLength, "tie_word_embeddings": true, "hidden_act": "silu", "torch_dtype": "float32",
        ]
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: baseDir + "/config.json"))

        let adapter = TinyModel.randomAdapter(s, rank: 4, seed: 51, scale: 0.2)
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
        print("PEFT interop: max |Δlogit| emlab vs transformers+peft: base \(dBase), with the adapter \(dAdapted) (the adapter moves logits by \(moved))")
        #expect(dBase < 5e-3 && dAdapted < 5e-3)
        #expect(moved > 0.1)
    }
}
