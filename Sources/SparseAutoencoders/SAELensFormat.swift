import Foundation
import Safetensors
import Training

/// A SAE folder that cannot be read (a data error): the file, the field, what is wrong.
public struct SAEFormatError: Error, CustomStringConvertible, Equatable, Sendable {
    public var file: String
    public var message: String
    public init(file: String, _ message: String) {
        self.file = file
        self.message = message
    }
    public var description: String { "\(file): \(message)" }
}

/// SAELens' saved format: a folder with `cfg.json` and `sae_weights.safetensors` (`W_enc [d_in, d_sae]`,
/// `W_dec [d_sae, d_in]`, `b_enc [d_sae]`, `b_dec [d_in]`, and `threshold [d_sae]` for JumpReLU).
///
/// emlab writes the v6 config (`architecture`, `d_in`, `d_sae`, `k`, `apply_b_dec_to_input`,
/// `normalize_activations: none`, a `metadata` object with `model_name`, `hook_name`,
/// `context_size`, `sae_lens_version` 6.x) plus an `emlab` object of its own (training figures),
/// and reads v6 and the older flat configs (`activation_fn_str: topk` with `activation_fn_kwargs.k`,
/// top-level `hook_name`).
public enum SAELensFormat {
    public static let configFile = "cfg.json"
    public static let weightsFile = "sae_weights.safetensors"
    /// The SAELens version written into `metadata.sae_lens_version` (the v6 config layout).
    public static let saeLensVersion = "6.5.0"

    /// Writes `sae` into `folder` (created if missing); `extra` goes under the config's `emlab` key.
    /// Files are replaced atomically.
    public static func save(_ sae: SparseAutoencoder, to folder: String, extra: [String: Any] = [:]) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let d = sae.width, n = sae.latents
        var w = SafetensorsWriter()
        var encT = [Float](repeating: 0, count: d * n)
        for j in 0..<n { for i in 0..<d { encT[i * n + j] = sae.encoder[j * d + i] } }
        try w.add("W_enc", shape: [d, n], values: encT)
        try w.add("W_dec", shape: [n, d], values: sae.decoder.array)
        try w.add("b_enc", shape: [n], values: sae.encoderBias.array)
        try w.add("b_dec", shape: [d], values: sae.decoderBias.array)
        if let t = sae.threshold { try w.add("threshold", shape: [n], values: t.array) }
        try w.write(to: (folder as NSString).appendingPathComponent(weightsFile))
        var cfg: [String: Any] = [
            "architecture": sae.architecture.saeLensName,
            "d_in": d, "d_sae": n, "dtype": "float32", "device": "cpu",
            "apply_b_dec_to_input": sae.subtractDecoderBias,
            "normalize_activations": "none",
            "reshape_activations": "none",
            "metadata": [
                "model_name": sae.site.model,
                "hook_name": sae.site.hookName,
                "hook_head_index": NSNull(),
                "context_size": sae.site.contextSize,
                "dataset_path": sae.site.dataset,
                "prepend_bos": true,
                "model_class_name": "HookedTransformer",
                "model_from_pretrained_kwargs": [String: Any](),
                "sae_lens_version": saeLensVersion,
                "sae_lens_training_version": NSNull(),
            ] as [String: Any],
        ]
        if let k = sae.k { cfg["k"] = k }
        if !extra.isEmpty { cfg["emlab"] = extra }
        let json = try JSONSerialization.data(withJSONObject: cfg, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        try json.write(to: URL(fileURLWithPath: (folder as NSString).appendingPathComponent(configFile)), options: .atomic)
    }

    /// Reads an SAE folder written by emlab or SAELens.
    public static func load(_ folder: String) throws -> SparseAutoencoder {
        let cfgPath = (folder as NSString).appendingPathComponent(configFile)
        let weightsPath = (folder as NSString).appendingPathComponent(weightsFile)
        guard FileManager.default.fileExists(atPath: cfgPath) else {
            throw SAEFormatError(file: folder, "not an SAE folder: no \(configFile) (SAELens' format: cfg.json + sae_weights.safetensors)")
        }
        guard let data = FileManager.default.contents(atPath: cfgPath),
              let cfg = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw SAEFormatError(file: cfgPath, "not a JSON object")
        }
        func fail(_ field: String, _ why: String) -> SAEFormatError { SAEFormatError(file: cfgPath, "\(field): \(why)") }
        let metadata = cfg["metadata"] as? [String: Any] ?? [:]
        func int(_ key: String) throws -> Int {
            guard let v = cfg[key] as? Int, v > 0 else { throw fail(key, "missing or not a positive integer") }
            return v
        }
        let dIn = try int("d_in"), dSae = try int("d_sae")
        let archName = (cfg["architecture"] as? String) ?? ((cfg["activation_fn_str"] as? String) == "topk" ? "topk" : "standard")
        let architecture: SAEArchitecture
        switch archName {
        case "topk":
            let kwargs = cfg["activation_fn_kwargs"] as? [String: Any]
            guard let k = (cfg["k"] as? Int) ?? (kwargs?["k"] as? Int), k > 0, k <= dSae else {
                throw fail("k", "a topk SAE needs k between 1 and d_sae (\(dSae))")
            }
            architecture = .topK(k: k)
        case "standard":
            if let f = cfg["activation_fn_str"] as? String, f != "relu" { throw fail("activation_fn_str", "'\(f)' is not read (relu, topk)") }
            architecture = .relu
        case "jumprelu": architecture = .jumpReLU
        default: throw fail("architecture", "'\(archName)' is not read (standard, topk, jumprelu)")
        }
        let norm = (cfg["normalize_activations"] as? String) ?? "none"
        guard norm == "none" else {
            throw fail("normalize_activations", "'\(norm)' is not applied by emlab (only none); the SAE would see differently scaled inputs")
        }
        let hook = (metadata["hook_name"] as? String) ?? (cfg["hook_name"] as? String) ?? ""
        let model = (metadata["model_name"] as? String) ?? (cfg["model_name"] as? String) ?? ""
        let context = (metadata["context_size"] as? Int) ?? (cfg["context_size"] as? Int) ?? 0
        let dataset = (metadata["dataset_path"] as? String) ?? (cfg["dataset_path"] as? String) ?? ""
        let sae = SparseAutoencoder(width: dIn, latents: dSae, architecture: architecture,
                                    site: SAESite(model: model, hookName: hook, contextSize: context, dataset: dataset),
                                    subtractDecoderBias: (cfg["apply_b_dec_to_input"] as? Bool) ?? true)
        let file: SafetensorsFile
        do { file = try SafetensorsFile(path: weightsPath) } catch let e as SafetensorsError {
            throw SAEFormatError(file: weightsPath, e.message)
        }
        func tensor(_ name: String, _ shape: [Int], into target: Floats) throws {
            guard let t = file.tensor(named: name) else { throw SAEFormatError(file: weightsPath, "no tensor '\(name)'") }
            guard t.shape == shape, !t.dtype.isInteger else {
                throw SAEFormatError(file: weightsPath, "tensor '\(name)' is \(t.dtype.rawValue) \(t.shape), expected a float tensor \(shape) (d_in \(dIn), d_sae \(dSae) from cfg.json)")
            }
            file.floats(t, elements: 0..<t.elementCount, into: target.pointer)
        }
        let encT = Floats(dIn * dSae, zeroed: false)
        try tensor("W_enc", [dIn, dSae], into: encT)
        for j in 0..<dSae { for i in 0..<dIn { sae.encoder[j * dIn + i] = encT[i * dSae + j] } }
        try tensor("W_dec", [dSae, dIn], into: sae.decoder)
        try tensor("b_enc", [dSae], into: sae.encoderBias)
        try tensor("b_dec", [dIn], into: sae.decoderBias)
        if let t = sae.threshold { try tensor("threshold", [dSae], into: t) }
        for (name, p) in [("W_dec", sae.decoder), ("W_enc", sae.encoder), ("b_enc", sae.encoderBias), ("b_dec", sae.decoderBias)] {
            if let bad = (0..<p.count).first(where: { !p[$0].isFinite }) {
                throw SAEFormatError(file: weightsPath, "tensor '\(name)' holds a non-finite value at element \(bad)")
            }
        }
        return sae
    }

    /// The `emlab` object of a folder's config written by `save` (empty when absent).
    public static func emlabFields(_ folder: String) -> [String: Any] {
        let cfgPath = (folder as NSString).appendingPathComponent(configFile)
        guard let data = FileManager.default.contents(atPath: cfgPath),
              let cfg = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else { return [:] }
        return cfg["emlab"] as? [String: Any] ?? [:]
    }
}
