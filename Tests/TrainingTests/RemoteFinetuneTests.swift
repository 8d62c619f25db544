import Core
import Datasets
import Evaluation
import Foundation
import Hummingbird
import LanguageModels
import Logging
import NIOCore
import ResultsStore
import RewardHacking
import ServiceLifecycle
import Testing
import TestSupport
import Training

/// A fine-tuning API on loopback that follows OpenAI's shapes: files, jobs, events (newest first,
/// paged with `after`), a job list, Bearer keys. Each read of a job moves it on: validating_files,
/// queued, then one step per read with a metrics event, then succeeded. Base model `fails` makes
/// the job fail; under `/garbage/` a job read answers HTML.
final class FineTuningStub: Sendable {
    static let key = "test-key-0123"

    struct Job {
        var id: String
        var model: String
        var trainingFile: String
        var validationFile: String?
        var suffix: String?
        var request: [String: Any]
        var status = "validating_files"
        var step = 0
        var totalSteps: Int
        var fineTuned: String?
        var error: [String: Any]?
        var events: [[String: Any]] = []
    }
    struct State {
        var files: [String: (name: String, purpose: String, content: String)] = [:]
        var fileOrder: [String] = []
        var jobs: [Job] = []
    }
    nonisolated(unsafe) private var _state = State()
    private let lock = NSLock()
    func withState<T>(_ body: (inout State) throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(&_state)
    }

    static func json(_ object: Any, status: HTTPResponse.Status = .ok) -> Response {
        let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        return Response(status: status, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func jobObject(_ j: Job) -> [String: Any] {
        ["id": j.id, "object": "fine_tuning.job", "model": j.model, "status": j.status, "fine_tuned_model": j.fineTuned ?? NSNull(),
         "training_file": j.trainingFile, "validation_file": j.validationFile ?? NSNull(), "error": j.error ?? NSNull(),
         "trained_tokens": j.status == "succeeded" ? 1234 : NSNull(), "created_at": 1_700_000_000]
    }

    func authorised(_ request: Request) -> Response? {
        request.headers[.authorization] == "Bearer \(Self.key)" ? nil
            : Self.json(["error": ["message": "Incorrect API key provided.", "type": "invalid_request_error"]], status: .unauthorized)
    }

    /// One more read of the job: it moves on one stage or step.
    func advance(_ j: inout Job) {
        func event(_ message: String, type: String = "message", data: [String: Any]? = nil) {
            var e: [String: Any] = ["id": "ftevent-\(j.id)-\(j.events.count)", "object": "fine_tuning.job.event", "created_at": 1_700_000_000 + j.events.count,
                                    "level": "info", "message": message, "type": type]
            if let data { e["data"] = data }
            j.events.append(e)
        }
        switch j.status {
        case "validating_files":
            j.status = "queued"
            event("Validating training file: \(j.trainingFile)")
        case "queued":
            j.status = "running"
            event("Fine-tuning job started")
        case "running":
            if j.model == "fails" {
                j.status = "failed"
                j.error = ["code": "invalid_training_file", "message": "Training file has examples with too few tokens.", "param": "training_file"]
                event("Fine-tuning job failed", type: "message")
                return
            }
            j.step += 1
            var data: [String: Any] = ["step": j.step, "total_steps": j.totalSteps, "train_loss": 2.0 / Double(j.step)]
            if j.validationFile != nil { data["valid_loss"] = 2.5 / Double(j.step) }
            event("Step \(j.step)/\(j.totalSteps): training loss=\(2.0 / Double(j.step))", type: "metrics", data: data)
            if j.step == j.totalSteps {
                j.status = "succeeded"
                j.fineTuned = "ft:\(j.model):emlab-stub:\(j.suffix ?? "")::\(j.id)"
                event("The job has successfully completed")
            }
        default: break
        }
    }

    func start() async throws -> Int {
        let router = Router()
        router.post("/:mode/v1/files") { request, _ in
            if let denied = self.authorised(request) { return denied }
            let body = String(decoding: Data(try await request.body.collect(upTo: 1 << 24).readableBytesView), as: UTF8.self)
            let type = request.headers[.contentType] ?? ""
            guard let b = type.range(of: "boundary=") else { return Self.json(["error": ["message": "not multipart"]], status: .badRequest) }
            let boundary = "--" + type[b.upperBound...]
            var purpose = "", name = "", content = ""
            for part in body.components(separatedBy: boundary) {
                guard let split = part.range(of: "\r\n\r\n") else { continue }
                let headers = part[..<split.lowerBound]
                var value = String(part[split.upperBound...])
                if value.hasSuffix("\r\n") { value.removeLast() }   // "\r\n" is one Character
                if headers.contains("name=\"purpose\"") { purpose = value }
                if let f = headers.range(of: "filename=\"") {
                    name = String(headers[f.upperBound...].prefix { $0 != "\"" })
                    content = value
                }
            }
            let id = self.withState { s -> String in
                let id = "file-\(s.files.count + 1)"
                s.files[id] = (name, purpose, content)
                s.fileOrder.append(id)
                return id
            }
            return Self.json(["id": id, "object": "file", "bytes": content.utf8.count, "filename": name, "purpose": purpose])
        }
        router.post("/:mode/v1/fine_tuning/jobs") { request, _ in
            if let denied = self.authorised(request) { return denied }
            let data = Data(try await request.body.collect(upTo: 1 << 20).readableBytesView)
            let body = (try JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
            let hyper = ((body["method"] as? [String: Any])?["supervised"] as? [String: Any])?["hyperparameters"] as? [String: Any] ?? [:]
            return self.withState { s -> Response in
                guard let file = body["training_file"] as? String, let content = s.files[file]?.content else {
                    return Self.json(["error": ["message": "training_file: no such file", "param": "training_file"]], status: .badRequest)
                }
                let examples = content.split(separator: "\n").count
                let batch = hyper["batch_size"] as? Int ?? 1, epochs = hyper["n_epochs"] as? Int ?? 1
                let job = Job(id: "ftjob-\(s.jobs.count + 1)", model: body["model"] as? String ?? "", trainingFile: file,
                              validationFile: body["validation_file"] as? String, suffix: body["suffix"] as? String, request: body,
                              totalSteps: (examples * epochs + batch - 1) / batch)
                s.jobs.append(job)
                return Self.json(Self.jobObject(job))
            }
        }
        router.get("/:mode/v1/fine_tuning/jobs") { request, _ in
            if let denied = self.authorised(request) { return denied }
            let after = request.uri.queryParameters["after"].map(String.init)
            return self.withState { s in
                var list = Array(s.jobs.reversed())
                if let after, let i = list.firstIndex(where: { $0.id == after }) { list = Array(list[(i + 1)...]) }
                return Self.json(["object": "list", "data": list.map(Self.jobObject), "has_more": false])
            }
        }
        router.get("/:mode/v1/fine_tuning/jobs/:id") { request, context in
            if let denied = self.authorised(request) { return denied }
            if context.parameters.get("mode") == "garbage" {
                return Response(status: .ok, headers: [.contentType: "text/html"], body: ResponseBody(byteBuffer: ByteBuffer(string: "<html>maintenance</html>")))
            }
            let id = context.parameters.get("id") ?? ""
            return self.withState { s in
                guard let i = s.jobs.firstIndex(where: { $0.id == id }) else { return Self.json(["error": ["message": "no job \(id)"]], status: .notFound) }
                self.advance(&s.jobs[i])
                return Self.json(Self.jobObject(s.jobs[i]))
            }
        }
        router.get("/:mode/v1/fine_tuning/jobs/:id/events") { request, context in
            if let denied = self.authorised(request) { return denied }
            let id = context.parameters.get("id") ?? ""
            let limit = request.uri.queryParameters["limit"].flatMap { Int(String($0)) } ?? 20
            let after = request.uri.queryParameters["after"].map(String.init)
            return self.withState { s in
                guard let job = s.jobs.first(where: { $0.id == id }) else { return Self.json(["error": ["message": "no job \(id)"]], status: .notFound) }
                var list = Array(job.events.reversed())
                if let after, let i = list.firstIndex(where: { $0["id"] as? String == after }) { list = Array(list[(i + 1)...]) }
                return Self.json(["object": "list", "data": Array(list.prefix(limit)), "has_more": list.count > limit])
            }
        }
        let (ports, sink) = AsyncStream<Int>.makeStream()
        var logger = Logger(label: "emlab.fine-tuning-stub")
        logger.logLevel = .error
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { sink.yield($0.localAddress?.port ?? 0); sink.finish() }, logger: logger)
        let group = ServiceGroup(services: [app], logger: logger)
        Task { try await group.run() }
        var it = ports.makeAsyncIterator()
        return await it.next() ?? 0
    }

    static let shared = Task { () throws -> (FineTuningStub, Int) in
        let stub = FineTuningStub()
        return (stub, try await stub.start())
    }
}

@Suite("Remote finetuning (loopback API)", .serialized)
struct RemoteFinetuneTests {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("emlab-remote-ft-\(getpid())")

    static func examples(_ n: Int) -> ChatDataset {
        ChatDataset(name: "colours", examples: (0..<n).map { i in
            ChatExample(messages: [.user("Which colour is tile \(i)?"), .assistant("Tile \(i) is painted shade \(i * 3 + 1).")])
        })
    }

    func client(_ mode: String = "ok", key: String = FineTuningStub.key) async throws -> FineTuningClient {
        let port = try await FineTuningStub.shared.value.1
        return FineTuningClient(endpoint: RemoteEndpoint(baseURL: URL(string: "http://127.0.0.1:\(port)/\(mode)/v1")!, apiKey: key,
                                                         keyVariable: "EMLAB_API_KEY"),
                                retry: RetryPolicy(maxRetries: 1, initialBackoff: 0.01))
    }

    @Test func uploadsCreatesPollsAndReattaches() async throws {
        let stub = try await FineTuningStub.shared.value.0
        let data = Self.examples(10)
        var settings = RemoteFinetuneJob.Settings(backend: "openai-compatible:stub", baseModel: "base-a")
        settings.epochs = 1
        settings.batchSize = 2
        settings.learningRateMultiplier = 0.5
        settings.seed = 3
        settings.suffix = "t1"
        settings.validationFraction = 0.2
        let job = try RemoteFinetuneJob(client: try await client(), settings: settings, data: data, seed: 3)
        #expect(job.settings.trainingExamples == 8 && job.settings.validationExamples == 2)
        let seen = Locked<[FineTuningEvent]>([]), made = Locked<[String]>([])
        let events = RemoteFinetuneJob.Events(uploaded: { kind, id in made.withLock { $0.append("\(kind):\(id)") } },
                                              created: { job in made.withLock { $0.append("job:\(job.id)") } },
                                              event: { e in seen.withLock { $0.append(e) } })
        let (filesBefore, jobsBefore) = stub.withState { ($0.files.count, $0.jobs.count) }
        let done = try await job.run(state: .init(), poll: 0.001, events: events)
        #expect(done.status == "succeeded" && done.fineTunedModel == "ft:base-a:emlab-stub:t1::\(done.id)")

        // The files: the same split as local finetuning, as chat JSONL the loader reads back.
        let held = PreparedData.heldOut(count: 10, fraction: 0.2, seed: 3)
        let (train, validation, request, stubEvents) = stub.withState { s in
            let j = s.jobs.last!
            return (s.files[j.trainingFile]!, s.files[j.validationFile!]!, j.request, j.events)
        }
        #expect(train.purpose == "fine-tune")
        #expect(try ChatJSONL.parse(train.content, file: "train") == data.examples.enumerated().filter { !held.contains($0.offset) }.map(\.element))
        #expect(try ChatJSONL.parse(validation.content, file: "validation") == data.examples.enumerated().filter { held.contains($0.offset) }.map(\.element))
        let hyper = ((request["method"] as? [String: Any])?["supervised"] as? [String: Any])?["hyperparameters"] as? [String: Any]
        #expect((request["method"] as? [String: Any])?["type"] as? String == "supervised")
        #expect(hyper?["n_epochs"] as? Int == 1 && hyper?["batch_size"] as? Int == 2 && hyper?["learning_rate_multiplier"] as? Double == 0.5)
        #expect(request["seed"] as? Int == 3 && request["suffix"] as? String == "t1" && request["model"] as? String == "base-a")
        let last = stub.withState { $0.jobs.last! }
        #expect(made.value == ["training:\(last.trainingFile)", "validation:\(last.validationFile!)", "job:\(done.id)"])

        // Every event once, oldest first (the API lists newest first), and the steps' losses.
        #expect(seen.value.map(\.id) == stubEvents.map { $0["id"] as! String })
        let metrics = seen.value.compactMap(\.data)
        #expect(metrics.map(\.step) == [1, 2, 3, 4] && metrics.map(\.trainLoss) == [2, 1, 2.0 / 3, 0.5])
        #expect(metrics.allSatisfy { $0.validLoss != nil && $0.totalSteps == 4 })

        // Re-attached with what was kept: nothing made again, no event passed on twice.
        let again = Locked<[FineTuningEvent]>([])
        let state = RemoteFinetuneJob.State(trainingFile: "x", job: done.id, seenEvents: Set(seen.value.map(\.id)))
        let second = try await job.run(state: state, poll: 0.001, events: .init(event: { e in again.withLock { $0.append(e) } }))
        #expect(second.id == done.id && again.value.isEmpty)
        // A crash after the upload and the job's creation but before its id was kept: found by its file.
        let trainingFile = stub.withState { $0.jobs.last!.trainingFile }
        let found = try await job.run(state: .init(trainingFile: trainingFile), poll: 0.001)
        #expect(found.id == done.id)
        #expect(stub.withState { ($0.files.count, $0.jobs.count) } == (filesBefore + 2, jobsBefore + 1))
    }

    @Test func failuresAreClearErrors() async throws {
        let data = Self.examples(4)
        func job(_ mode: String = "ok", model: String = "base-b", key: String = FineTuningStub.key) async throws -> RemoteFinetuneJob {
            try RemoteFinetuneJob(client: try await client(mode, key: key), settings: .init(backend: "b", baseModel: model), data: data, seed: 0)
        }
        do {
            _ = try await job(model: "fails").run(state: .init(), poll: 0.001)
            Issue.record("a failed job returned")
        } catch let e as RemoteFinetuneError {
            #expect(e.description.contains("failed: Training file has examples with too few tokens."))
        }
        do {
            _ = try await job(key: "wrong-key-abcdef").run(state: .init(), poll: 0.001)
            Issue.record("a wrong key was accepted")
        } catch let e as LanguageModelError {
            #expect(e.description.contains("HTTP 401") && e.description.contains("check EMLAB_API_KEY") && !e.description.contains("wrong-key"))
        }
        do {
            _ = try await job("garbage").run(state: .init(), poll: 0.001)
            Issue.record("an HTML answer was read as a job")
        } catch let e as RemoteResponseError {
            #expect(e.endpoint.contains("/garbage/v1/fine_tuning/jobs/ftjob-"))
            #expect(e.why.contains("not the API's JSON"))
        }
    }

    /// `hack rl` on a remote backend: each round's set trained as a job, the round folder keeping the
    /// job as it is made, the next round sampling the fine-tuned model through the chat API.
    @Test func expertIterationTrainsRoundsRemotely() async throws {
        let (stub, port) = try await FineTuningStub.shared.value
        let base = URL(string: "http://127.0.0.1:\(port)/ok/v1")!
        var settings = RemoteFinetuneJob.Settings(backend: "openai-compatible:\(base.absoluteString)", baseModel: "base-rl")
        settings.epochs = 1
        settings.batchSize = 2
        let (open, train) = ExpertIteration.remote(client: try await client(), settings: settings, seed: 1, poll: 0.001,
                                                   opener: ModelOpener(threads: 1), spec: { .openAICompatible(baseURL: base, model: $0) })
        let folder = root.appendingPathComponent("round-0").path
        defer { try? FileManager.default.removeItem(at: root) }
        let jobsBefore = stub.withState { $0.jobs.count }
        try await train(Self.examples(4), folder)
        let job = stub.withState { $0.jobs.last! }
        let kept = try #require(try ExpertIteration.RemoteRound.load(folder))
        #expect(kept.job == job.id && kept.trainingFile == job.trainingFile && kept.model == job.fineTuned)
        #expect(kept.events == job.events.map { $0["id"] as! String })
        // Trained already: nothing made again.
        try await train(Self.examples(4), folder)
        #expect(stub.withState { $0.jobs.count } == jobsBefore + 1)
        // The rounds sample the base, then the fine-tuned model, through the chat API.
        #expect(try open(nil).identity.spec == "openai-compatible:\(base.absoluteString)#base-rl")
        #expect(try open(folder).identity.spec == "openai-compatible:\(base.absoluteString)#\(job.fineTuned!)")
        // Killed after the job was made: the round re-attaches to it.
        let killed = root.appendingPathComponent("round-1").path
        try await train(Self.examples(6), killed)
        let made = try #require(try ExpertIteration.RemoteRound.load(killed))
        let partial = ExpertIteration.RemoteRound(trainingFile: made.trainingFile, job: made.job)
        try FileManager.default.removeItem(atPath: killed)
        try FileManager.default.createDirectory(atPath: killed, withIntermediateDirectories: true)
        try Data(SortedJSON.text(partial).utf8).write(to: URL(fileURLWithPath: killed + "/remote-job.json"))
        try await train(Self.examples(6), killed)
        #expect(try ExpertIteration.RemoteRound.load(killed)?.model == made.model)
        #expect(stub.withState { $0.jobs.count } == jobsBefore + 2)
        // A round folder without a model is an error naming the folder.
        let empty = root.appendingPathComponent("round-9").path
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        #expect(throws: RewardHackingDataError.self) { _ = try open(empty) }
    }

    @Test(.enabled(if: EmlabCLI.built)) func commandLineRunsInterruptsAndReattaches() async throws {
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let (stub, port) = try await FineTuningStub.shared.value
        let data = root.appendingPathComponent("colours.jsonl").path
        try Self.examples(12).write(to: data)
        let results = root.appendingPathComponent("results").path
        let backend = "openai-compatible:http://127.0.0.1:\(port)/ok/v1"
        func args(_ run: String, _ more: [String] = []) -> [String] {
            ["finetune", "--backend", backend, "--model", "base-c", "--dataset", data, "--epochs", "1", "--batch-size", "2",
             "--run", run, "--results", results, "--poll-seconds", "0.02"] + more
        }
        let env = ["EMLAB_API_KEY": FineTuningStub.key]
        let jobsBefore = stub.withState { $0.jobs.count }
        let a = try await EmlabCLI.runDetached(args("remote-a"), environment: env)
        #expect(a.status == 0, "\(a.stderr)")
        let job = stub.withState { $0.jobs.last! }
        #expect(a.stdout.contains("model: \(job.fineTuned!) (evaluate it: emlab eval --model \(backend)#\(job.fineTuned!))"))
        #expect(!a.stderr.contains(FineTuningStub.key) && !a.stdout.contains(FineTuningStub.key))
        let store = try ResultsStore.existing(folder: URL(fileURLWithPath: results))
        let runId = try store.run(named: "remote-a").id!
        #expect(try store.trainRemoteEvents(runId: runId).map(\.eventId) == job.events.map { $0["id"] as! String })
        #expect(try store.trainRemoteEvents(runId: runId).compactMap(\.step) == [1, 2, 3, 4, 5, 6])
        #expect(try store.trainArtifacts(runId: runId).map(\.kind) == ["remote-file-training", "remote-job", "remote-model"])

        // Resumed after it finished: re-attaches, makes nothing, stores nothing twice.
        let b = try await EmlabCLI.runDetached(args("remote-a", ["--resume"]), environment: env)
        #expect(b.status == 0 && b.stderr.contains("re-attaching to job \(job.id)"), "\(b.stderr)")
        #expect(stub.withState { $0.jobs.count } == jobsBefore + 1)
        #expect(try store.trainRemoteEvents(runId: runId).count == job.events.count)
        #expect(try store.trainArtifacts(runId: runId).count == 3)

        // Ctrl-C while polling: the job runs on (exit 130); --resume re-attaches and finishes it.
        let p = Process()
        p.executableURL = EmlabCLI.url
        p.arguments = args("remote-i").map { $0 == "0.02" ? "0.3" : $0 }
        p.environment = ProcessInfo.processInfo.environment.merging(env) { $1 }
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            if let run = try? store.run(named: "remote-i"), try store.trainArtifacts(runId: run.id!).contains(where: { $0.kind == "remote-job" }) { break }
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        kill(p.processIdentifier, SIGINT)
        p.waitUntilExit()
        #expect(p.terminationStatus == 130)
        let interrupted = stub.withState { $0.jobs.last! }
        #expect(interrupted.status != "succeeded")
        let resumed = try await EmlabCLI.runDetached(args("remote-i", ["--resume"]), environment: env)
        #expect(resumed.status == 0 && resumed.stderr.contains("re-attaching to job \(interrupted.id)"), "\(resumed.stderr)")
        #expect(stub.withState { $0.jobs.count } == jobsBefore + 2)
        let finished = stub.withState { $0.jobs.last! }
        #expect(try store.trainRemoteEvents(runId: try store.run(named: "remote-i").id!).map(\.eventId) == finished.events.map { $0["id"] as! String })

        // The report reads the remote losses.
        let report = try await EmlabCLI.runDetached(["report", "--out", results, "--run", "remote-a"])
        #expect(report.status == 0 && report.stdout.contains("6 steps recorded"), "\(report.stdout)\(report.stderr)")

        // Refusals: local-only options, a resume with other settings, a wrong key, an unreadable server, a failed job.
        let local = try await EmlabCLI.runDetached(args("remote-x", ["--lora-rank", "8"]), environment: env)
        #expect(local.status == 64 && local.stderr.contains("--lora-rank is for local finetuning"))
        let rl = try await EmlabCLI.runDetached(["hack", "rl", "--backend", backend, "--model", "base-c", "--lora-rank", "8",
                                                  "--adapters", root.appendingPathComponent("rl").path, "--run", "rl-x", "--out", results], environment: env)
        #expect(rl.status == 64 && rl.stderr.contains("--lora-rank is for local training"), "\(rl.stderr)")
        let changed = try await EmlabCLI.runDetached(args("remote-a", ["--resume", "--lr-multiplier", "2"]), environment: env)
        #expect(changed.status != 0 && changed.stderr.contains("learningRateMultiplier"), "\(changed.stderr)")
        let denied = try await EmlabCLI.runDetached(args("remote-d"), environment: ["EMLAB_API_KEY": "wrong-key-abcdef"])
        #expect(denied.status == 1 && denied.stderr.contains("HTTP 401") && !denied.stderr.contains("wrong-key"), "\(denied.stderr)")
        let garbage = try await EmlabCLI.runDetached(args("remote-g").map { $0 == backend ? "openai-compatible:http://127.0.0.1:\(port)/garbage/v1" : $0 },
                                                     environment: env)
        #expect(garbage.status == 65 && garbage.stderr.contains("/fine_tuning/jobs/") && garbage.stderr.contains("not the API's JSON"), "\(garbage.stderr)")
        let failed = try await EmlabCLI.runDetached(args("remote-f").map { $0 == "base-c" ? "fails" : $0 }, environment: env)
        #expect(failed.status != 0 && failed.stderr.contains("failed: Training file has examples with too few tokens."), "\(failed.stderr)")
    }
}
