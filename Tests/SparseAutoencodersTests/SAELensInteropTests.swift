import Foundation
import Testing
@testable import SparseAutoencoders

/// emlab's SAE folders loaded by SAELens itself (`SAE.load_from_disk`), and SAELens' own save loaded
/// by emlab: the latent activations must agree. Needs a Python with `sae-lens`: `EMLAB_SAELENS_PYTHON`,
/// else `/work/venv-sae/bin/python`; skipped with a printed reason otherwise.
@Suite struct SAELensInteropTests {
    static let python: String? = {
        for candidate in [ProcessInfo.processInfo.environment["EMLAB_SAELENS_PYTHON"], "/work/venv-sae/bin/python"].compactMap({ $0 })
        where FileManager.default.isExecutableFile(atPath: candidate) {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: candidate)
            p.arguments = ["-c", "import sae_lens"]
            p.standardError = FileHandle.nullDevice
            guard (try? p.run()) != nil else { continue }
            p.waitUntilExit()
            if p.terminationStatus == 0 { return candidate }
        }
        return nil
    }()

    func run(_ script: String) throws -> String {
        let p = Process(), out = Pipe(), err = Pipe()
        p.executableURL = URL(fileURLWithPath: Self.python!)
        p.arguments = ["-c", script]
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errors = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw SAEFormatError(file: "python", String(decoding: errors, as: UTF8.self)) }
        return String(decoding: data, as: UTF8.self)
    }

    @Test(arguments: [SAETrainingOptions.Kind.topk, .relu])
    func saeLensLoadsEmlabFoldersAndTheReverse(kind: SAETrainingOptions.Kind) throws {
        guard Self.python != nil else {
            print("SAELens interop skipped: no Python with sae-lens (set EMLAB_SAELENS_PYTHON or pip install sae-lens into /work/venv-sae)")
            return
        }
        let dict = SyntheticDictionary(width: 16, features: 24, active: 2, seed: 7)
        var options = SAETrainingOptions(kind: kind, latents: 40)
        options.k = 3
        options.batchSize = 128
        options.learningRate = 3e-3
        let t = SAETrainer(options: options, width: 16, site: SAESite(model: "synthetic", hookName: SAESite.residualHook(layer: 3)),
                           sample: dict.sample(rows: 512, seed: 1), sampleRows: 512)
        for s in 0..<20 { dict.sample(rows: 128, seed: 50 + UInt64(s)).withUnsafeBufferPointer { _ = t.train($0.baseAddress!, rows: 128) } }
        let folder = temporaryFolder("saelens"), resaved = folder + "-resaved"
        try SAELensFormat.save(t.sae, to: folder)
        let x = dict.sample(rows: 6, seed: 3)
        let xs = "[" + (0..<6).map { r in "[" + (0..<16).map { "\(x[r * 16 + $0])" }.joined(separator: ",") + "]" }.joined(separator: ",") + "]"
        let output = try run("""
            import json, torch
            from sae_lens import SAE
            sae = SAE.load_from_disk("\(folder)", device="cpu")
            x = torch.tensor(\(xs), dtype=torch.float32)
            with torch.no_grad():
                z = sae.encode(x)
            sae.save_model("\(resaved)")
            print(json.dumps({"z": z.tolist(), "hook": sae.cfg.metadata.hook_name, "cls": type(sae).__name__}))
            """)
        let result = try JSONSerialization.jsonObject(with: Data(output.utf8)) as! [String: Any]
        #expect(result["hook"] as? String == "blocks.3.hook_resid_post")
        let theirs = (result["z"] as! [[Double]]).flatMap { $0 }
        let ours = t.sae.encode(x, rows: 6)
        let worst = zip(theirs, ours).map { abs($0 - Double($1)) }.max() ?? 1
        print("SAELens \(result["cls"] ?? "?") vs emlab (\(kind)): largest latent difference \(worst)")
        #expect(worst < 1e-4)
        let back = try SAELensFormat.load(resaved)
        #expect(back.encode(x, rows: 6) == ours || zip(back.encode(x, rows: 6), ours).allSatisfy { abs($0 - $1) < 1e-6 })
    }
}
