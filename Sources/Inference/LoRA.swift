import CBLAS
import Foundation
import GGUF
import Safetensors

// LoRA adapters: the low-rank terms y += s·B·(A·x) on a model's projections, read from and written
// to PEFT adapter folders and llama.cpp GGUF adapters, and applied by the engine's matrix products.

/// A projection an adapter may target, by the name PEFT uses.
public enum LoRAModule: String, CaseIterable, Sendable, Codable, Hashable {
    case q = "q_proj", k = "k_proj", v = "v_proj", o = "o_proj", gate = "gate_proj", up = "up_proj", down = "down_proj"

    /// The GGUF tensor of layer `layer` (`blk.3.attn_q.weight`).
    public func ggufTensor(layer: Int) -> String {
        let name = switch self {
        case .q: "attn_q"
        case .k: "attn_k"
        case .v: "attn_v"
        case .o: "attn_output"
        case .gate: "ffn_gate"
        case .up: "ffn_up"
        case .down: "ffn_down"
        }
        return "blk.\(layer).\(name).weight"
    }

    /// The Hugging Face module path (`model.layers.3.self_attn.q_proj`).
    public func hfModule(layer: Int) -> String {
        let parent = switch self {
        case .q, .k, .v, .o: "self_attn"
        case .gate, .up, .down: "mlp"
        }
        return "model.layers.\(layer).\(parent).\(rawValue)"
    }

    /// Input and output widths of the projection in a model of this shape.
    public func dimensions(_ c: ModelConfig) -> (inputs: Int, outputs: Int) {
        switch self {
        case .q: (c.embeddingLength, c.qDimension)
        case .k, .v: (c.embeddingLength, c.kvDimension)
        case .o: (c.qDimension, c.embeddingLength)
        case .gate, .up: (c.embeddingLength, c.feedForwardLength)
        case .down: (c.feedForwardLength, c.embeddingLength)
        }
    }

    /// Parses PEFT names, naming the list of known ones on failure.
    public static func parse(_ name: String) throws -> LoRAModule {
        guard let m = LoRAModule(rawValue: name) else {
            throw LoRAError(file: "(target modules)", "unknown module '\(name)' (known: \(allCases.map(\.rawValue).joined(separator: " ")))")
        }
        return m
    }
}

/// What is wrong with an adapter file or folder, naming the file and the field or tensor.
public struct LoRAError: Error, CustomStringConvertible, Equatable, Sendable {
    public var file: String
    public var message: String
    public init(file: String, _ message: String) {
        self.file = file
        self.message = message
    }
    public var description: String { "\(file): \(message)" }
}

/// One adapted projection: A is [rank × inputs], B is [outputs × rank], row-major, B's rows in the
/// GGUF file's order (for llama models the Q and K rows are permuted from Hugging Face's; see
/// `LoRAAdapter.permuteRows`). The term added is `scale · B·(A·x)`.
public struct LoRATensor: Sendable, Equatable {
    public var module: LoRAModule
    public var layer: Int
    public var rank: Int
    public var inputs: Int
    public var outputs: Int
    public var a: [Float]
    public var b: [Float]
    public var scale: Float

    public init(module: LoRAModule, layer: Int, rank: Int, inputs: Int, outputs: Int, a: [Float], b: [Float], scale: Float) {
        precondition(a.count == rank * inputs && b.count == outputs * rank)
        self.module = module
        self.layer = layer
        self.rank = rank
        self.inputs = inputs
        self.outputs = outputs
        self.a = a
        self.b = b
        self.scale = scale
    }

    /// s·B·A, [outputs × inputs] (GGUF row order): what merging adds to the weight.
    public func delta() -> [Float] {
        var out = [Float](repeating: 0, count: outputs * inputs)
        b.withUnsafeBufferPointer { bp in
            a.withUnsafeBufferPointer { ap in
                out.withUnsafeMutableBufferPointer { op in
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(outputs), Int32(inputs), Int32(rank), scale,
                                bp.baseAddress!, Int32(rank), ap.baseAddress!, Int32(inputs), 0, op.baseAddress!, Int32(inputs))
                }
            }
        }
        return out
    }
}

/// The hyper-parameters of an adapter as PEFT's `adapter_config.json` states them.
public struct LoRAConfig: Sendable, Equatable, Codable {
    public var rank: Int
    public var alpha: Float
    public var rsLoRA: Bool
    public var dropout: Float
    public var targets: [LoRAModule]
    /// Layers adapted (nil: all).
    public var layers: [Int]?

    public init(rank: Int, alpha: Float, rsLoRA: Bool = false, dropout: Float = 0, targets: [LoRAModule] = LoRAModule.allCases,
                layers: [Int]? = nil) {
        self.rank = rank
        self.alpha = alpha
        self.rsLoRA = rsLoRA
        self.dropout = dropout
        self.targets = targets
        self.layers = layers
    }

    /// alpha/r, or alpha/√r with rsLoRA.
    public var scale: Float { Self.scale(alpha: alpha, rank: rank, rsLoRA: rsLoRA) }

    public static func scale(alpha: Float, rank: Int, rsLoRA: Bool) -> Float {
        rsLoRA ? alpha / Float(rank).squareRoot() : alpha / Float(rank)
    }
}

/// A LoRA adapter for one base model.
public struct LoRAAdapter: Sendable {
    public var config: LoRAConfig
    /// The base model's name or path as recorded in the adapter (PEFT's `base_model_name_or_path`).
    public var baseModel: String
    public var tensors: [LoRATensor]

    public init(config: LoRAConfig, baseModel: String, tensors: [LoRATensor]) {
        self.config = config
        self.baseModel = baseModel
        self.tensors = tensors
    }

    public static let peftConfigFile = "adapter_config.json"
    public static let peftWeightsFile = "adapter_model.safetensors"

    // MARK: Row order

    /// Whether the architecture's GGUF files store Q/K rows permuted from Hugging Face's order:
    /// only llama's converter permutes them (for its adjacent-pair RoPE); qwen2 files keep them.
    public static func permutesQK(_ c: ModelConfig) -> Bool { c.architecture == "llama" }

    /// Reorders the rows of a Q or K projection's output (`rows × cols`, heads of `headDim` rows)
    /// between Hugging Face's order (each head's first halves, then second halves) and GGUF's
    /// interleaved pairs. `toGGUF` maps HF → GGUF; false maps back.
    public static func permuteRows(_ m: [Float], heads: Int, headDim: Int, cols: Int, toGGUF: Bool) -> [Float] {
        var out = m
        let half = headDim / 2
        for h in 0..<heads {
            for i in 0..<half {
                for part in 0..<2 {
                    let hf = h * headDim + part * half + i, gg = h * headDim + 2 * i + part
                    let (src, dst) = toGGUF ? (hf, gg) : (gg, hf)
                    for c in 0..<cols { out[dst * cols + c] = m[src * cols + c] }
                }
            }
        }
        return out
    }

    /// B's rows in Hugging Face's order (for q/k of llama models) or as they are.
    static func bRows(_ t: LoRATensor, model c: ModelConfig, toGGUF: Bool) -> [Float] {
        guard permutesQK(c), t.module == .q || t.module == .k else { return t.b }
        let heads = t.module == .q ? c.headCount : c.kvHeadCount
        return permuteRows(t.b, heads: heads, headDim: c.headDimension, cols: t.rank, toGGUF: toGGUF)
    }

    // MARK: Loading

    /// Reads a PEFT adapter folder (`adapter_config.json` + `adapter_model.safetensors`) or a
    /// llama.cpp GGUF adapter file, checking every tensor against the base model's shape.
    public static func load(path: String, model c: ModelConfig) throws -> LoRAAdapter {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw LoRAError(file: path, "no such adapter folder or file")
        }
        return isDirectory.boolValue ? try loadPEFT(folder: path, model: c) : try loadGGUF(path: path, model: c)
    }

    static func loadPEFT(folder: String, model c: ModelConfig) throws -> LoRAAdapter {
        let configPath = (folder as NSString).appendingPathComponent(peftConfigFile)
        let weightsPath = (folder as NSString).appendingPathComponent(peftWeightsFile)
        func fail(_ why: String) -> LoRAError { LoRAError(file: configPath, why) }
        guard let data = FileManager.default.contents(atPath: configPath) else { throw fail("missing (a PEFT adapter folder holds \(peftConfigFile) and \(peftWeightsFile))") }
        guard let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else { throw fail("not a JSON object") }
        guard let type = json["peft_type"] as? String else { throw fail("peft_type: missing") }
        guard type.uppercased() == "LORA" else { throw fail("peft_type: \"\(type)\" is not LORA") }
        guard let r = json["r"] as? Int, r > 0 else { throw fail("r: expected a positive integer") }
        guard let alpha = (json["lora_alpha"] as? NSNumber)?.floatValue else { throw fail("lora_alpha: expected a number") }
        let rs = json["use_rslora"] as? Bool ?? false
        if json["fan_in_fan_out"] as? Bool == true { throw fail("fan_in_fan_out: true is not supported (GPT-2-style Conv1D weights)") }
        if let bias = json["bias"] as? String, bias != "none" { throw fail("bias: \"\(bias)\" is not supported (only \"none\")") }
        if let saved = json["modules_to_save"] as? [Any], !saved.isEmpty { throw fail("modules_to_save: fully trained modules (\(saved)) are not supported") }
        if json["use_dora"] as? Bool == true { throw fail("use_dora: DoRA adapters are not supported") }
        let alphaPattern = json["alpha_pattern"] as? [String: Any] ?? [:]
        var targets: [LoRAModule] = []
        if let list = json["target_modules"] as? [String] {
            targets = list.compactMap { LoRAModule(rawValue: $0) }
        }
        let layers: [Int]? = (json["layers_to_transform"] as? [Int]) ?? (json["layers_to_transform"] as? Int).map { [$0] }
        let dropout = (json["lora_dropout"] as? NSNumber)?.floatValue ?? 0
        let base = json["base_model_name_or_path"] as? String ?? ""

        let file = try SafetensorsFile(path: weightsPath)
        var pairs: [String: (a: SafetensorsTensorInfo?, b: SafetensorsTensorInfo?)] = [:]
        for t in file.tensors {
            var name = t.name
            for prefix in ["base_model.model.", "base_model."] where name.hasPrefix(prefix) {
                name.removeFirst(prefix.count)
                break
            }
            let isA = name.hasSuffix(".lora_A.weight"), isB = name.hasSuffix(".lora_B.weight")
            guard isA || isB else {
                throw LoRAError(file: weightsPath, "tensor '\(t.name)': not a lora_A/lora_B weight (biases, embeddings and DoRA magnitudes are not supported)")
            }
            let module = String(name.dropLast(".lora_A.weight".count))
            var entry = pairs[module] ?? (nil, nil)
            if isA { entry.a = t } else { entry.b = t }
            pairs[module] = entry
        }
        var tensors: [LoRATensor] = []
        for (module, pair) in pairs.sorted(by: { $0.key < $1.key }) {
            guard let ai = pair.a, let bi = pair.b else {
                throw LoRAError(file: weightsPath, "module '\(module)': has \(pair.a == nil ? "lora_B" : "lora_A") but not \(pair.a == nil ? "lora_A" : "lora_B")")
            }
            let (m, layer) = try parseHFModule(module, file: weightsPath, model: c)
            let (inputs, outputs) = m.dimensions(c)
            guard ai.shape.count == 2, ai.shape[1] == inputs, ai.shape[0] > 0 else {
                throw LoRAError(file: weightsPath, "tensor '\(ai.name)': shape \(ai.shape), expected [r, \(inputs)]")
            }
            let rank = ai.shape[0]
            guard bi.shape == [outputs, rank] else {
                throw LoRAError(file: weightsPath, "tensor '\(bi.name)': shape \(bi.shape), expected [\(outputs), \(rank)]")
            }
            var tensorAlpha = alpha
            for (key, value) in alphaPattern where module == key || module.hasSuffix("." + key) {
                if let v = (value as? NSNumber)?.floatValue { tensorAlpha = v }
            }
            var t = LoRATensor(module: m, layer: layer, rank: rank, inputs: inputs, outputs: outputs, a: file.floats(ai),
                               b: file.floats(bi), scale: LoRAConfig.scale(alpha: tensorAlpha, rank: rank, rsLoRA: rs))
            t.b = bRows(t, model: c, toGGUF: true)
            tensors.append(t)
        }
        if targets.isEmpty { targets = LoRAModule.allCases.filter { m in tensors.contains { $0.module == m } } }
        return LoRAAdapter(config: LoRAConfig(rank: r, alpha: alpha, rsLoRA: rs, dropout: dropout, targets: targets, layers: layers),
                           baseModel: base, tensors: tensors)
    }

    /// `model.layers.N.self_attn.q_proj` → (q, N).
    static func parseHFModule(_ module: String, file: String, model c: ModelConfig) throws -> (LoRAModule, Int) {
        let parts = module.split(separator: ".")
        guard parts.count == 5, parts[0] == "model", parts[1] == "layers", let layer = Int(parts[2]),
              let m = LoRAModule(rawValue: String(parts[4])), m.hfModule(layer: layer) == module else {
            throw LoRAError(file: file, "module '\(module)': expected model.layers.N.self_attn.{q,k,v,o}_proj or model.layers.N.mlp.{gate,up,down}_proj")
        }
        guard layer < c.layerCount else {
            throw LoRAError(file: file, "module '\(module)': layer \(layer) is beyond the model's \(c.layerCount) layers")
        }
        return (m, layer)
    }

    static func loadGGUF(path: String, model c: ModelConfig) throws -> LoRAAdapter {
        func fail(_ why: String) -> LoRAError { LoRAError(file: path, why) }
        let file: GGUFFile
        do { file = try GGUFFile(path: path) } catch { throw fail("\(error)") }
        guard file["general.type"]?.stringValue == "adapter", file["adapter.type"]?.stringValue == "lora" else {
            throw fail("not a LoRA adapter (general.type must be \"adapter\" and adapter.type \"lora\")")
        }
        guard let alpha = file["adapter.lora.alpha"]?.floatValue else { throw fail("adapter.lora.alpha: missing") }
        if let arch = file.architecture, arch != c.architecture {
            throw fail("general.architecture: \"\(arch)\", the model is \"\(c.architecture)\"")
        }
        var byModule: [String: (a: GGUFTensorInfo?, b: GGUFTensorInfo?)] = [:]
        for t in file.tensors {
            if t.name.hasSuffix(".lora_a") { byModule[String(t.name.dropLast(7)), default: (nil, nil)].a = t }
            else if t.name.hasSuffix(".lora_b") { byModule[String(t.name.dropLast(7)), default: (nil, nil)].b = t }
            else { throw fail("tensor '\(t.name)': not a .lora_a/.lora_b tensor") }
        }
        var tensors: [LoRATensor] = []
        var rank0 = 0
        for (base, pair) in byModule.sorted(by: { $0.key < $1.key }) {
            guard let ai = pair.a, let bi = pair.b else { throw fail("tensor '\(base)': lora_a and lora_b must both be present") }
            guard let (m, layer) = ggufModule(base), layer < c.layerCount else {
                throw fail("tensor '\(base)': not an adaptable projection of this model (blk.N.attn_q/k/v/output or ffn_gate/up/down)")
            }
            let (inputs, outputs) = m.dimensions(c)
            guard ai.dimensions.count == 2, ai.dimensions[0] == inputs, bi.dimensions.count == 2, bi.dimensions[1] == outputs,
                  ai.dimensions[1] == bi.dimensions[0] else {
                throw fail("tensor '\(base)': lora_a \(ai.dimensions) and lora_b \(bi.dimensions), expected [\(inputs), r] and [r, \(outputs)]")
            }
            let rank = ai.dimensions[1]
            rank0 = rank0 == 0 ? rank : rank0
            let a: [Float], b: [Float]
            do {
                a = try file.floats(for: ai)
                b = try file.floats(for: bi)
            } catch { throw fail("tensor '\(base)': \(error)") }
            tensors.append(LoRATensor(module: m, layer: layer, rank: rank, inputs: inputs, outputs: outputs, a: a, b: b,
                                      scale: Float(alpha) / Float(rank)))
        }
        let targets = LoRAModule.allCases.filter { m in tensors.contains { $0.module == m } }
        return LoRAAdapter(config: LoRAConfig(rank: max(rank0, 1), alpha: Float(alpha), targets: targets),
                           baseModel: file["general.name"]?.stringValue ?? "", tensors: tensors)
    }

    /// `blk.N.attn_q.weight` → (q, N).
    static func ggufModule(_ name: String) -> (LoRAModule, Int)? {
        let parts = name.split(separator: ".")
        guard parts.count == 4, parts[0] == "blk", let layer = Int(parts[1]), parts[3] == "weight" else { return nil }
        guard let m = LoRAModule.allCases.first(where: { $0.ggufTensor(layer: layer) == name }) else { return nil }
        return (m, layer)
    }

    // MARK: Writing

    /// Writes a PEFT adapter folder: `adapter_config.json` and `adapter_model.safetensors` (F32),
    /// tensors named as PEFT names them, B rows in Hugging Face's order.
    public func writePEFT(folder: String, model c: ModelConfig) throws {
        do { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) } catch {
            throw LoRAError(file: folder, "cannot create the folder: \(error.localizedDescription)")
        }
        var writer = SafetensorsWriter(metadata: ["format": "pt"])
        for t in tensors.sorted(by: { ($0.layer, $0.module.rawValue) < ($1.layer, $1.module.rawValue) }) {
            let prefix = "base_model.model." + t.module.hfModule(layer: t.layer)
            try writer.add(prefix + ".lora_A.weight", shape: [t.rank, t.inputs], values: t.a)
            try writer.add(prefix + ".lora_B.weight", shape: [t.outputs, t.rank], values: Self.bRows(t, model: c, toGGUF: false))
        }
        try writer.write(to: (folder as NSString).appendingPathComponent(Self.peftWeightsFile))
        var json: [String: Any] = [
            "peft_type": "LORA", "task_type": "CAUSAL_LM", "base_model_name_or_path": baseModel,
            "r": config.rank, "lora_alpha": Double(config.alpha), "lora_dropout": Double(config.dropout),
            "use_rslora": config.rsLoRA, "target_modules": config.targets.map(\.rawValue), "bias": "none",
            "fan_in_fan_out": false, "inference_mode": true, "init_lora_weights": true, "modules_to_save": NSNull(),
            "rank_pattern": [String: Any](), "alpha_pattern": [String: Any](), "use_dora": false,
        ]
        if let layers = config.layers { json["layers_to_transform"] = layers }
        let data = try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys])
        let path = (folder as NSString).appendingPathComponent(Self.peftConfigFile)
        do { try data.write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
            throw LoRAError(file: path, "cannot write: \(error.localizedDescription)")
        }
    }

    /// Writes a llama.cpp LoRA adapter (GGUF, F32 tensors `<weight>.lora_a` ne=[in, r] and `.lora_b`
    /// ne=[r, out]). llama.cpp scales by alpha/r, so the alpha written is scale·r (for rsLoRA that is
    /// alpha·√r); every tensor must then share one scale·r.
    public func writeGGUF(path: String, model c: ModelConfig) throws {
        var w = GGUFWriter()
        guard let first = tensors.first else { throw LoRAError(file: path, "the adapter has no tensors") }
        let effectiveAlpha = first.scale * Float(first.rank)
        for t in tensors where abs(t.scale * Float(t.rank) - effectiveAlpha) > 1e-4 * abs(effectiveAlpha) {
            throw LoRAError(file: path, "tensor \(t.module.ggufTensor(layer: t.layer)): its scale·rank differs from the others; a GGUF adapter holds one alpha")
        }
        w.addMetadata("general.type", .string("adapter"))
        w.addMetadata("general.architecture", .string(c.architecture))
        w.addMetadata("general.name", .string(baseModel))
        w.addMetadata("adapter.type", .string("lora"))
        w.addMetadata("adapter.lora.alpha", .float32(effectiveAlpha))
        do {
            for t in tensors.sorted(by: { ($0.layer, $0.module.rawValue) < ($1.layer, $1.module.rawValue) }) {
                let base = t.module.ggufTensor(layer: t.layer)
                try w.addTensor(name: base + ".lora_a", dimensions: [t.inputs, t.rank], type: .f32, values: t.a)
                try w.addTensor(name: base + ".lora_b", dimensions: [t.rank, t.outputs], type: .f32, values: t.b)
            }
            try w.write(to: path)
        } catch let e as LoRAError { throw e } catch { throw LoRAError(file: path, "\(error)") }
    }
}

extension ModelConfig {
    /// A config given figure by figure (models built in memory: tests, the trainer's own shapes).
    public init(architecture: String, layerCount: Int, embeddingLength: Int, feedForwardLength: Int, headCount: Int,
                kvHeadCount: Int, headDimension: Int, contextLength: Int, vocabularySize: Int, ropeBase: Float,
                ropeDimensions: Int, rmsEpsilon: Float) {
        self.architecture = architecture
        self.layerCount = layerCount
        self.embeddingLength = embeddingLength
        self.feedForwardLength = feedForwardLength
        self.headCount = headCount
        self.kvHeadCount = kvHeadCount
        self.headDimension = headDimension
        self.contextLength = contextLength
        self.vocabularySize = vocabularySize
        self.ropeBase = ropeBase
        self.ropeDimensions = ropeDimensions
        self.rmsEpsilon = rmsEpsilon
    }
}

// MARK: - Applying adapters in the engine

/// The adapters an engine applies: for each adapted weight matrix, its low-rank terms. `MatMul`
/// adds them after each product with that weight.
final class LoRATerms: @unchecked Sendable {
    struct Term {
        let a: Floats, b: Floats     // A [rank × inputs], B [outputs × rank]
        let rank: Int, inputs: Int, outputs: Int
        let scale: Float
    }
    final class Floats: @unchecked Sendable {
        let values: [Float]
        init(_ v: [Float]) { values = v }
    }

    private var terms: [String: [Term]] = [:]   // by weight tensor name
    private let scratch = FloatBuffer()

    var isEmpty: Bool { terms.isEmpty }

    func add(_ term: Term, forTensor name: String) { terms[name, default: []].append(term) }

    /// y[rows × w.rows] += Σ s·(x·Aᵀ)·Bᵀ over the terms of `w`. Independent rows are computed one by
    /// one (their results then do not depend on the batch).
    func apply(_ w: WeightMatrix, _ x: UnsafePointer<Float>, rows t: Int, _ y: UnsafeMutablePointer<Float>, independentRows: Bool) {
        guard let list = terms[w.name] else { return }
        for term in list {
            let u = scratch.reserve(max(t, 1) * term.rank)
            term.a.values.withUnsafeBufferPointer { a in
                term.b.values.withUnsafeBufferPointer { b in
                    if independentRows || t < 2 {
                        for r in 0..<t {
                            cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(term.rank), Int32(term.inputs), 1, a.baseAddress!,
                                        Int32(term.inputs), x + r * term.inputs, 1, 0, u, 1)
                            cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(term.outputs), Int32(term.rank), term.scale, b.baseAddress!,
                                        Int32(term.rank), u, 1, 1, y + r * term.outputs, 1)
                        }
                    } else {
                        BLAS.gemmABt(m: t, n: term.rank, k: term.inputs, a: x, lda: term.inputs, b: a.baseAddress!, ldb: term.inputs,
                                     c: u, ldc: term.rank)
                        BLAS.gemmABt(m: t, n: term.outputs, k: term.rank, a: u, lda: term.rank, b: b.baseAddress!, ldb: term.rank,
                                     c: y, ldc: term.outputs, alpha: term.scale, beta: 1)
                    }
                }
            }
        }
    }
}

/// Architectures whose projections go through one `MatMul` (where adapters are applied).
protocol LoRAAdaptable: AnyObject {
    var matmul: MatMul { get }
}

extension Engine {
    /// Adds `adapters` (each with its user scale, multiplying the adapter's own) to every product
    /// with the weights they adapt. Call before the engine computes anything. Throws for an
    /// architecture without adapter support or a tensor that does not fit the model.
    public func applyLoRA(_ adapters: [(adapter: LoRAAdapter, scale: Float)]) throws {
        try Inference.applyLoRA(adapters, to: model)
    }
}

/// `Engine.applyLoRA` for a model opened without an engine.
public func applyLoRA(_ adapters: [(adapter: LoRAAdapter, scale: Float)], to causalLM: any CausalLM) throws {
    guard let model = causalLM as? LoRAAdaptable else {
        throw LoRAError(file: "(model)", "LoRA adapters are not supported for the \(causalLM.config.architecture) architecture")
    }
    let terms = model.matmul.lora ?? LoRATerms()
    for (adapter, userScale) in adapters {
        for t in adapter.tensors {
            let (inputs, outputs) = t.module.dimensions(causalLM.config)
            guard t.layer < causalLM.config.layerCount, t.inputs == inputs, t.outputs == outputs else {
                throw LoRAError(file: "(adapter)", "tensor \(t.module.ggufTensor(layer: t.layer)) does not fit the model")
            }
            terms.add(LoRATerms.Term(a: .init(t.a), b: .init(t.b), rank: t.rank, inputs: t.inputs, outputs: t.outputs,
                                     scale: t.scale * userScale), forTensor: t.module.ggufTensor(layer: t.layer))
        }
    }
    model.matmul.lora = terms.isEmpty ? nil : terms
}

extension LlamaModel: LoRAAdaptable {}
extension Gemma3Model: LoRAAdaptable {}
/// Qwen2's Q/K/V products go through `matmul` before their biases are added, so the terms land on
/// the products as PEFT's do (the bias is the base layer's, outside the low-rank term). qwen2 GGUF
/// files keep Hugging Face's Q/K row order (`permutesQK` is false), so B's rows are used as stored.
extension Qwen2Model: LoRAAdaptable {}
