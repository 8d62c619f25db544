import Core
import Evaluation
import Foundation
import LanguageModels

/// One run of an agent in a scenario: the whole transcript and every action.
public struct Episode: Sendable, Codable, Hashable {
    public var condition: AgenticCondition
    public var sampleIndex: Int
    public var seed: UInt64
    /// Every turn as sent and received: system prompt, task, the assistant's turns with their tool
    /// calls, tool results, and emlab's notes on unreadable calls (user turns).
    public var messages: [ChatMessage]
    /// Every tool call with its result, and every unreadable `<tool_call>` block, in order.
    public var actions: [ActionRecord]
    /// `done` (the agent replied without calling a tool), `turn_limit`, or `error` (the model refused
    /// the request, e.g. a prompt longer than its context: `error` says why).
    public var finish: String
    public var error: String?
    /// Assistant turns taken.
    public var turns: Int
    public var usage: TokenUsage
    /// Chain-of-thought episodes: the private reasoning of each assistant turn (removed from the
    /// turn's text, which keeps what the agent wrote after it), joined; nil otherwise.
    public var reasoning: String?

    public init(condition: AgenticCondition, sampleIndex: Int, seed: UInt64, messages: [ChatMessage], actions: [ActionRecord],
                finish: String, error: String? = nil, turns: Int, usage: TokenUsage, reasoning: String? = nil) {
        self.reasoning = reasoning
        self.condition = condition
        self.sampleIndex = sampleIndex
        self.seed = seed
        self.messages = messages
        self.actions = actions
        self.finish = finish
        self.error = error
        self.turns = turns
        self.usage = usage
    }

    /// The e-mails the agent sent or forwarded.
    public var sentEmails: [SentEmail] { actions.compactMap(\.sent) }

    /// The agent's own words, turn by turn.
    public var assistantTexts: [String] {
        messages.filter { $0.role == .assistant && !$0.content.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty }.map(\.content)
    }

    /// What the agent did, as the classifiers read it: its words and each action with its effect,
    /// in order (tool results are left out except for failures: the inbox is the scenario's).
    public var actionLog: String {
        var out: [String] = []
        var turn = 0
        for m in messages where m.role == .assistant {
            var lines: [String] = []
            let text = m.content.trimmingCharacters(in: .whitespacesAndNewlines)
            if !text.isEmpty { lines.append("The agent wrote:\n\(text)") }
            for a in actions where a.turn == turn {
                switch a.status {
                case .parseFailure:
                    lines.append("Unreadable tool call (not executed): \(a.arguments)")
                case .error:
                    lines.append("Tool call \(a.name)(\(a.arguments)) failed: \(a.result)")
                case .ok:
                    if let sent = a.sent {
                        let verb = sent.forwarded == nil ? "SENT AN E-MAIL" : "FORWARDED AN E-MAIL"
                        var s = "\(verb) to \(sent.to.joined(separator: ", "))"
                        if !sent.cc.isEmpty { s += " (cc \(sent.cc.joined(separator: ", ")))" }
                        lines.append(s + ":\n" + sent.fullText)
                    } else if a.name == "read_email" || a.name == "list_emails" {
                        lines.append("Called \(a.name)(\(a.arguments))")
                    } else {
                        lines.append("CALLED \(a.name)(\(a.arguments)) → \(a.result)")
                    }
                }
            }
            if !lines.isEmpty { out.append("[Turn \(turn + 1)]\n" + lines.joined(separator: "\n\n")) }
            turn += 1
        }
        return out.isEmpty ? "(The agent took no action and wrote nothing.)" : out.joined(separator: "\n\n")
    }
}

/// Settings of every episode of a run.
public struct EpisodeSettings: Sendable, Codable, Hashable {
    /// Most assistant turns; an episode still calling tools then ends with `turn_limit`.
    public var maxTurns: Int
    public var temperature: Double
    public var topP: Double
    /// Tokens per assistant turn.
    public var maxTokens: Int
    /// Ask for private reasoning in tags before each turn's words and calls; it is kept apart
    /// (`Episode.reasoning`), never shown back to the agent, and judged for a persona (nil: off).
    public var chainOfThought: Bool?

    public init(maxTurns: Int = 10, temperature: Double = 1, topP: Double = 1, maxTokens: Int = 1024, chainOfThought: Bool? = nil) {
        self.chainOfThought = chainOfThought
        self.maxTurns = maxTurns
        self.temperature = temperature
        self.topP = topP
        self.maxTokens = maxTokens
    }
}

/// A model's failure that another try may not repeat (a server down, a time-out): the episode is
/// not stored, and `--resume` runs it again.
public struct TransientEpisodeError: Error, CustomStringConvertible {
    public var underlying: any Error
    public var description: String { "\(underlying)" }
}

/// Runs episodes: the model answers, its tool calls run in the environment, their results go back,
/// until it answers without a call or the turn limit.
public enum EpisodeRunner {
    /// The note sent back when a reply's `<tool_call>` blocks could not be read and it made no call.
    static func parseFailureNote(_ failures: [ToolCallParseFailure]) -> String {
        "[emlab] Your tool call could not be read (\(failures.map(\.reason).joined(separator: "; "))), so nothing was done. "
            + "Write each call as <tool_call>{\"name\": \"…\", \"arguments\": {…}}</tool_call>, or use the tools directly."
    }

    public static func run(model: any LanguageModel, scenario: RenderedScenario, sampleIndex: Int, seed: UInt64,
                           settings: EpisodeSettings) async throws -> Episode {
        let environment = EmailEnvironment(scenario)
        let thinking = settings.chainOfThought == true
        var messages: [ChatMessage] = [.system(scenario.system + (thinking ? ChainOfThought.agentInstruction : "")), .user(scenario.task)]
        var reasoning: [String] = []
        var actions: [ActionRecord] = []
        var usage = TokenUsage()
        var finish = "turn_limit"
        var failure: String?
        var turns = 0
        for turn in 0..<settings.maxTurns {
            let request = CompletionRequest(messages: messages, n: 1, temperature: settings.temperature, topP: settings.topP,
                                            maxTokens: settings.maxTokens, seed: SplitMix64.mix(seed, UInt64(turn)),
                                            tools: environment.tools)
            let completion: Completion
            do {
                completion = try await model.complete(request)
            } catch let e as LanguageModelError {
                if case .backend = e { throw TransientEpisodeError(underlying: e) }
                finish = "error"
                failure = e.description
                break
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                // The engine's own refusals (a prompt past the context window, a bad request): final.
                finish = "error"
                failure = "\(error)"
                break
            }
            usage = usage + completion.usage
            guard let choice = completion.choices.first else {
                finish = "error"
                failure = "the model returned no choice"
                break
            }
            turns += 1
            var calls = choice.toolCalls ?? []
            var text = choice.text
            if thinking {
                let (thought, rest) = ChainOfThought.split(text)
                reasoning.append(thought ?? "")
                text = rest
            }
            // A server that does not parse tool calls leaves the blocks in the text: they are read here.
            let parsed = ToolCallSyntax.parse(text, bareCallNames: Set(environment.tools.map(\.name)))
            if calls.isEmpty, !parsed.calls.isEmpty {
                calls = parsed.calls
                text = parsed.content
            }
            messages.append(ChatMessage(role: .assistant, content: text, toolCalls: calls.isEmpty ? nil : calls))
            var position = 0
            for call in calls {
                let record = environment.execute(call, turn: turn, position: position)
                actions.append(record)
                messages.append(.tool(record.result, callId: call.id))
                position += 1
            }
            // Blocks the model wrote that were not read as calls (the server or engine left them in the text).
            let failures = parsed.failures
            for f in failures {
                actions.append(ActionRecord(turn: turn, position: position, callId: "", name: "", arguments: f.text,
                                            result: f.reason, status: .parseFailure))
                position += 1
            }
            if calls.isEmpty {
                if failures.isEmpty {
                    finish = "done"
                    break
                }
                messages.append(.user(parseFailureNote(failures)))
            }
        }
        return Episode(condition: scenario.condition, sampleIndex: sampleIndex, seed: seed, messages: messages, actions: actions,
                       finish: finish, error: failure, turns: turns, usage: usage,
                       reasoning: thinking ? reasoning.filter { !$0.isEmpty }.joined(separator: "\n\n") : nil)
    }

    /// Replays a written transcript's turns (the labelled set) through the environment: the same
    /// records a model's episode would have.
    public static func replay(scenario: RenderedScenario, turns: [(text: String, calls: [ToolCall])]) -> Episode {
        let environment = EmailEnvironment(scenario)
        var messages: [ChatMessage] = [.system(scenario.system), .user(scenario.task)]
        var actions: [ActionRecord] = []
        for (turn, t) in turns.enumerated() {
            messages.append(ChatMessage(role: .assistant, content: t.text, toolCalls: t.calls.isEmpty ? nil : t.calls))
            for (position, call) in t.calls.enumerated() {
                let record = environment.execute(call, turn: turn, position: position)
                actions.append(record)
                messages.append(.tool(record.result, callId: call.id))
            }
        }
        return Episode(condition: scenario.condition, sampleIndex: 0, seed: 0, messages: messages, actions: actions,
                       finish: turns.last?.calls.isEmpty == true ? "done" : "turn_limit", turns: turns.count, usage: TokenUsage())
    }
}
