import Core
import Foundation
import Hummingbird
import Inference
import LanguageModels
import Logging
import NIOCore
import ServiceLifecycle
import UnixSignals

/// How `emlab serve` listens and what it accepts.
public struct ServerConfiguration: Sendable {
    /// Loopback unless told otherwise.
    public var host: String
    /// 0: any free port (`start()` returns the one bound).
    public var port: Int
    /// When set, requests without `Authorization: Bearer <apiKey>` get 401.
    public var apiKey: String?
    /// The name clients put in `model`.
    public var servedModelName: String
    /// `max_tokens` when a request gives none (cut to the context left after the prompt).
    public var defaultMaxTokens: Int
    public var maxBodyBytes: Int
    /// Steering and ablation applied to every request (`emlab serve --steer/--ablate`); empty: none.
    public var interventions: [Intervention] = []

    public init(servedModelName: String, host: String = "127.0.0.1", port: Int = 8000, apiKey: String? = nil,
                defaultMaxTokens: Int = 512, maxBodyBytes: Int = 8 << 20) {
        self.servedModelName = servedModelName
        self.host = host
        self.port = port
        self.apiKey = apiKey.flatMap { $0.isEmpty ? nil : $0 }
        self.defaultMaxTokens = defaultMaxTokens
        self.maxBodyBytes = maxBodyBytes
    }
}

/// The local model behind OpenAI's chat-completions API: `GET /v1/models`, `POST /v1/chat/completions`.
///
/// Each request becomes one `LocalModel.complete` call; the model's worker batches concurrent
/// requests into shared forward passes. Bad requests get OpenAI-shaped 4xx errors.
public final class OpenAIServer: Sendable {
    public let model: LocalModel
    public let configuration: ServerConfiguration
    private let running = Locked<(group: ServiceGroup, task: Task<Void, any Error>)?>(nil)

    public init(model: LocalModel, configuration: ServerConfiguration) throws {
        guard model.hasChatTemplate else {
            throw LanguageModelError.invalidSpec(model.identity.spec, why: "it has no chat template (a base model); serve it with \(model.identity.spec),chat=transcript")
        }
        self.model = model
        self.configuration = configuration
    }

    /// Starts listening and returns the bound port. `stopOnSignals`: shut down gracefully on SIGINT
    /// and SIGTERM (the CLI; tests call `shutdown()`).
    public func start(stopOnSignals: Bool = false) async throws -> Int {
        let (ports, portSink) = AsyncStream<Int>.makeStream()
        var logger = Logger(label: "emlab.serve")
        logger.logLevel = .error
        let app = Application(
            router: makeRouter(),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "emlab"),
            onServerRunning: { channel in
                portSink.yield(channel.localAddress?.port ?? 0)
                portSink.finish()
            },
            logger: logger)
        let group = ServiceGroup(services: [app], gracefulShutdownSignals: stopOnSignals ? [.sigint, .sigterm] : [], logger: logger)
        let task = Task {
            defer { portSink.finish() }
            try await group.run()
        }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else {
            try await task.value   // it stopped before listening: its error says why
            throw APIError(.internalServerError, "the server stopped before it was listening")
        }
        running.withLock { $0 = (group, task) }
        return port
    }

    /// Waits until the server stops (after a shutdown signal or `shutdown()`).
    public func wait() async throws {
        guard let task = running.withLock({ $0?.task }) else { return }
        try await task.value
    }

    /// Stops accepting connections, lets requests in flight finish, and returns when it is down.
    public func shutdown() async {
        guard let (group, task) = running.withLock({ r -> (ServiceGroup, Task<Void, any Error>)? in
            defer { r = nil }
            return r
        }) else { return }
        await group.triggerGracefulShutdown()
        _ = try? await task.value
    }

    // MARK: Routes

    private func makeRouter() -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: ErrorMiddleware())
        if let key = configuration.apiKey { router.add(middleware: BearerAuthMiddleware(key: key)) }
        router.get("/v1/models") { _, _ in
            try Self.json(ChatAPI.ModelList(data: [self.modelEntry]))
        }
        // `models.retrieve`. A recursive wildcard, as `--name` may give ids with '/' ("org/model");
        // clients may also send the id percent-encoded ("org%2Fmodel").
        router.get("/v1/models/**") { _, context in
            let raw = context.parameters.getCatchAll().joined(separator: "/")
            let id = raw.removingPercentEncoding ?? raw
            guard id == self.configuration.servedModelName else {
                throw APIError(.notFound, "the model '\(id)' does not exist; this server serves '\(self.configuration.servedModelName)'",
                               param: "model", code: "model_not_found")
            }
            return try Self.json(self.modelEntry)
        }
        router.post("/v1/chat/completions") { request, _ in
            try await self.chatCompletions(request)
        }
        addGuardRoutes(to: router)
        return router
    }

    /// The served model as `GET /v1/models` lists it and `GET /v1/models/{id}` returns it.
    private var modelEntry: ChatAPI.ModelEntry { ChatAPI.ModelEntry(id: configuration.servedModelName) }

    private func chatCompletions(_ request: Request) async throws -> Response {
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: configuration.maxBodyBytes)
        } catch is NIOTooManyBytesError {
            throw APIError(.contentTooLarge, "the request body is larger than \(configuration.maxBodyBytes) bytes")
        }
        let limits = RequestLimits(defaultMaxTokens: configuration.defaultMaxTokens)
        var chat = try ChatRequestParser.parse(Data(body.readableBytesView), servedModel: configuration.servedModelName,
                                               limits: limits)
        if !configuration.interventions.isEmpty { chat.completion.interventions = configuration.interventions }
        try fitContext(&chat)
        let id = "chatcmpl-" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let created = Int(Date().timeIntervalSince1970)
        if chat.stream { return stream(chat, id: id, created: created) }
        let completion: Completion
        do {
            completion = try await model.complete(chat.completion)
        } catch {
            throw Self.apiError(error)
        }
        let response = ChatAPI.Response(
            id: id, object: "chat.completion", created: created, model: configuration.servedModelName,
            choices: completion.choices.map { c in
                ChatAPI.Choice(index: c.index, message: Self.wireMessage(c),
                               logprobs: chat.wantLogprobs ? Self.wireLogprobs(c.logprobs) : nil,
                               finishReason: c.finishReason, completionTokens: c.completionTokens)
            },
            usage: ChatAPI.Usage(promptTokens: completion.usage.promptTokens, completionTokens: completion.usage.completionTokens))
        return try Self.json(response)
    }

    /// Checks the prompt against the context window and sets the default `max_tokens`.
    private func fitContext(_ chat: inout ChatRequest) throws {
        let prompt = try model.promptTokenCount(chat.completion.messages, tools: chat.completion.tools ?? [])
        let context = model.contextWindow
        guard prompt < context else {
            throw APIError("the prompt is \(prompt) tokens; the context window is \(context)",
                           param: "messages", code: "context_length_exceeded")
        }
        if chat.maxTokensGiven {
            guard prompt + chat.completion.maxTokens <= context else {
                throw APIError("the prompt (\(prompt) tokens) plus max_tokens (\(chat.completion.maxTokens)) exceeds the context window of \(context) tokens",
                               param: "max_tokens", code: "context_length_exceeded")
            }
        } else {
            chat.completion.maxTokens = min(chat.completion.maxTokens, context - prompt)
        }
    }

    /// Server-sent events: a role chunk per choice, text deltas, a final chunk per choice (with its
    /// finish reason and log-probabilities), usage if asked, then `data: [DONE]`. With tools, a
    /// choice's text and calls come in one delta when it is finished (its calls are parsed from the
    /// whole reply), before its final chunk.
    private func stream(_ chat: ChatRequest, id: String, created: Int) -> Response {
        let name = configuration.servedModelName
        let model = self.model
        let withTools = !(chat.completion.tools ?? []).isEmpty
        @Sendable func event(_ choices: [ChatAPI.Choice], usage: ChatAPI.Usage? = nil) -> ByteBuffer {
            let chunk = ChatAPI.Response(id: id, object: "chat.completion.chunk", created: created, model: name,
                                         choices: choices, usage: usage)
            // Encoding plain value types cannot fail.
            let data = try! ChatAPI.encoder.encode(chunk)
            var buffer = ByteBuffer(string: "data: ")
            buffer.writeBytes(data)
            buffer.writeString("\n\n")
            return buffer
        }
        let body = ResponseBody { writer in
            let (events, sink) = AsyncStream<ByteBuffer>.makeStream()
            let gone = Locked(false)   // the client went away: stop generating
            for i in 0..<chat.completion.n {
                sink.yield(event([ChatAPI.Choice(index: i, delta: ChatAPI.Message(role: "assistant", content: ""))]))
            }
            let generation = Task {
                defer { sink.finish() }
                do {
                    let completion = try await model.complete(
                        chat.completion,
                        onChoice: { c in
                            if withTools {
                                var delta = Self.wireMessage(c)
                                delta.role = nil
                                delta.toolCalls = delta.toolCalls.map { $0.enumerated().map { k, call in
                                    var indexed = call
                                    indexed.index = k
                                    return indexed
                                } }
                                sink.yield(event([ChatAPI.Choice(index: c.index, delta: delta)]))
                            }
                            sink.yield(event([ChatAPI.Choice(index: c.index, delta: ChatAPI.Message(role: nil, content: nil),
                                                             logprobs: chat.wantLogprobs ? Self.wireLogprobs(c.logprobs) : nil,
                                                             finishReason: c.finishReason, completionTokens: c.completionTokens)]))
                        },
                        onText: { i, text in
                            if gone.value { return false }
                            if withTools { return true }
                            sink.yield(event([ChatAPI.Choice(index: i, delta: ChatAPI.Message(role: nil, content: text))]))
                            return true
                        })
                    if chat.includeUsage {
                        sink.yield(event([], usage: ChatAPI.Usage(promptTokens: completion.usage.promptTokens,
                                                                 completionTokens: completion.usage.completionTokens)))
                    }
                } catch {
                    let e = Self.apiError(error)
                    var buffer = ByteBuffer(string: "data: ")
                    buffer.writeBytes(try! ChatAPI.encoder.encode(e.body))
                    buffer.writeString("\n\n")
                    sink.yield(buffer)
                }
                sink.yield(ByteBuffer(string: "data: [DONE]\n\n"))
            }
            do {
                for await buffer in events { try await writer.write(buffer) }
                try await writer.finish(nil)
            } catch {
                gone.value = true
                _ = await generation.result
                throw error
            }
        }
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream"
        headers[.cacheControl] = "no-cache"
        return Response(status: .ok, headers: headers, body: body)
    }

    // MARK: Encoding

    /// A choice as the assistant's message: its text, and its calls if it made some (then no
    /// `content` when the text is empty, as OpenAI writes it).
    static func wireMessage(_ c: CompletionChoice) -> ChatAPI.Message {
        ChatAPI.Message(ChatMessage(role: .assistant, content: c.text, toolCalls: c.toolCalls))
    }

    static func wireLogprobs(_ tokens: [GeneratedToken]?) -> ChatAPI.Logprobs {
        ChatAPI.Logprobs(content: (tokens ?? []).map { t in
            ChatAPI.TokenLogprob(token: t.token, logprob: t.logprob,
                                 topLogprobs: t.top.map { ChatAPI.TopLogprob(token: $0.token, logprob: $0.logprob) })
        })
    }

    static func json<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) throws -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: try ChatAPI.encoder.encode(value))))
    }

    /// What a failure of the model looks like to the client: the request's fault (400) or ours (500).
    static func apiError(_ error: any Error) -> APIError {
        switch error {
        case let e as APIError: return e
        case let e as LanguageModelError:
            if case .invalidRequest(let why) = e { return APIError(why) }
            return APIError(.internalServerError, e.description, type: "server_error")
        case let e as BatchError: return APIError(e.description)
        case let e as ModelError:
            switch e {
            case .contextOverflow: return APIError(e.description, code: "context_length_exceeded")
            case .invalidHookVector, .hookLayerOutOfRange, .invalidHook: return APIError(e.description)
            default: return APIError(.internalServerError, e.description, type: "server_error")
            }
        default: return APIError(.internalServerError, "\(error)", type: "server_error")
        }
    }
}

/// Turns every error (ours, the router's 404/405, anything else) into an OpenAI-shaped JSON body.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let e as APIError {
            return try OpenAIServer.json(e.body, status: e.status)
        } catch let e as HTTPError {
            let message = e.body ?? (e.status == .notFound ? "no route for \(request.method) \(request.uri.path)" : e.status.reasonPhrase)
            let type = e.status.code >= 500 ? "server_error" : "invalid_request_error"
            return try OpenAIServer.json(ChatAPI.ErrorBody(message: message, type: type), status: e.status)
        } catch {
            let e = OpenAIServer.apiError(error)
            return try OpenAIServer.json(e.body, status: e.status)
        }
    }
}

/// 401 unless the request carries `Authorization: Bearer <key>`. The scheme's case does not matter
/// (RFC 7235), nor how many spaces or tabs follow it; the key must match exactly.
struct BearerAuthMiddleware<Context: RequestContext>: RouterMiddleware {
    let key: String
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let token = Self.bearerToken(request.headers[.authorization] ?? ""),
              Self.constantTimeEqual(Array(token.utf8), Array(key.utf8)) else {
            throw APIError(.unauthorized, "a valid API key is required (Authorization: Bearer …)", code: "invalid_api_key")
        }
        return try await next(request, context)
    }

    /// The credentials after a `Bearer` scheme of any case and the spaces or tabs after it; nil for
    /// another scheme or none.
    static func bearerToken(_ header: String) -> Substring? {
        let value = header.utf8
        let scheme = "bearer".utf8
        guard value.count > scheme.count,
              zip(value, scheme).allSatisfy({ a, b in (a | 0x20) == b }) else { return nil }
        let rest = header.utf8.dropFirst(scheme.count)
        guard let first = rest.first, first == UInt8(ascii: " ") || first == UInt8(ascii: "\t") else { return nil }
        let token = rest.drop { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
        return token.isEmpty ? nil : Substring(token)
    }

    /// Whether `given` equals `expected`, in a time that depends only on `expected`'s length.
    static func constantTimeEqual(_ given: [UInt8], _ expected: [UInt8]) -> Bool {
        var diff = UInt8(given.count == expected.count ? 0 : 1)
        for i in expected.indices { diff |= (i < given.count ? given[i] : 0) ^ expected[i] }
        return diff == 0
    }
}
