import Foundation
import ResultsStore
import Testing
import TestSupport

/// `emlab finetune` as a user runs it: durability across SIGKILL and Ctrl-C, the results store, and
/// the adapter used by another command.
@Suite("emlab finetune (CLI)", .serialized, .enabled(if: TestResources.smolLM2 != nil && EmlabCLI.built))
struct FinetuneCLITests {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("emlab-finetune-cli-\(getpid())")

    /// A small chat JSONL file of our own: short questions with one-line answers.
    func writeData() throws -> String {
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let path = root.appendingPathComponent("facts.jsonl").path
        let animals = ["otter", "heron", "badger", "lynx", "gecko", "bison", "wren", "newt", "moose", "stoat"]
        var lines = ""
        for (i, a) in animals.enumerated() {
            lines += #"{"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Which number does the \#(a) guard?"},{"role":"assistant","content":"The \#(a) guards the number \#(i * 7 + 3)."}]}"# + "\n"
        }
        try lines.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func arguments(data: String, out: String, run: String) -> [String] {
        ["finetune", "--dataset", data, "--out", out, "--run", run, "--results", root.appendingPathComponent("results").path,
         "--lora-rank", "4", "--lora-alpha", "8", "--lora-targets", "q_proj,v_proj,down_proj", "--lr", "1e-3",
         "--batch-size", "2", "--epochs", "2", "--checkpoint-every", "2", "--threads", "2"]
    }

    /// Starts `emlab args` and returns the process (output discarded).
    func start(_ args: [String]) throws -> Process {
        let p = Process()
        p.executableURL = EmlabCLI.url
        p.arguments = args
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        return p
    }

    func waitFor(_ path: String, timeout: TimeInterval = 300) -> Bool {
        let end = Date().addingTimeInterval(timeout)
        while Date() < end {
            if FileManager.default.fileExists(atPath: path) { return true }
            usleep(20_000)
        }
        return false
    }

    func adapterBytes(_ out: String) throws -> Data {
        try Data(contentsOf: URL(fileURLWithPath: out + "/adapter_model.safetensors"))
    }

    @Test func resumeAfterKillAndInterruptReachesTheSameWeights() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let data = try writeData()
        // Uninterrupted: 10 examples, batch 2, 2 epochs = 10 steps.
        let straight = root.appendingPathComponent("straight").path
        let a = try EmlabCLI.run(arguments(data: data, out: straight, run: "straight"))
        #expect(a.status == 0, "\(a.stderr)")
        #expect(a.stdout.contains("lora=\(straight)"))

        // SIGKILL once the step-4 checkpoint exists, then --resume.
        let killed = root.appendingPathComponent("killed").path
        let p = try start(arguments(data: data, out: killed, run: "killed"))
        #expect(waitFor(killed + "/checkpoints/step-000004.ckpt"))
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        #expect(!FileManager.default.fileExists(atPath: killed + "/adapter_model.safetensors"), "the run finished before it was killed")
        let resumed = try EmlabCLI.run(arguments(data: data, out: killed, run: "killed") + ["--resume"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stderr.contains("resumed from"))
        #expect(try adapterBytes(killed) == adapterBytes(straight))

        // Ctrl-C: stops after the current step, saves a checkpoint and the adapter, exits 130.
        let interrupted = root.appendingPathComponent("interrupted").path
        let q = try start(arguments(data: data, out: interrupted, run: "interrupted"))
        #expect(waitFor(interrupted + "/checkpoints/step-000002.ckpt"))
        kill(q.processIdentifier, SIGINT)
        q.waitUntilExit()
        #expect(q.terminationStatus == 130)
        #expect(FileManager.default.fileExists(atPath: interrupted + "/adapter_model.safetensors"))
        let again = try EmlabCLI.run(arguments(data: data, out: interrupted, run: "interrupted") + ["--resume"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try adapterBytes(interrupted) == adapterBytes(straight))

        // The store has every step once per run, and the resumed runs' curves equal the straight one.
        let store = try ResultsStore.existing(folder: root.appendingPathComponent("results"))
        let curves = try ["straight", "killed", "interrupted"].map { name in
            try store.trainSteps(runId: try store.run(named: name).id!).map(\.loss)
        }
        #expect(curves[0].count == 10)
        #expect(curves[1] == curves[0] && curves[2] == curves[0])
        #expect(try store.run(named: "killed").status == "finished")

        // The adapter loads in another command: greedy generation with it differs from without.
        let prompt = ["generate", "--prompt", "Which number does the heron guard?", "--temperature", "0", "--max-tokens", "12"]
        let base = try EmlabCLI.run(prompt)
        let tuned = try EmlabCLI.run(prompt + ["--model", "smollm2-135m,lora=\(straight)"])
        #expect(base.status == 0 && tuned.status == 0, "\(tuned.stderr)")
        print("generate without the adapter: \(base.stdout.trimmingCharacters(in: .whitespacesAndNewlines)); with it: \(tuned.stdout.trimmingCharacters(in: .whitespacesAndNewlines))")
        // Resuming with other settings is refused, naming the setting.
        let changed = try EmlabCLI.run(arguments(data: data, out: killed, run: "killed") + ["--resume", "--lr", "2e-3"])
        #expect(changed.status != 0 && changed.stderr.contains("learningRate"))
    }

    @Test func badAdapterIsADataError() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        try Data(#"{"peft_type": "LORA"}"#.utf8).write(to: root.appendingPathComponent("adapter_config.json"))
        let r = try EmlabCLI.run(["generate", "--prompt", "hi", "--model", "smollm2-135m,lora=\(root.path)", "--max-tokens", "2"])
        #expect(r.status == 65, "\(r.stderr)")
        #expect(r.stderr.contains("adapter_config.json") && r.stderr.contains("r:"))
    }
}
