import Core
import Foundation
import Safetensors
import Testing
import Training
@testable import SparseAutoencoders

func temporaryFolder(_ name: String) -> String {
    let path = NSTemporaryDirectory() + "emlab-sae-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// An activation file as `emlab activations --pool all` writes it: `transcripts` transcripts of
/// `length` tokens each, vectors from the synthetic dictionary.
func writeActivations(_ path: String, dict: SyntheticDictionary, transcripts: Int, length: Int, seed: UInt64, model: String = "synthetic") throws {
    let columns = [SafetensorsShardWriter.Column("activations", rowShape: [1, dict.width], dtype: .f16),
                   .init("sample", rowShape: [], dtype: .i64), .init("prompt_tokens", rowShape: [], dtype: .i64),
                   .init("position", rowShape: [], dtype: .i64)]
    let meta = ["emlab.format": "emlab-activations/1", "emlab.pooling": "every-position", "emlab.layers": "[3]",
                "emlab.hook": "resid_out", "emlab.model": model, "emlab.width": "\(dict.width)"]
    let w = try SafetensorsShardWriter(path: path, columns: columns, metadata: meta)
    for t in 0..<transcripts {
        let values = dict.sample(rows: length, seed: seed &+ UInt64(t))
        try w.append(rows: length, [.floats(values), .integers(Array(repeating: Int64(t), count: length)),
                                    .integers(Array(repeating: 4, count: length)), .integers((0..<length).map(Int64.init))],
                     key: "t\(t)")
    }
    _ = try w.finish()
}

@Suite(.serialized) struct SAEFormatTests {
    let dict = SyntheticDictionary(width: 16, features: 24, active: 2, seed: 7)

    func trainedSAE(kind: SAETrainingOptions.Kind = .topk) -> SparseAutoencoder {
        var options = SAETrainingOptions(kind: kind, latents: 40)
        options.k = 3
        options.batchSize = 128
        options.learningRate = 3e-3
        let sample = dict.sample(rows: 512, seed: 1)
        let t = SAETrainer(options: options, width: 16, site: SAESite(model: "synthetic", hookName: SAESite.residualHook(layer: 3)),
                           sample: sample, sampleRows: 512)
        for s in 0..<20 { dict.sample(rows: 128, seed: 50 + UInt64(s)).withUnsafeBufferPointer { _ = t.train($0.baseAddress!, rows: 128) } }
        return t.sae
    }

    @Test(arguments: [SAETrainingOptions.Kind.topk, .relu])
    func savedFolderLoadsBackTheSameSAE(kind: SAETrainingOptions.Kind) throws {
        let sae = trainedSAE(kind: kind)
        let folder = temporaryFolder("roundtrip")
        try SAELensFormat.save(sae, to: folder, extra: ["fvu": 0.5])
        let back = try SAELensFormat.load(folder)
        #expect(back.architecture == sae.architecture)
        #expect(back.site == sae.site)
        #expect(back.encoder.array == sae.encoder.array && back.decoder.array == sae.decoder.array)
        #expect(back.encoderBias.array == sae.encoderBias.array && back.decoderBias.array == sae.decoderBias.array)
        let x = dict.sample(rows: 9, seed: 3)
        #expect(back.encode(x, rows: 9) == sae.encode(x, rows: 9))
        // The config is SAELens v6: W_enc stored [d_in, d_sae].
        let cfg = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder + "/cfg.json"))) as! [String: Any]
        #expect(cfg["d_in"] as? Int == 16 && cfg["d_sae"] as? Int == 40)
        #expect(cfg["architecture"] as? String == (kind == .topk ? "topk" : "standard"))
        #expect((cfg["metadata"] as? [String: Any])?["hook_name"] as? String == "blocks.3.hook_resid_post")
        let w = try SafetensorsFile(path: folder + "/sae_weights.safetensors")
        #expect(w.tensor(named: "W_enc")?.shape == [16, 40])
        #expect(SAELensFormat.emlabFields(folder)["fvu"] as? Double == 0.5)
    }

    /// A TopK SAE's encoding against a direct float64 computation from the file's tensors, laid out
    /// as SAELens reads them (x @ W_enc + b_enc after subtracting b_dec).
    @Test func encodingFollowsSAELensConventions() throws {
        let sae = trainedSAE()
        let folder = temporaryFolder("conventions")
        try SAELensFormat.save(sae, to: folder)
        let w = try SafetensorsFile(path: folder + "/sae_weights.safetensors")
        let (enc, benc, dec, bdec) = (try w.floats("W_enc"), try w.floats("b_enc"), try w.floats("W_dec"), try w.floats("b_dec"))
        let x = dict.sample(rows: 5, seed: 4)
        let z = sae.encode(x, rows: 5), xhat = sae.reconstruct(x, rows: 5)
        for r in 0..<5 {
            let pre = (0..<40).map { j in (0..<16).reduce(Double(benc[j])) { $0 + (Double(x[r * 16 + $1]) - Double(bdec[$1])) * Double(enc[$1 * 40 + j]) } }
            let top = Set((0..<40).sorted { pre[$0] > pre[$1] }.prefix(3))
            for j in 0..<40 {
                let want = top.contains(j) ? max(pre[j], 0) : 0
                #expect(abs(Double(z[r * 40 + j]) - want) < 1e-4)
            }
            for i in 0..<16 {
                let want = (0..<40).reduce(Double(bdec[i])) { $0 + Double(z[r * 40 + $1]) * Double(dec[$1 * 16 + i]) }
                #expect(abs(Double(xhat[r * 16 + i]) - want) < 1e-4)
            }
        }
    }

    @Test func legacyFlatConfigLoads() throws {
        let sae = trainedSAE()
        let folder = temporaryFolder("legacy")
        try SAELensFormat.save(sae, to: folder)
        let flat: [String: Any] = ["d_in": 16, "d_sae": 40, "hook_name": "blocks.3.hook_resid_pre", "hook_layer": 3, "model_name": "m",
                                   "activation_fn_str": "topk", "activation_fn_kwargs": ["k": 3], "apply_b_dec_to_input": true,
                                   "normalize_activations": "none", "context_size": 128]
        try JSONSerialization.data(withJSONObject: flat).write(to: URL(fileURLWithPath: folder + "/cfg.json"))
        let back = try SAELensFormat.load(folder)
        #expect(back.architecture == .topK(k: 3))
        #expect(back.site.residualLayer! == (3, true))
        #expect(back.site.model == "m" && back.site.contextSize == 128)
    }

    @Test func badFoldersNameTheFileAndField() throws {
        let sae = trainedSAE()
        let folder = temporaryFolder("bad")
        try SAELensFormat.save(sae, to: folder)
        func expectError(_ contains: String) {
            do { _ = try SAELensFormat.load(folder); Issue.record("loaded a bad folder") } catch {
                #expect("\(error)".contains(contains), "\(error)")
            }
        }
        var cfg = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder + "/cfg.json"))) as! [String: Any]
        cfg["d_sae"] = 41
        try JSONSerialization.data(withJSONObject: cfg).write(to: URL(fileURLWithPath: folder + "/cfg.json"))
        expectError("tensor 'W_enc'")
        cfg["d_sae"] = 40
        cfg["architecture"] = "gated"
        try JSONSerialization.data(withJSONObject: cfg).write(to: URL(fileURLWithPath: folder + "/cfg.json"))
        expectError("architecture: 'gated'")
        cfg["architecture"] = "topk"
        cfg["normalize_activations"] = "layer_norm"
        try JSONSerialization.data(withJSONObject: cfg).write(to: URL(fileURLWithPath: folder + "/cfg.json"))
        expectError("normalize_activations")
        try "{".write(toFile: folder + "/cfg.json", atomically: true, encoding: .utf8)
        expectError("cfg.json: not a JSON object")
    }

    /// A run stopped half way and resumed ends with the same weights as one that ran through.
    @Test func resumedRunMatchesAnUninterruptedOne() throws {
        let acts = temporaryFolder("acts")
        try writeActivations(acts + "/a.safetensors", dict: dict, transcripts: 30, length: 40, seed: 10)
        try writeActivations(acts + "/b.safetensors", dict: dict, transcripts: 30, length: 40, seed: 900)
        let data = try ActivationData(paths: [acts], heldOutEvery: 10)
        #expect(data.width == 16 && data.layer == 3 && data.model == "synthetic")
        #expect(data.training.count + data.heldOut.count == 60 * 39, "position 0 of each transcript is left out")
        #expect(data.heldOut.count > 0 && data.heldOut.count % 39 == 0, "whole transcripts are held out")
        var options = SAETrainingOptions(kind: .topk, latents: 40)
        options.k = 3
        options.batchSize = 100
        options.learningRate = 3e-3
        let site = SAESite(model: data.model, hookName: SAESite.residualHook(layer: data.layer))

        let straight = SAETrainingRun(options: options, steps: 40, out: temporaryFolder("straight"))
        let a = try straight.trainer(data: data, site: site, resume: false)
        #expect(try straight.run(a, data: data) { _ in })

        var half = SAETrainingRun(options: options, steps: 40, out: temporaryFolder("half"))
        half.checkpointEvery = 7
        let b = try half.trainer(data: data, site: site, resume: false)
        var stops = 0
        #expect(try half.run(b, data: data, shouldStop: { b.step == 17 }) { _ in stops += 1 } == false)
        #expect(throws: SAETrainingError.self) { _ = try half.trainer(data: data, site: site, resume: false) }
        let c = try half.trainer(data: data, site: site, resume: true)
        #expect(c.step == 17)
        #expect(try half.run(c, data: data) { _ in })
        #expect(c.sae.decoder.array == a.sae.decoder.array && c.sae.encoder.array == a.sae.encoder.array)
        #expect(c.sae.decoderBias.array == a.sae.decoderBias.array && c.tokensSinceFired.array == a.tokensSinceFired.array)

        var other = options
        other.k = 4
        #expect(throws: SAETrainingError.self) { _ = try SAETrainingRun(options: other, steps: 40, out: half.out).trainer(data: data, site: site, resume: true) }
    }

    @Test func activationFilesThatDoNotFitAreNamed() throws {
        let acts = temporaryFolder("mixed")
        try writeActivations(acts + "/a.safetensors", dict: dict, transcripts: 3, length: 5, seed: 1)
        try writeActivations(acts + "/b.safetensors", dict: dict, transcripts: 3, length: 5, seed: 2, model: "another")
        do { _ = try ActivationData(paths: [acts]); Issue.record("mixed models accepted") } catch {
            #expect("\(error)".contains("b.safetensors") && "\(error)".contains("another"), "\(error)")
        }
    }
}
