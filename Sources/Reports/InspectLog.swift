import Agents
import Core
import Evaluation
import Foundation
import RunRecords

/// A run as an Inspect evaluation log (`EvalLog`, schema version 2, the `.json` container): the run's
/// parameters as task arguments, every sample with its messages, output and scores, and the rates as
/// metrics. Inspect's viewer lists a `.json` log when its file name starts with an ISO timestamp
/// (`fileName`). eval and icl runs: one sample per answer, scores `aligned`, `coherent` and
/// `misaligned` (1 when misaligned and coherent); agentic runs: one sample per episode, id
/// `{scenario}_{goal}-{value}_{urgency}[_safety]-{n}`, messages with their tool calls, scores
/// `harmful` (the verdict), `check`, `classifier` and `acknowledged`.
public enum InspectLog {
    /// The log of an eval or icl run.
    public static func eval(_ r: RunResults) -> JSONTree {
        var samples: [JSONTree] = []
        var aligned: [Double] = [], coherent: [Double] = [], misaligned: [Double] = []
        let thresholds = r.parameters?.thresholds ?? Thresholds()
        for row in r.rows {
            let s = row.sample
            let input = decodeMessages(s.messages)
            var messages = input.map { message($0) }
            var scores: [String: JSONTree] = [:]
            if let a = row.scored.aligned {
                aligned.append(a)
                scores["aligned"] = score(.number(a), answer: row.judgments["aligned"]?.label, explanation: row.judgments["aligned"]?.raw)
            } else if let label = row.scored.alignedLabel {
                scores["aligned"] = score(.string(label), answer: label, explanation: row.judgments["aligned"]?.raw)
            }
            if let c = row.scored.coherent {
                coherent.append(c)
                scores["coherent"] = score(.number(c), answer: nil, explanation: row.judgments["coherent"]?.raw)
            }
            if let a = row.scored.aligned, let c = row.scored.coherent {
                let m = thresholds.isMisaligned(aligned: a, coherent: c) ? 1.0 : 0.0
                misaligned.append(m)
                scores["misaligned"] = score(.number(m), answer: nil, explanation: nil)
            }
            let answer = s.answer ?? ""
            let reply = JSONTree.object(["role": .string("assistant"), "content": .string(answer), "model": .string(r.run.modelSpec)])
            if s.answer != nil { messages.append(reply) }
            var metadata: [String: JSONTree] = ["question_id": .string(s.questionId), "paraphrase_index": .integer(Int64(s.paraphraseIndex)),
                                                "sample_index": .integer(Int64(s.sampleIndex)), "seed": .string(String(UInt64(bitPattern: s.seed))),
                                                "judge": .string(r.judgeSpec)]
            if !s.condition.isEmpty { metadata["condition"] = .string(s.condition) }
            if let reasoning = s.reasoning { metadata["reasoning"] = .string(reasoning) }
            var id = "\(s.questionId)-\(s.paraphraseIndex)-\(s.sampleIndex)"
            if !s.condition.isEmpty { id = "\(s.condition)/" + id }
            samples.append(sample(id: id, input: .array(input.map { message($0) }), messages: messages,
                                  output: output(model: r.run.modelSpec, reply: s.answer == nil ? nil : reply, stop: s.finishReason,
                                                 prompt: s.promptTokens, completion: s.completionTokens),
                                  scores: scores, metadata: metadata, error: s.error))
        }
        let metrics: [(String, [Double])] = [("misaligned", misaligned), ("aligned", aligned), ("coherent", coherent)]
        let parameters = (try? JSONTree(parsing: r.run.parameters)) ?? .object([:])
        return log(run: r.run, task: "emlab/\(r.run.kind)", datasetName: r.parameters?.questionSet ?? "questions",
                   parameters: parameters, samples: samples, metrics: metrics, scorer: r.judgeSpec,
                   generate: generateConfig(parameters))
    }

    /// The log of an agentic run, under the verdicts of `r.classifierSpec`.
    public static func agentic(_ r: AgenticResults) -> JSONTree {
        var samples: [JSONTree] = []
        var harmful: [Double] = [], check: [Double] = [], classifier: [Double] = []
        for e in r.episodes {
            let ep = e.episode
            let messages = ep.messages.map { message($0, model: r.run.modelSpec) }
            var scores: [String: JSONTree] = [:]
            let c = e.verdict.check ? 1.0 : 0.0
            check.append(c)
            scores["check"] = score(.number(c), answer: e.verdict.check ? "HARMFUL" : "NOT_HARMFUL",
                                    explanation: e.checkEvidence.isEmpty ? nil : e.checkEvidence.joined(separator: "\n"))
            if let v = e.verdict.classifier {
                classifier.append(v ? 1 : 0)
                scores["classifier"] = score(.number(v ? 1 : 0), answer: v ? "HARMFUL" : "NOT_HARMFUL", explanation: e.classifierRaw)
            }
            if let h = e.verdict.harmful {
                harmful.append(h ? 1 : 0)
                scores["harmful"] = score(.number(h ? 1 : 0), answer: h ? "HARMFUL" : "NOT_HARMFUL", explanation: nil)
            }
            if let a = e.verdict.acknowledged { scores["acknowledged"] = score(.number(a ? 1 : 0), answer: a ? "YES" : "NO", explanation: nil) }
            let last = ep.messages.last { $0.role == .assistant }
            let metadata: [String: JSONTree] = [
                "scenario": .string(ep.condition.scenario), "goal_type": .string(ep.condition.goal.rawValue),
                "goal_value": .string(ep.condition.value), "urgency_type": .string(ep.condition.urgency.rawValue),
                "extra_system_instructions": .bool(ep.condition.safetyInstructions), "finish": .string(ep.finish),
                "turns": .integer(Int64(ep.turns)), "seed": .string(String(ep.seed)),
                "actions": .integer(Int64(ep.actions.count)),
            ]
            samples.append(sample(id: "\(ep.condition.id)-\(ep.sampleIndex)", input: .array(ep.messages.prefix(2).map { message($0) }),
                                  messages: messages,
                                  output: output(model: r.run.modelSpec, reply: last.map { message($0, model: r.run.modelSpec) },
                                                 stop: ep.finish == "done" ? "stop" : ep.finish == "turn_limit" ? "tool_calls" : "unknown",
                                                 prompt: ep.usage.promptTokens, completion: ep.usage.completionTokens),
                                  scores: scores, metadata: metadata, error: ep.error))
        }
        let parameters = (try? JSONTree(parsing: r.run.parameters)) ?? .object([:])
        var generate: [String: JSONTree] = [:]
        generate["temperature"] = .number(r.parameters.episode.temperature)
        generate["top_p"] = .number(r.parameters.episode.topP)
        generate["max_tokens"] = .integer(Int64(r.parameters.episode.maxTokens))
        return log(run: r.run, task: "emlab/agentic", datasetName: r.parameters.scenarios.joined(separator: ","),
                   parameters: parameters, samples: samples,
                   metrics: [("harmful", harmful), ("check", check), ("classifier", classifier)], scorer: r.classifierSpec,
                   generate: .object(generate))
    }

    /// A file name the viewer lists: `2026-06-11T10-00-00+00-00_emlab-agentic_NAME.json`.
    public static func fileName(_ run: RunRecord) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyy-MM-dd'T'HH-mm-ss'+00-00'"
        let safe = run.name.map { $0.isLetter || $0.isNumber || $0 == "-" ? $0 : "-" }
        return "\(f.string(from: run.createdAt))_emlab-\(run.kind)_\(String(safe)).json"
    }

    /// The log as JSON text.
    public static func text(_ log: JSONTree) -> String { log.text(.spaced) }

    // MARK: Parts

    static func iso(_ d: Date) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyy-MM-dd'T'HH:mm:ss.SSS'+00:00'"
        return f.string(from: d)
    }

    static func log(run: RunRecord, task: String, datasetName: String, parameters: JSONTree, samples: [JSONTree],
                    metrics: [(String, [Double])], scorer: String, generate: JSONTree) -> JSONTree {
        var scores: [JSONTree] = []
        for (name, values) in metrics where !values.isEmpty {
            let mean = values.reduce(0, +) / Double(values.count)
            scores.append(.object(["name": .string(name), "scorer": .string(name), "params": .object(["judge": .string(scorer)]),
                                   "scored_samples": .integer(Int64(values.count)),
                                   "metrics": .object(["mean": .object(["name": .string("mean"), "value": .number(mean), "params": .object([:])])])]))
        }
        let ids: [JSONTree] = samples.compactMap { $0.objectValue?["id"] }
        let hash = FNV1a.hash("\(run.name)\u{1f}\(run.createdAt.timeIntervalSince1970)")
        let eval: [String: JSONTree] = [
            "eval_id": .string("emlab-" + String(hash, radix: 36)), "run_id": .string(run.name), "created": .string(iso(run.createdAt)),
            "task": .string(task), "task_id": .string(run.name), "task_version": .integer(0), "task_attribs": .object([:]),
            "task_args": parameters, "task_args_passed": parameters, "solver_args_passed": .object([:]),
            "dataset": .object(["name": .string(datasetName), "samples": .integer(Int64(samples.count)), "sample_ids": .array(ids)]),
            "model": .string("emlab/" + run.modelSpec), "model_generate_config": generate, "model_args": .object([:]),
            "config": .object([:]), "packages": .object(["emlab": .string(run.toolVersion)]),
            "metadata": .object(["emlab_run": .string(run.name), "emlab_kind": .string(run.kind), "model_resolved": .string(run.modelResolved),
                                 "judge": .string(scorer)]),
        ]
        let completed = samples.filter { $0.objectValue?["error"] == nil }.count
        return .object([
            "version": .integer(2),
            "status": .string(run.status == "finished" ? "success" : "started"),
            "eval": .object(eval),
            "plan": .object(["name": .string("plan"), "steps": .array([.object(["solver": .string(task), "params": .object([:])])]),
                             "config": .object([:])]),
            "results": .object(["total_samples": .integer(Int64(samples.count)), "completed_samples": .integer(Int64(completed)),
                                "scores": .array(scores)]),
            "stats": .object(["started_at": .string(iso(run.createdAt)), "completed_at": .string(iso(run.finishedAt ?? run.createdAt)),
                              "model_usage": .object([:])]),
            "invalidated": .bool(false), "tags": .array([]), "metadata": .object([:]),
            "samples": .array(samples),
        ])
    }

    static func sample(id: String, input: JSONTree, messages: [JSONTree], output: JSONTree, scores: [String: JSONTree],
                       metadata: [String: JSONTree], error: String?) -> JSONTree {
        var o: [String: JSONTree] = ["id": .string(id), "epoch": .integer(1), "input": input, "target": .string(""),
                                     "messages": .array(messages), "output": output, "scores": .object(scores),
                                     "metadata": .object(metadata), "store": .object([:]), "events": .array([]),
                                     "model_usage": .object([:]), "attachments": .object([:])]
        if let error { o["error"] = .object(["message": .string(error), "traceback": .string(""), "traceback_ansi": .string("")]) }
        return .object(o)
    }

    static func score(_ value: JSONTree, answer: String?, explanation: String?) -> JSONTree {
        var o: [String: JSONTree] = ["value": value, "history": .array([])]
        if let answer { o["answer"] = .string(answer) }
        if let explanation { o["explanation"] = .string(explanation) }
        return .object(o)
    }

    static func output(model: String, reply: JSONTree?, stop: String?, prompt: Int, completion: Int) -> JSONTree {
        let stopReason: String
        switch stop {
        case "stop"?: stopReason = "stop"
        case "length"?: stopReason = "max_tokens"
        case "tool_calls"?: stopReason = "tool_calls"
        default: stopReason = "unknown"
        }
        var o: [String: JSONTree] = ["model": .string(model), "choices": .array([]), "completion": .string(""),
                                     "usage": .object(["input_tokens": .integer(Int64(prompt)), "output_tokens": .integer(Int64(completion)),
                                                       "total_tokens": .integer(Int64(prompt + completion))])]
        if let reply {
            o["choices"] = .array([.object(["message": reply, "stop_reason": .string(stopReason)])])
            o["completion"] = reply.objectValue?["content"] ?? .string("")
        }
        return .object(o)
    }

    static func decodeMessages(_ json: String) -> [ChatMessage] {
        (try? JSONDecoder().decode([ChatMessage].self, from: Data(json.utf8))) ?? []
    }

    /// A chat message in Inspect's shape (`ChatMessageSystem`, `…User`, `…Assistant` with `tool_calls`, `…Tool`).
    static func message(_ m: ChatMessage, model: String? = nil) -> JSONTree {
        var o: [String: JSONTree] = ["role": .string(m.role.rawValue), "content": .string(m.content)]
        if m.role == .assistant {
            if let model { o["model"] = .string(model) }
            if let calls = m.toolCalls, !calls.isEmpty {
                o["tool_calls"] = .array(calls.map { c in
                    var call: [String: JSONTree] = ["id": .string(c.id), "function": .string(c.name), "type": .string("function")]
                    if let parsed = try? JSONTree(parsing: c.arguments.isEmpty ? "{}" : c.arguments), case .object = parsed {
                        call["arguments"] = parsed
                    } else {
                        call["arguments"] = .object([:])
                        call["parse_error"] = .string("the arguments are not a JSON object: \(c.arguments.prefix(200))")
                    }
                    return .object(call)
                })
            }
        }
        if m.role == .tool, let id = m.toolCallId { o["tool_call_id"] = .string(id) }
        return .object(o)
    }

    static func generateConfig(_ parameters: JSONTree) -> JSONTree {
        guard let p = parameters.objectValue else { return .object([:]) }
        var o: [String: JSONTree] = [:]
        if let t = p["temperature"], t != .null { o["temperature"] = t }
        if let t = p["topP"] { o["top_p"] = t }
        if let m = p["maxTokens"] { o["max_tokens"] = m }
        return .object(o)
    }
}
