import AsyncHTTPClient
import Core
import Foundation
import NIOCore

/// How a remote model is reached: connections, time limits, retries.
public struct RemoteModelOptions: Sendable {
    /// Requests in flight at once to one server (shared by every model that talks to it; the
    /// first model created for a server sets it).
    public var maxConnections: Int
    /// Seconds one attempt may take, from sending the request to the end of the response.
    public var timeout: Double
    public var retry: RetryPolicy
    /// Called before each retry.
    public var onRetry: (@Sendable (RetryEvent) -> Void)?

    public init(maxConnections: Int = 8, timeout: Double = 600, retry: RetryPolicy = RetryPolicy(),
                onRetry: (@Sendable (RetryEvent) -> Void)? = nil) {
        self.maxConnections = maxConnections
        self.timeout = timeout
        self.retry = retry
        self.onRetry = onRetry
    }
}

/// A model behind an OpenAI-compatible chat-completions API (OpenAI, vLLM, Ollama, llama.cpp's
/// server, `emlab serve`).
///
/// Streams with server-sent events when the caller passes `onText`. Retries 408/409/425/429/5xx,
/// time-outs, connection errors and cut-off or unreadable responses (a streamed request only while
/// nothing of it has been passed on); other 4xx fail at once. The API key is sent in the
/// `Authorization` header and appears nowhere else.
public final class OpenAICompatibleModel: LanguageModel, Sendable {
    public let identity: ModelIdentity
    /// The API base, e.g. `http://127.0.0.1:8000/v1`.
    public let baseURL: URL
    /// The model name the server knows.
    public let model: String
    public var supportsLogprobs: Bool { true }

    private let apiKey: String?
    /// The environment variable the key came from, for error messages.
    private let keyVariable: String?
    private let options: RemoteModelOptions
    private let semaphore: AsyncSemaphore
    private let endpoint: String
    /// The server as errors name it: base URL without credentials, query or fragment.
    private let serverName: String

    public init(baseURL: URL, model: String, apiKey: String?, keyVariable: String? = nil,
                spec: String? = nil, options: RemoteModelOptions = RemoteModelOptions()) {
        self.baseURL = baseURL
        self.model = model
        self.apiKey = apiKey.flatMap { $0.isEmpty ? nil : $0 }
        self.keyVariable = keyVariable
        self.options = options
        serverName = Self.displayName(baseURL)
        endpoint = serverName + "/chat/completions"
        identity = ModelIdentity(spec: spec ?? "openai-compatible:\(serverName)#\(model)", resolved: "\(serverName)#\(model)")
        semaphore = ServerLimits.semaphore(for: baseURL, limit: options.maxConnections)
    }

    static func displayName(_ url: URL) -> String {
        var c = URLComponents()
        c.scheme = url.scheme
        c.host = url.host
        c.port = url.port
        c.path = url.path
        var s = c.string ?? url.absoluteString
        while s.hasSuffix("/") { s.removeLast() }
        return s
    }

    // MARK: LanguageModel

    public func complete(_ request: CompletionRequest, onChoice: ChoiceHandler?, onText: TextHandler?) async throws -> Completion {
        try request.validate(whiteBox: false)
        let body = try ChatAPI.encoder.encode(wireRequest(request, stream: onText != nil))
        var attempt = 0
        while true {
            attempt += 1
            let delivered = Flag()   // streamed text already passed on: a retry would repeat it
            let outcome: Result<Completion, AttemptFailure>
            do {
                let completion = try await semaphore.withPermit {
                    try await self.attempt(body: body, request: request, onChoice: onChoice, onText: onText, delivered: delivered)
                }
                outcome = .success(completion)
            } catch let failure as AttemptFailure {
                outcome = .failure(failure)
            } catch is CancellationError {
                throw CancellationError()
            } catch let error as LanguageModelError {
                throw error
            } catch {
                outcome = .failure(classify(error))
            }
            switch outcome {
            case .success(let completion):
                return completion
            case .failure(let failure):
                if Task.isCancelled { throw CancellationError() }   // not the server's fault: no retry
                guard failure.retryable, !delivered.value, attempt <= options.retry.maxRetries else {
                    throw failure.error(server: serverName, model: model, attempts: attempt, keyVariable: keyVariable,
                                        partial: delivered.value && failure.retryable)
                }
                let delay = options.retry.delay(retry: attempt, retryAfter: failure.retryAfter)
                options.onRetry?(RetryEvent(attempt: attempt, delay: delay, retryAfter: failure.retryAfter, reason: failure.reason))
                try await Task.sleep(nanoseconds: UInt64(delay * 1e9))
            }
        }
    }

    // MARK: Wire

    private func wireRequest(_ r: CompletionRequest, stream: Bool) -> ChatAPI.Request {
        var w = ChatAPI.Request(model: model, messages: r.messages.map(ChatAPI.Message.init))
        w.n = r.n
        w.temperature = r.temperature
        w.topP = r.topP
        w.maxTokens = r.maxTokens
        w.seed = r.seed.map { Int64(bitPattern: $0) }
        w.stop = r.stop.isEmpty ? nil : r.stop
        if let k = r.topLogprobs {
            w.logprobs = true
            w.topLogprobs = k
        }
        if stream {
            w.stream = true
            w.streamOptions = ChatAPI.StreamOptions(includeUsage: true)
        }
        if r.firstChoiceStream != 0 { w.emlabFirstChoiceStream = r.firstChoiceStream }
        if let tools = r.tools, !tools.isEmpty { w.tools = tools }
        return w
    }

    private func attempt(body: Data, request: CompletionRequest, onChoice: ChoiceHandler?, onText: TextHandler?,
                         delivered: Flag) async throws -> Completion {
        var http = HTTPClientRequest(url: endpoint)
        http.method = .POST
        http.headers.add(name: "Content-Type", value: "application/json")
        http.headers.add(name: "Accept", value: onText == nil ? "application/json" : "text/event-stream")
        if let apiKey { http.headers.add(name: "Authorization", value: "Bearer \(apiKey)") }
        http.body = .bytes(ByteBuffer(bytes: body))
        let response = try await HTTPClient.emlabShared.execute(http, deadline: .now() + .nanoseconds(Int64(options.timeout * 1e9)))
        guard response.status == .ok else {
            let text = (try? await response.body.collect(upTo: 1 << 20)).map { String(buffer: $0) } ?? ""
            let retryAfter = response.headers.first(name: "retry-after-ms").flatMap(Double.init).map { $0 / 1000 }
                ?? response.headers.first(name: "Retry-After").flatMap { RetryPolicy.parseRetryAfter($0) }
            throw AttemptFailure.status(Int(response.status.code), message: Self.errorMessage(text), retryAfter: retryAfter)
        }
        let isStream = response.headers.first(name: "Content-Type")?.lowercased().contains("text/event-stream") ?? false
        if let onText, isStream {
            return try await readStream(response.body, request: request, onChoice: onChoice, onText: onText, delivered: delivered)
        }
        // A whole response (also from a server that does not stream): streamed text comes all at once.
        let bytes = try await response.body.collect(upTo: 256 << 20)
        let decoded: ChatAPI.Response
        do {
            decoded = try ChatAPI.decoder.decode(ChatAPI.Response.self, from: Data(bytes.readableBytesView))
        } catch {
            throw AttemptFailure.malformed("the response is not chat-completion JSON (\(Self.shortDescription(error)))")
        }
        var assembly = Assembly(n: request.n)
        for c in decoded.choices {
            try assembly.add(c, text: c.message?.content ?? "", toolCalls: c.message?.toolCalls)
            assembly.finish(c.index, reason: c.finishReason ?? "stop")
        }
        assembly.usage = decoded.usage
        let completion = try assembly.completion(request: request, spec: identity.spec)
        for c in completion.choices {
            if let onText, !c.text.isEmpty { _ = onText(c.index, c.text) }
            onChoice?(c)
        }
        return completion
    }

    private func readStream(_ body: HTTPClientResponse.Body, request: CompletionRequest, onChoice: ChoiceHandler?,
                            onText: TextHandler, delivered: Flag) async throws -> Completion {
        var parser = ServerSentEventParser()
        var assembly = Assembly(n: request.n)
        var stopped = Set<Int>()   // choices whose onText returned false
        var done = false
        func handle(_ event: String) throws {
            if event == "[DONE]" {
                done = true
                return
            }
            let chunk: ChatAPI.Response
            do {
                chunk = try ChatAPI.decoder.decode(ChatAPI.Response.self, from: Data(event.utf8))
            } catch {
                if let e = try? ChatAPI.decoder.decode(ChatAPI.ErrorBody.self, from: Data(event.utf8)) {
                    throw AttemptFailure.status(500, message: e.error.message, retryAfter: nil)
                }
                throw AttemptFailure.malformed("a streamed event is not chat-completion JSON (\(Self.shortDescription(error)))")
            }
            if let usage = chunk.usage { assembly.usage = usage }
            for c in chunk.choices {
                let piece = stopped.contains(c.index) ? "" : (c.delta?.content ?? "")
                try assembly.add(c, text: piece, toolCalls: c.delta?.toolCalls)
                if !piece.isEmpty {
                    delivered.value = true
                    if !onText(c.index, piece) { stopped.insert(c.index) }
                }
                if let reason = c.finishReason {
                    assembly.finish(c.index, reason: reason)
                    if let onChoice, let choice = try assembly.choice(c.index, request: request, spec: identity.spec) {
                        onChoice(choice)
                    }
                }
            }
        }
        for try await buffer in body {
            for event in parser.feed(buffer.readableBytesView) where !done { try handle(event) }
            if done || stopped.count == request.n { break }
        }
        if !done, stopped.count < request.n, let last = parser.finish() { try handle(last) }
        guard done || stopped.count == request.n else {
            throw AttemptFailure.truncated("the event stream ended before 'data: [DONE]'")
        }
        for i in stopped { assembly.finish(i, reason: "stop") }
        return try assembly.completion(request: request, spec: identity.spec)
    }

    /// The `message` of an OpenAI-shaped error body, else the body's start; never a key.
    static func errorMessage(_ body: String) -> String {
        let message: String
        if let e = try? ChatAPI.decoder.decode(ChatAPI.ErrorBody.self, from: Data(body.utf8)) {
            message = e.error.message
        } else {
            message = String(body.prefix(300))
        }
        return redactKeys(message)
    }

    /// Replaces anything shaped like an API key (`sk-…`, long opaque tokens) — providers echo
    /// part of a rejected key in their messages.
    static func redactKeys(_ text: String) -> String {
        text.replacing(/sk-[A-Za-z0-9_\-\*\.]{3,}/, with: "[redacted]")
            .replacing(/[A-Za-z0-9_\-]{32,}/, with: "[redacted]")
    }

    static func shortDescription(_ error: any Error) -> String {
        if let d = error as? DecodingError {
            switch d {
            case .dataCorrupted(let c): return "corrupt data at \(path(c.codingPath))"
            case .keyNotFound(let k, let c): return "missing '\(k.stringValue)' at \(path(c.codingPath))"
            case .typeMismatch(_, let c), .valueNotFound(_, let c): return "wrong type at \(path(c.codingPath))"
            @unknown default: return "\(d)"
            }
        }
        return "\(error)"
    }

    private static func path(_ keys: [any CodingKey]) -> String {
        keys.isEmpty ? "top level" : keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }

    private func classify(_ error: any Error) -> AttemptFailure {
        if let e = error as? HTTPClientError {
            if [.deadlineExceeded, .readTimeout, .writeTimeout, .connectTimeout, .getConnectionFromPoolTimeout].contains(e) {
                return .timeout("timed out after \(options.timeout) s")
            }
            if [.invalidURL, .emptyHost, .emptyScheme, .alreadyShutdown, .missingSocketPath].contains(e) {
                return .fatal("\(e)")
            }
            if e == .remoteConnectionClosed || e == .bodyLengthMismatch {
                return .truncated("the connection closed before the response was complete (\(e))")
            }
            return .transport("\(e)")
        }
        if error is NIOTooManyBytesError { return .fatal("the response is larger than 256 MiB") }
        return .transport(String(describing: error))
    }
}

/// Why one attempt failed, and whether another may succeed.
enum AttemptFailure: Error {
    case status(Int, message: String, retryAfter: Double?)
    case timeout(String)
    case transport(String)
    case truncated(String)
    case malformed(String)
    case fatal(String)

    var retryable: Bool {
        switch self {
        case .status(let code, _, _): [408, 409, 425, 429].contains(code) || code >= 500
        case .timeout, .transport, .truncated, .malformed: true
        case .fatal: false
        }
    }

    var retryAfter: Double? {
        if case .status(_, _, let r) = self { r } else { nil }
    }

    var reason: String {
        switch self {
        case .status(let code, let message, _): "HTTP \(code): \(message)"
        case .timeout(let s), .transport(let s), .truncated(let s), .malformed(let s), .fatal(let s): s
        }
    }

    func error(server: String, model: String, attempts: Int, keyVariable: String?, partial: Bool) -> LanguageModelError {
        let tries = attempts == 1 ? "" : " after \(attempts) attempts"
        let cut = partial ? " (the response broke off after streaming had begun, so it was not retried)" : ""
        let head = "server \(server) (model '\(model)')"
        if case .status(let code, let message, _) = self {
            switch code {
            case 401, 403:
                let hint = keyVariable.map { "; check \($0)" } ?? ""
                return .backend("\(head): HTTP \(code), not authorised\(hint): \(message)")
            case 400, 404, 413, 422:
                return .invalidRequest("\(head) refused the request with HTTP \(code): \(message)")
            default:
                return .backend("\(head): HTTP \(code)\(tries): \(message)")
            }
        }
        return .backend("\(head): \(reason)\(tries)\(cut)")
    }
}

/// Choices of one response, gathered from a whole body or from streamed chunks.
struct Assembly {
    var texts: [String]
    var logprobs: [[ChatAPI.TokenLogprob]?]
    var finishReasons: [String?]
    var tokenCounts: [Int?]
    /// Each choice's calls, in order of their `index` (streamed pieces appended to their call).
    var toolCalls: [[ChatAPI.WireToolCall]]
    var usage: ChatAPI.Usage?

    init(n: Int) {
        toolCalls = Array(repeating: [], count: n)
        texts = Array(repeating: "", count: n)
        logprobs = Array(repeating: nil, count: n)
        finishReasons = Array(repeating: nil, count: n)
        tokenCounts = Array(repeating: nil, count: n)
    }

    mutating func add(_ c: ChatAPI.Choice, text: String, toolCalls calls: [ChatAPI.WireToolCall]? = nil) throws {
        guard texts.indices.contains(c.index) else {
            throw AttemptFailure.fatal("the server returned choice \(c.index) for a request of n = \(texts.count)")
        }
        texts[c.index] += text
        for call in calls ?? [] {
            // A whole message lists its calls; a streamed delta sends pieces of call `index`: the
            // first piece has the id and name, the others more of the arguments text.
            guard let slot = call.index, slot < toolCalls[c.index].count else {
                if let slot = call.index {
                    while toolCalls[c.index].count < slot { toolCalls[c.index].append(ChatAPI.WireToolCall(id: nil, function: nil)) }
                }
                toolCalls[c.index].append(call)
                continue
            }
            var merged = toolCalls[c.index][slot]
            if merged.id == nil { merged.id = call.id }
            let name = merged.function?.name.flatMap { $0.isEmpty ? nil : $0 } ?? call.function?.name
            let arguments = (merged.function?.arguments ?? "") + (call.function?.arguments ?? "")
            merged.function = ChatAPI.WireToolCall.Function(name: name, arguments: arguments)
            toolCalls[c.index][slot] = merged
        }
        if let content = c.logprobs?.content { logprobs[c.index] = (logprobs[c.index] ?? []) + content }
        if let k = c.completionTokens { tokenCounts[c.index] = k }
    }

    mutating func finish(_ index: Int, reason: String) {
        if finishReasons.indices.contains(index), finishReasons[index] == nil { finishReasons[index] = reason }
    }

    func choice(_ i: Int, request: CompletionRequest, spec: String) throws -> CompletionChoice? {
        guard let reason = finishReasons[i] else { return nil }
        var tokens: [GeneratedToken]?
        if let k = request.topLogprobs {
            guard let lp = logprobs[i] else {
                throw LanguageModelError.backend("model \(spec) returned no log-probabilities; it cannot be a logprob judge")
            }
            tokens = lp.map { t in
                GeneratedToken(token: t.token, logprob: t.logprob,
                               top: (t.topLogprobs ?? []).prefix(k).map { TokenAlternative(token: $0.token, logprob: $0.logprob) })
            }
        }
        var calls: [ToolCall]?
        if !toolCalls[i].isEmpty {
            calls = try toolCalls[i].enumerated().map { k, call in
                guard let name = call.function?.name, !name.isEmpty else {
                    throw AttemptFailure.malformed("tool call \(k) of choice \(i) has no function name")
                }
                return ToolCall(id: call.id ?? "call_\(i)_\(k)", name: name, arguments: call.function?.arguments ?? "{}")
            }
        }
        return CompletionChoice(index: i, text: texts[i], finishReason: reason,
                                completionTokens: tokenCount(i, logprobs: tokens), logprobs: tokens, toolCalls: calls)
    }

    /// The server's count for the choice (emlab's extension), else the number of log-probabilities,
    /// else the usage total when there is one choice, else the total shared evenly (an estimate).
    private func tokenCount(_ i: Int, logprobs: [GeneratedToken]?) -> Int {
        if let k = tokenCounts[i] { return k }
        if let logprobs { return logprobs.count }
        let total = usage?.completionTokens ?? 0
        let n = texts.count
        return total / n + (i < total % n ? 1 : 0)
    }

    func completion(request: CompletionRequest, spec: String) throws -> Completion {
        var choices: [CompletionChoice] = []
        for i in texts.indices {
            guard let c = try choice(i, request: request, spec: spec) else {
                throw AttemptFailure.fatal("the server returned no choice \(i) for a request of n = \(texts.count) (does it support n > 1?)")
            }
            choices.append(c)
        }
        let completionTokens = usage?.completionTokens ?? choices.reduce(0) { $0 + $1.completionTokens }
        return Completion(choices: choices, usage: TokenUsage(promptTokens: usage?.promptTokens ?? 0, completionTokens: completionTokens))
    }
}

/// A flag set by one task and read by another after it ends.
final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var _value = false
    var value: Bool {
        get { lock.withLock { _value } }
        set { lock.withLock { _value = newValue } }
    }
}

extension HTTPClient {
    /// One client for the process (never shut down): its pool is sized generously because the
    /// per-server semaphores, not the pool, bound the requests in flight.
    static let emlabShared: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .seconds(30))
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 512)
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()
}
