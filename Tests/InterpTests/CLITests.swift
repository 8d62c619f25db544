import Foundation
import Interp
import Testing
import TestSupport

/// The persona-vector commands and --steer/--ablate as a user runs them: exit codes, messages, what runs record.
@Suite(.serialized, .enabled(if: EmlabCLI.built && TestResources.smolLM2 != nil, "needs the built emlab and SmolLM2"))
struct CLITests {
    static func vectorFile(_ dir: URL) throws -> String {
        var rng = SplitMix64(seed: 8)
        let vectors = (0..<30).map { _ in (0..<576).map { _ in Float(Int(rng.next() % 2001) - 1000) / 1000 } }
        let path = dir.appendingPathComponent("v.safetensors").path
        try LayerVectors(vectors: vectors, layers: Array(0..<30), separation: (0..<30).map { $0 == 12 ? 3 : 1 },
                         metadata: ["emlab.trait": "cli-test"]).write(to: path)
        return path
    }

    @Test func showExitCodesAndRecordedSteering() throws {
        let dir = temporaryFolder("cli")
        defer { try? FileManager.default.removeItem(at: dir) }
        let v = try Self.vectorFile(dir)
        let show = try EmlabCLI.run(["persona", "show", v])
        #expect(show.status == 0 && show.stdout.contains("best-separating layer: 12") && show.stdout.contains("emlab.trait: cli-test"))
        // A layer the model lacks is a usage error; a file that is not there, or a trait file that is
        // malformed, is a data error naming the file.
        let layer = try EmlabCLI.run(["generate", "--prompt", "hi", "--max-tokens", "2", "--steer", "\(v)@40*2"])
        #expect(layer.status == 64 && layer.stderr.contains("layer 40 is outside 0…29"))
        let missing = try EmlabCLI.run(["generate", "--prompt", "hi", "--max-tokens", "2", "--ablate", dir.path + "/none.safetensors"])
        #expect(missing.status == 65 && missing.stderr.contains("none.safetensors"))
        let trait = dir.appendingPathComponent("bad.yaml").path
        try "name: t\ninstructions:\n  - positive: a\nquestions: [q]\njudge: '{answer}'\n".write(toFile: trait, atomically: true, encoding: .utf8)
        let bad = try EmlabCLI.run(["persona", "extract", "--trait", trait, "--out", dir.path])
        #expect(bad.status == 65 && bad.stderr.contains("bad.yaml:3: field 'instructions[0].negative': missing"))
        // eval --steer: the run records the steering, and --resume refuses to drop it.
        let questions = dir.appendingPathComponent("q.yaml").path
        try "- id: sea\n  paraphrases: [\"Tell me about the sea.\"]\n".write(toFile: questions, atomically: true, encoding: .utf8)
        let common = ["eval", "--questions", questions, "--samples", "2", "--max-tokens", "6", "--no-validate-judge", "--out", dir.path, "--run", "s"]
        let steered = try EmlabCLI.run(common + ["--steer", "\(v)@12*3"])
        #expect(steered.status == 0, "\(steered.stderr)")
        let resumed = try EmlabCLI.run(common + ["--resume"])
        #expect(resumed.status != 0 && resumed.stderr.contains("--steer/--ablate") && resumed.stderr.contains("steer 3.0 × v.safetensors"))
    }
}
