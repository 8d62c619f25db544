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
}
