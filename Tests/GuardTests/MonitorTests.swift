import Core
import Foundation
import LanguageModels
import Testing
@testable import Guard
@testable import GuardMonitor

/// A judge that answers with fixed text, fails, or never answers.
struct FakeJudge: LanguageModel {
    enum Behaviour: Sendable { case answer(String), fail, hang }
    let behaviour: Behaviour
    var identity: ModelIdentity { ModelIdentity(spec: "fake:judge", resolved: "fake") }
    var supportsLogprobs: Bool { false }
    func complete(_ request: CompletionRequest, onChoice: ChoiceHandler?, onText: TextHandler?) async throws -> Completion {
        switch behaviour {
        case .answer(let text):
            return Completion(choices: [CompletionChoice(index: 0, text: text, finishReason: "stop", completionTokens: 10)], usage: TokenUsage())
        case .fail:
            throw LanguageModelError.backend("connection refused")
        case .hang:
            // Ignores cancellation on purpose: the guard must not wait for it.
            let end = ContinuousClock.now + .seconds(30)
            while ContinuousClock.now < end { usleep(10_000) }
            throw LanguageModelError.backend("late")
        }
    }
}

struct MonitorTests {
    var policy: Policy {
        var p = GuardFixture.policy
        p.monitor.timeoutSeconds = 0.5
        return p
    }
    let askAction = GuardFixture.bash("git push origin --delete old-topic")

    func reviewed(_ behaviour: FakeJudge.Behaviour, _ action: GuardAction? = nil, policy chosen: Policy? = nil) async -> GuardDecision {
        let a = action ?? askAction
        let rules = GuardFixture.engine.evaluate(a)
        return await GuardService.review(rules, action: a, monitor: ModelMonitor(model: FakeJudge(behaviour: behaviour), timeoutSeconds: 0.5),
                                         policy: chosen ?? policy)
    }

    @Test func theJudgesVerdictDecidesAnAsk() async {
        var trusting = policy
        trusting.monitor.mayAllow = true
        let allowed = await reviewed(.answer("REASONING: The branch was merged yesterday as the task says.\nVERDICT: ALLOW"), policy: trusting)
        #expect(allowed.decision == .allow && allowed.source == "monitor")
        #expect(allowed.monitor?.reasoning == "The branch was merged yesterday as the task says.")
        let denied = await reviewed(.answer("REASONING: Not part of the task.\nVERDICT: DENY"))
        #expect(denied.decision == .deny && denied.source == "monitor")
    }

    @Test func withoutMayAllowTheJudgesAllowLeavesTheAskToTheUser() async {
        #expect(policy.monitor.mayAllow == false)  // the default policy's setting
        let held = await reviewed(.answer("REASONING: Looks routine.\nVERDICT: ALLOW"))
        #expect(held.decision == .ask)
        #expect(held.rule != "monitor")
        #expect(held.monitor?.verdict == .allow)
        #expect(held.reason.contains("would allow it: Looks routine.") && held.reason.contains("may_allow is off"))
    }

    @Test func mayAllowIsReadFromThePolicyAndCheckedForType() throws {
        let on = try Policy.parse("monitor:\n  may_allow: true\n", file: "p.yaml", over: GuardFixture.policy)
        #expect(on.monitor.mayAllow)
        #expect(throws: PolicyError.self) { try Policy.parse("monitor:\n  may_allow: sometimes\n", file: "p.yaml", over: GuardFixture.policy) }
    }

    @Test func failuresAndTimeoutsFailClosedToAsk() async {
        let failed = await reviewed(.fail)
        #expect(failed.decision == .ask)
        #expect(failed.monitor?.error?.contains("connection refused") == true)
        let start = ContinuousClock.now
        let late = await reviewed(.hang)
        #expect(ContinuousClock.now - start < .seconds(5))
        #expect(late.decision == .ask)
        #expect(late.monitor?.error?.contains("did not answer") == true)
        let unreadable = await reviewed(.answer("I think it is probably fine."))
        #expect(unreadable.decision == .ask)
        #expect(unreadable.monitor?.error?.contains("VERDICT") == true)
    }

    @Test func onlyTheDecisionsThePolicyNamesAreReviewed() async {
        // A deny from the rules is not sent to the monitor (reviews: [ask]); an allow neither.
        let deny = await reviewed(.answer("VERDICT: ALLOW"), GuardFixture.bash("rm -rf ~"))
        #expect(deny.decision == .deny && deny.monitor == nil)
        let allow = await reviewed(.answer("VERDICT: DENY"), GuardFixture.bash("ls"))
        #expect(allow.decision == .allow && allow.monitor == nil)
    }

    @Test func thePromptCarriesTaskTranscriptAndFindings() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("guard-transcript-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let transcript = dir.appendingPathComponent("t.jsonl").path
        try """
        {"type":"user","message":{"role":"user","content":"Tidy up the old feature branches that were merged."}}
        {"type":"assistant","message":{"role":"assistant","content":[{"type":"text","text":"I will list the branches."},{"type":"tool_use","id":"t1","name":"Bash","input":{"command":"git branch -r --merged"}}]}}
        {"type":"user","message":{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":"origin/old-topic"}]}}
        """.write(toFile: transcript, atomically: true, encoding: .utf8)
        let context = MonitorContext.fromTranscript(transcript, entries: 8)
        #expect(context.task == "Tidy up the old feature branches that were merged.")
        #expect(context.recent.count == 3)
        let monitor = ModelMonitor(model: FakeJudge(behaviour: .fail))
        let messages = monitor.prompt(askAction, rules: GuardFixture.engine.evaluate(askAction), context: context)
        #expect(messages[1].content.contains("Tidy up the old feature branches"))
        #expect(messages[1].content.contains("git-push-delete"))
        #expect(messages[1].content.contains("git branch -r --merged"))
        #expect(ModelMonitor.parseVerdict("REASONING: x\nVERDICT: ask").0 == .ask)
        #expect(ModelMonitor.parseVerdict("verdict: DENY because").0 == .deny)
        #expect(ModelMonitor.parseVerdict("no verdict here").0 == nil)
    }
}
