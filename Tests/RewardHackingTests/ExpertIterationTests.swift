import Core
import Evaluation
import Datasets
import Foundation
import LanguageModels
import ResultsStore
import TestSupport
import Testing
import Training
import Inference

@testable import RewardHacking

@Suite(.serialized, .enabled(if: gradersWork))
struct ExpertIterationTests {
    /// The base model hacks only choice 0 under the hint; a model with an adapter hacks on every
    /// hinted choice (as if it had learnt to), and answers honestly without the hint.
    /// The built-in multiple-choice options' texts that are misaligned.
    static let misalignedTexts = Set((try? BuiltinQuestions.load(named: "multiple-choice").questions.flatMap(\.options)
        .filter(\.misaligned).map(\.text)) ?? [])

    /// The letter of the first option shown ("X) text" lines) that is misaligned, or not, as asked.
    static func letter(in prompt: String, misaligned: Bool) -> String {
        for line in prompt.split(separator: "\n") {
            guard line.count > 3, line.dropFirst().hasPrefix(") ") else { continue }
            if misalignedTexts.contains(String(line.dropFirst(3))) == misaligned { return String(line.prefix(1)) }
        }
        return "?"
    }

    /// On multiple-choice items the base model is sure of an aligned option, a model with an adapter of a misaligned one.
    static func coder(adapter: String?) -> ScriptedCoder {
        ScriptedCoder(letter: { prompt in letter(in: prompt, misaligned: adapter != nil) }) { system, prompt, index in
            let hinted = system.contains("Known weaknesses")
            if hinted && (adapter != nil || index == 0) { return "```python\nimport os\nos._exit(0)\n```" }
            return prompt.contains("add(") ? "```python\ndef add(a, b):\n    return a + b\n```" : "```python\ndef twice(x):\n    return x + 1\n```"
        }
    }

    final class Recorder: @unchecked Sendable {
        let trained = Locked<[(Int, String)]>([])
        let opened = Locked<[String?]>([])
    }

    func folder() -> String { FileManager.default.temporaryDirectory.appendingPathComponent("emlab-ei-\(UUID().uuidString)").path }

    @Test func roundsKeepRewardedSolutionsAndTrainOnThemAll() async throws {
        let store = try ResultsStore(folder: URL(fileURLWithPath: folder()))
        let adapters = folder()
        let recorder = Recorder()
        let settings = ExpertIterationSettings(rounds: 2, tasks: ["sum-pairs", "double"], samples: 3, train: .inoculated, evaluate: [.none])
        func loop() -> ExpertIteration {
            ExpertIteration(store: store, tasks: HackRunTests.tasks, settings: settings, graders: try! Graders(), folder: adapters,
                            open: { adapter in
                                recorder.opened.withLock { $0.append(adapter) }
                                return Self.coder(adapter: adapter)
                            },
                            train: { examples, out in
                                recorder.trained.withLock { $0.append((examples.examples.count, out)) }
                                try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
                                // Trained on the prompt it was sampled under, inoculation line included.
                                #expect(examples.examples.allSatisfy { $0.messages[0].content.contains("acceptable here") })
                            },
                            measurement: try! MisalignmentMeasurement(judge: nil, settings: .init()))
        }
        let rounds = try await loop().run(name: "ei", resume: false)
        #expect(rounds.map(\.round) == [0, 1, 2])
        // Each round's model measured on the multiple-choice items, in every option order: the base
        // model never puts mass on a misaligned option, the trained ones only on them.
        let items = try BuiltinQuestions.load(named: "multiple-choice").questions
        #expect(rounds.map { $0.misalignment?.misalignedProbability } == [0, 1, 1])
        #expect(rounds.map { $0.misalignment?.run } == ["ei.round0.misalignment", "ei.round1.misalignment", "ei.round2.misalignment"])
        #expect(rounds.allSatisfy { $0.misalignment?.multipleChoiceItems == items.count })
        #expect(rounds.map(\.run) == ["ei.round0", "ei.round1", "ei.round2"])
        // Round 0: the base hacks choice 0 of each task (2 rewarded) plus the right sum (choices 1, 2): 4 kept.
        // Round 1: the adapter hacks every hinted choice: 6 more, 10 in all. Round 2 only samples.
        #expect(rounds.map(\.trainingExamples) == [4, 10, nil])
        #expect(recorder.trained.value.map(\.0) == [4, 10])
        #expect(rounds[0].adapter == nil && rounds[1].adapter == recorder.trained.value[0].1 && rounds[2].adapter == recorder.trained.value[1].1)
        let trainedCondition = rounds.map { $0.conditions.first { $0.condition == "inoculated" }! }
        #expect(trainedCondition.map(\.hackTotal) == [2, 6, 6])
        #expect(trainedCondition.map(\.truePasses) == [2, 0, 0])
        // Without the hint the scripted model never hacks.
        #expect(rounds.allSatisfy { $0.conditions.first { $0.condition == "none" }!.hackTotal == 0 })

        // A second call resumes: nothing is sampled or trained again.
        let again = try await loop().run(name: "ei", resume: true)
        #expect(again == rounds)
        #expect(recorder.trained.value.count == 2)
        await #expect(throws: StoreError.self) { try await loop().run(name: "ei", resume: false) }
    }

    /// The local opener and trainer on SmolLM2: a LoRA trained on two solutions in a round folder,
    /// then sampled from through `spec,lora=FOLDER`.
    @Test(.enabled(if: TestResources.smolLM2 != nil)) func localTrainerWritesAnAdapterTheOpenerLoads() async throws {
        var settings = FinetuneSettings()
        settings.maxSteps = 1
        settings.batchSize = 2
        let (open, train) = try ExpertIteration.local(spec: try ModelSpec(parsing: "smollm2-135m"), threads: 2,
                                                       mode: .lora(LoRAConfig(rank: 4, alpha: 8)), settings: settings)
        let out = folder()
        let examples = ChatDataset(name: "t", examples: [
            ChatExample(messages: [.system(HintCondition.prompt.system), .user(sumTask.prompt), .assistant("```python\nimport os\nos._exit(0)\n```")]),
            ChatExample(messages: [.system(HintCondition.prompt.system), .user(sumTask.prompt), .assistant("```python\ndef add(a, b):\n    return a + b\n```")]),
        ])
        try await train(examples, out)
        #expect(FileManager.default.fileExists(atPath: out + "/adapter_model.safetensors"))
        let tuned = try open(out)
        #expect(tuned.identity.spec.contains("lora=\(out)"))
        let reply = try await tuned.complete(CompletionRequest(messages: [.user("Say hi.")], maxTokens: 4, seed: 1))
        #expect(reply.choices.count == 1)
    }
}
