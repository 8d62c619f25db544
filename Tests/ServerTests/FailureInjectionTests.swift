import Foundation
import Hummingbird
import LanguageModels
import Logging
import NIOCore
import ServiceLifecycle
import Testing
import Tokenizer

/// A loopback stub that misbehaves on purpose: each route prefix is one kind of failure.
final class StubServer: Sendable {
    let hits = Box([String: Int]())
    private let group: Box<ServiceGroup?> = Box(nil)
    private let task: Box<Task<Void, any Error>?> = Box(nil)

    static let ok = #"{"id":"s","object":"chat.completion","created":0,"model":"stub","choices":[{"index":0,"message":{"role":"assistant","content":"hello"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}"#
    struct Cut: Error {}

    func count(_ route: String) -> Int { hits.value[route] ?? 0 }

    private func hit(_ route: String) -> Int {
        var n = 0
        hits.update { $0[route, default: 0] += 1; n = $0[route]! }
        return n
    }

    static func json(_ status: HTTPResponse.Status, _ body: String, headers: HTTPFields = [:]) -> Response {
        var h = headers
        h[.contentType] = "application/json"
        return Response(status: status, headers: h, body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }

    func start() async throws -> Int {
        let router = Router()
        router.post("/r429/v1/chat/completions") { _, _ in
            if self.hit("r429") == 1 {
                var h = HTTPFields()
                h[.retryAfter] = "1"
                return Self.json(.tooManyRequests, #"{"error":{"message":"slow down","type":"rate_limit","param":null,"code":null}}"#, headers: h)
            }
            return Self.json(.ok, Self.ok)
        }
        router.post("/r500/v1/chat/completions") { _, _ in
            _ = self.hit("r500")
            return Self.json(.internalServerError, #"{"error":{"message":"engine on fire","type":"server_error","param":null,"code":500}}"#)
        }
        router.post("/r503/v1/chat/completions") { _, _ in
            self.hit("r503") <= 2 ? Self.json(.serviceUnavailable, "busy") : Self.json(.ok, Self.ok)
        }
        router.post("/slow/v1/chat/completions") { _, _ in
            _ = self.hit("slow")
            try await Task.sleep(nanoseconds: 3_000_000_000)
            return Self.json(.ok, Self.ok)
        }
        router.post("/cut/v1/chat/completions") { _, _ in
            _ = self.hit("cut")
            return Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody { writer in
                try await writer.write(ByteBuffer(string: String(Self.ok.prefix(60))))
                throw Cut()
            })
        }
        router.post("/badjson/v1/chat/completions") { _, _ in
            _ = self.hit("badjson")
            return Self.json(.ok, String(Self.ok.prefix(70)))
        }
        router.post("/nologprobs/v1/chat/completions") { _, _ in
            _ = self.hit("nologprobs")
            return Self.json(.ok, Self.ok)
        }
        router.post("/r400/v1/chat/completions") { _, _ in
            _ = self.hit("r400")
            return Self.json(.badRequest, #"{"error":{"message":"unsupported parameter","type":"invalid_request_error","param":"n","code":null}}"#)
        }
        router.post("/r401/v1/chat/completions") { _, _ in
            _ = self.hit("r401")
            return Self.json(.unauthorized, #"{"error":{"message":"Incorrect API key provided: sk-test-abcdef1234567890. Find your key at …","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}"#)
        }
        // Streams: one cut after text went out (must not be retried), one cut before (may be).
        router.post("/streamcut/v1/chat/completions") { _, _ in
            _ = self.hit("streamcut")
            return Response(status: .ok, headers: [.contentType: "text/event-stream"], body: ResponseBody { writer in
                try await writer.write(ByteBuffer(string: #"data: {"choices":[{"index":0,"delta":{"content":"Hel"}}]}"# + "\n\n"))
                throw Cut()
            })
        }
        router.post("/streamearly/v1/chat/completions") { _, _ in
            let n = self.hit("streamearly")
            return Response(status: .ok, headers: [.contentType: "text/event-stream"], body: ResponseBody { writer in
                try await writer.write(ByteBuffer(string: #"data: {"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}"# + "\n\n"))
                if n == 1 { throw Cut() }
                try await writer.write(ByteBuffer(string: #"data: {"choices":[{"index":0,"delta":{"content":"hi there"}}]}"# + "\n\n"))
                try await writer.write(ByteBuffer(string: #"data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"# + "\n\ndata: [DONE]\n\n"))
                try await writer.finish(nil)
            })
        }
        var logger = Logger(label: "stub")
        logger.logLevel = .critical
        let (ports, sink) = AsyncStream<Int>.makeStream()
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { sink.yield($0.localAddress?.port ?? 0); sink.finish() }, logger: logger)
        let g = ServiceGroup(services: [app], logger: logger)
        group.update { $0 = g }
        task.update { $0 = Task { try await g.run() } }
        var it = ports.makeAsyncIterator()
        return try #require(await it.next())
    }

    func stop() async {
        await group.value?.triggerGracefulShutdown()
        _ = try? await task.value?.value
    }
}

/// The client's retries, time-outs and errors against a misbehaving server over loopback.
@Suite(.serialized)
struct FailureInjectionTests {
    static let stub = StubServer()
    static let port = Task { try await stub.start() }
    let request = CompletionRequest(messages: [.user("hi")], maxTokens: 5, seed: 1)

    func client(_ route: String, retries: Int = 3, timeout: Double = 30, events: Box<[RetryEvent]>) async throws -> OpenAICompatibleModel {
        let port = try await Self.port.value
        let options = RemoteModelOptions(maxConnections: 4, timeout: timeout,
                                         retry: RetryPolicy(maxRetries: retries, initialBackoff: 0.01, maxBackoff: 0.05),
                                         onRetry: { e in events.update { $0.append(e) } })
        return OpenAICompatibleModel(baseURL: URL(string: "http://127.0.0.1:\(port)/\(route)/v1")!, model: "stub",
                                     apiKey: "sk-test-abcdef1234567890", keyVariable: "EMLAB_API_KEY", options: options)
    }

    @Test func retryAfterIsHonoured() async throws {
        let events = Box([RetryEvent]())
        let r = try await client("r429", events: events).complete(request)
        #expect(r.choices.map(\.text) == ["hello"])
        #expect(Self.stub.count("r429") == 2)
        #expect(events.value.count == 1)
        #expect(events.value.first?.retryAfter == 1)
        #expect((events.value.first?.delay ?? 0) >= 1)   // the chosen wait, not a measured time
        #expect(events.value.first?.reason.contains("HTTP 429") == true)
    }

    @Test func serverErrorsAreRetriedThenReported() async throws {
        let events = Box([RetryEvent]())
        let c = try await client("r500", retries: 2, events: events)
        let error = await #expect(throws: LanguageModelError.self) { _ = try await c.complete(request) }
        #expect(Self.stub.count("r500") == 3)
        #expect(events.value.map(\.attempt) == [1, 2])
        let text = error?.description ?? ""
        #expect(text.contains("HTTP 500") && text.contains("after 3 attempts") && text.contains("engine on fire"))
        #expect(text.contains("127.0.0.1"))
        // Back-off grows: the second wait's step is twice the first (jitter keeps it in the upper half).
        #expect(events.value.allSatisfy { $0.delay > 0 && $0.delay <= 0.05 })
    }

    @Test func transientUnavailabilityRecovers() async throws {
        let events = Box([RetryEvent]())
        let r = try await client("r503", events: events).complete(request)
        #expect(r.choices.first?.text == "hello")
        #expect(Self.stub.count("r503") == 3)
        #expect(events.value.count == 2)
    }

    @Test func slowResponsesTimeOut() async throws {
        let events = Box([RetryEvent]())
        let c = try await client("slow", retries: 1, timeout: 0.3, events: events)
        let error = await #expect(throws: LanguageModelError.self) { _ = try await c.complete(request) }
        #expect(Self.stub.count("slow") == 2)
        #expect(events.value.count == 1)
        #expect(error?.description.contains("timed out") == true)
    }

    /// A caller that gives up is not the server's fault: no retry, and the task ends as cancelled.
    @Test func cancellationIsNotRetried() async throws {
        let events = Box([RetryEvent]())
        let c = try await client("slow", retries: 3, events: events)
        let before = Self.stub.count("slow")
        let task = Task { try await c.complete(request) }
        while Self.stub.count("slow") == before { try await Task.sleep(nanoseconds: 5_000_000) }
        task.cancel()
        await #expect(throws: CancellationError.self) { _ = try await task.value }
        #expect(events.value.isEmpty)
        #expect(Self.stub.count("slow") == before + 1)
    }

    @Test func truncatedBodiesAreRetriedThenReported() async throws {
        let events = Box([RetryEvent]())
        let c = try await client("cut", retries: 2, events: events)
        let error = await #expect(throws: LanguageModelError.self) { _ = try await c.complete(request) }
        #expect(Self.stub.count("cut") == 3)
        #expect(error?.description.contains("after 3 attempts") == true)

        let badEvents = Box([RetryEvent]())
        let b = try await client("badjson", retries: 1, events: badEvents)
        let badError = await #expect(throws: LanguageModelError.self) { _ = try await b.complete(request) }
        #expect(Self.stub.count("badjson") == 2)
        #expect(badError?.description.contains("not chat-completion JSON") == true)
    }

    @Test func clientErrorsAreNotRetried() async throws {
        let events = Box([RetryEvent]())
        let c = try await client("r400", events: events)
        let error = await #expect(throws: LanguageModelError.self) { _ = try await c.complete(request) }
        #expect(Self.stub.count("r400") == 1)
        #expect(events.value.isEmpty)
        #expect(error?.description.contains("HTTP 400") == true && error?.description.contains("unsupported parameter") == true)
    }

    /// The key never shows in an error, even when the server echoes it.
    @Test func keysNeverAppearInErrors() async throws {
        let events = Box([RetryEvent]())
        let c = try await client("r401", events: events)
        let error = await #expect(throws: LanguageModelError.self) { _ = try await c.complete(request) }
        let text = error?.description ?? ""
        #expect(text.contains("HTTP 401") && text.contains("EMLAB_API_KEY"))
        #expect(!text.contains("abcdef1234567890"))
        #expect(Self.stub.count("r401") == 1)
        #expect(!c.identity.resolved.contains("sk-") && !c.identity.spec.contains("sk-"))
    }

    @Test func missingLogprobsCannotJudge() async throws {
        let events = Box([RetryEvent]())
        let c = try await client("nologprobs", events: events)
        var asking = request
        asking.topLogprobs = 5
        let error = await #expect(throws: LanguageModelError.self) { _ = try await c.complete(asking) }
        #expect(error?.description.contains("returned no log-probabilities; it cannot be a logprob judge") == true)
        #expect(Self.stub.count("nologprobs") == 1)
        #expect(try await c.complete(request).choices.first?.text == "hello")   // without logprobs it is fine
    }

    /// A server that ignores `stream` and answers with one JSON body still answers a streamed request.
    @Test func aServerThatDoesNotStreamStillAnswers() async throws {
        let events = Box([RetryEvent]())
        let c = try await client("nologprobs", events: events)
        let text = Box("")
        let before = Self.stub.count("nologprobs")
        let r = try await c.complete(request, onChoice: nil, onText: { _, t in text.update { $0 += t }; return true })
        #expect(r.choices.first?.text == "hello" && text.value == "hello")
        #expect(Self.stub.count("nologprobs") == before + 1 && events.value.isEmpty)
    }

    @Test func streamsAreRetriedOnlyBeforeTextWentOut() async throws {
        let events = Box([RetryEvent]())
        let seen = Box("")
        let c = try await client("streamcut", events: events)
        let error = await #expect(throws: LanguageModelError.self) {
            _ = try await c.complete(request, onChoice: nil, onText: { _, t in seen.update { $0 += t }; return true })
        }
        #expect(Self.stub.count("streamcut") == 1)
        #expect(seen.value == "Hel")
        #expect(error?.description.contains("not retried") == true)

        let early = try await client("streamearly", events: events)
        let text = Box("")
        let r = try await early.complete(request, onChoice: nil, onText: { _, t in text.update { $0 += t }; return true })
        #expect(Self.stub.count("streamearly") == 2)
        #expect(r.choices.first?.text == "hi there" && text.value == "hi there")
    }
}
