import Foundation
import Testing
import TestSupport
@testable import SparseAutoencoders

/// `emlab sae train` as a user runs it, on synthetic activation files.
@Suite(.enabled(if: EmlabCLI.built, "the emlab binary is not built"))
struct SAECLITests {
    @Test func trainWritesAnSAEFolderAndResumesFromTheCheckpoint() throws {
        let dict = SyntheticDictionary(width: 16, features: 24, active: 2, seed: 7)
        let acts = temporaryFolder("cli-acts"), out = temporaryFolder("cli-sae") + "/sae", results = temporaryFolder("cli-runs")
        try writeActivations(acts + "/a.safetensors", dict: dict, transcripts: 40, length: 30, seed: 3)
        let args = ["sae", "train", "--acts", acts, "--expansion", "2", "--k", "3", "--batch", "64", "--lr", "0.003",
                    "--steps", "30", "--checkpoint-every", "10", "--out", out, "--results", results, "--threads", "1"]
        let r = try EmlabCLI.run(args)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("held-out FVU"), "\(r.stdout)")
        let sae = try SAELensFormat.load(out)
        #expect(sae.latents == 32 && sae.architecture == .topK(k: 3))
        #expect(SAELensFormat.emlabFields(out)["steps"] as? Int == 30)
        // The same command again refuses to overwrite the run; --resume finds it finished.
        let again = try EmlabCLI.run(args)
        #expect(again.status != 0 && again.stderr.contains("--resume"), "\(again.stderr)")
        let resumed = try EmlabCLI.run(args + ["--resume"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(try SAELensFormat.load(out).decoder.array == sae.decoder.array)
    }

    @Test func malformedActivationFileIsADataError() throws {
        let acts = temporaryFolder("cli-bad")
        try Data("not safetensors".utf8).write(to: URL(fileURLWithPath: acts + "/broken.safetensors"))
        let r = try EmlabCLI.run(["sae", "train", "--acts", acts, "--out", temporaryFolder("cli-bad-out") + "/sae", "--steps", "1",
                                  "--results", temporaryFolder("cli-bad-runs")])
        #expect(r.status == 65, "\(r.stderr)")
        #expect(r.stderr.contains("broken.safetensors"), "\(r.stderr)")
    }

    /// The pipeline on SmolLM2 from the command line: collect a few hundred vectors of layer 10 from a
    /// built-in dataset (a second run skips the finished source), train, measure the cross-entropy.
    @Test(.enabled(if: TestResources.smolLM2 != nil, "SmolLM2 model not pulled (emlab models pull smollm2-135m)"))
    func collectThenTrainOnSmolLM2() throws {
        let acts = temporaryFolder("cli-collect"), out = temporaryFolder("cli-sm") + "/sae"
        let collect = ["sae", "collect", "--model", TestResources.smolLM2!, "--layer", "10", "--tokens", "600", "--sources", "datasets",
                       "--per-dataset", "8", "--out", acts]
        let first = try EmlabCLI.run(collect)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("dataset-insecure-code.safetensors"), "\(first.stdout)")
        let again = try EmlabCLI.run(collect)
        #expect(again.status == 0 && again.stdout.contains("already collected"), "\(again.stdout)")
        let data = try ActivationData(paths: [acts])
        #expect(data.width == 576 && data.layer == 10)
        #expect(data.training.count + data.heldOut.count >= 550, "about --tokens vectors (the first token of each transcript left out)")
        let train = try EmlabCLI.run(["sae", "train", "--acts", acts, "--expansion", "2", "--k", "16", "--batch", "128", "--steps", "20",
                                      "--lr", "0.001", "--out", out, "--results", temporaryFolder("cli-sm-runs"), "--model", TestResources.smolLM2!,
                                      "--ce-count", "2"])
        #expect(train.status == 0, "\(train.stderr)")
        #expect(train.stdout.contains("cross-entropy"), "\(train.stdout)")
        let fields = SAELensFormat.emlabFields(out)
        let base = try #require(fields["ce_baseline"] as? Double), recon = try #require(fields["ce_reconstructed"] as? Double)
        let ablated = try #require(fields["ce_mean_ablated"] as? Double)
        #expect(base > 0 && recon >= base - 0.05 && ablated > base, "\(base) \(recon) \(ablated)")
    }
}
