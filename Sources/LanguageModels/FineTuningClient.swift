import AsyncHTTPClient
import Foundation
import NIOCore

/// Where an OpenAI-shaped API is and the key it takes: OpenAI itself (`OPENAI_BASE_URL`, default
/// `https://api.openai.com/v1`, key `OPENAI_API_KEY`, required) or any compatible server (its URL,
/// key `EMLAB_API_KEY` when set). Keys come from the environment and are sent only in the
/// `Authorization` header.
public struct RemoteEndpoint: Sendable {
    public var baseURL: URL
    public var apiKey: String?
    public var keyVariable: String

    public init(baseURL: URL, apiKey: String?, keyVariable: String) {
        self.baseURL = baseURL
        self.apiKey = apiKey
        self.keyVariable = keyVariable
    }

    public static func openAI(environment env: [String: String], what: String) throws -> RemoteEndpoint {
        guard let key = env["OPENAI_API_KEY"], !key.isEmpty else {
            throw LanguageModelError.invalidSpec(what, why: "set OPENAI_API_KEY in the environment")
        }
        let baseText = env["OPENAI_BASE_URL"].flatMap { $0.isEmpty ? nil : $0 } ?? "https://api.openai.com/v1"
        guard let base = URL(string: baseText), let scheme = base.scheme, ["http", "https"].contains(scheme), base.host != nil else {
            throw LanguageModelError.invalidSpec(what, why: "OPENAI_BASE_URL '\(baseText)' is not an http(s) URL")
        }
        return RemoteEndpoint(baseURL: base, apiKey: key, keyVariable: "OPENAI_API_KEY")
    }

    public static func compatible(_ base: URL, environment env: [String: String]) -> RemoteEndpoint {
        RemoteEndpoint(baseURL: base, apiKey: env["EMLAB_API_KEY"].flatMap { $0.isEmpty ? nil : $0 }, keyVariable: "EMLAB_API_KEY")
    }

    /// `openai` or `openai-compatible:URL`, as `emlab finetune --backend` takes it.
    public static func parse(backend text: String, environment env: [String: String]) throws -> RemoteEndpoint {
        if text == "openai" { return try openAI(environment: env, what: "--backend openai") }
        guard text.hasPrefix("openai-compatible:") else {
            throw LanguageModelError.invalidSpec(text, why: "the backend is local, openai or openai-compatible:URL")
        }
        let urlText = String(text.dropFirst("openai-compatible:".count))
        guard let url = URL(string: urlText), let scheme = url.scheme, ["http", "https"].contains(scheme), url.host != nil else {
            throw LanguageModelError.invalidSpec(text, why: "'\(urlText)' is not an http(s) URL")
        }
        return compatible(url, environment: env)
    }
}

/// An API answer that is not what the API's shapes say: the endpoint and what was wrong.
public struct RemoteResponseError: Error, CustomStringConvertible, Equatable {
    public var endpoint: String
    public var why: String
    public init(endpoint: String, why: String) {
        self.endpoint = endpoint
        self.why = why
    }
    public var description: String { "\(endpoint): \(why)" }
}

/// A file uploaded to the API (`POST /files`).
public struct RemoteFile: Sendable, Decodable, Equatable {
    public var id: String
    public var bytes: Int?
    public var filename: String?
}

/// A fine-tuning job as the API reports it (`/fine_tuning/jobs`).
public struct FineTuningJob: Sendable, Decodable, Equatable {
    public struct Failure: Sendable, Decodable, Equatable {
        public var code: String?
        public var message: String?
        public var param: String?
    }
    public var id: String
    public var status: String
    public var model: String?
    public var fineTunedModel: String?
    public var trainedTokens: Int?
    public var trainingFile: String?
    public var error: Failure?

    enum CodingKeys: String, CodingKey {
        case id, status, model, error
        case fineTunedModel = "fine_tuned_model"
        case trainedTokens = "trained_tokens"
        case trainingFile = "training_file"
    }

    /// The job will not change any more.
    public var isFinished: Bool { ["succeeded", "failed", "cancelled"].contains(status) }
}

/// One event of a job: a message, or (`type` `metrics`) a step's figures in `data`.
public struct FineTuningEvent: Sendable, Decodable, Equatable {
    public struct Metrics: Sendable, Decodable, Equatable {
        public var step: Int?
        public var totalSteps: Int?
        public var trainLoss: Double?
        public var validLoss: Double?
        enum CodingKeys: String, CodingKey {
            case step
            case totalSteps = "total_steps"
            case trainLoss = "train_loss"
            case validLoss = "valid_loss"
        }
    }
    public var id: String
    public var createdAt: Int?
    public var level: String?
    public var message: String?
    public var type: String?
    public var data: Metrics?

    enum CodingKeys: String, CodingKey {
        case id, level, message, type, data
        case createdAt = "created_at"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        createdAt = try c.decodeIfPresent(Int.self, forKey: .createdAt)
        level = try c.decodeIfPresent(String.self, forKey: .level)
        message = try c.decodeIfPresent(String.self, forKey: .message)
        type = try c.decodeIfPresent(String.self, forKey: .type)
        // Message events may carry other data (or none): only a metrics event's is read.
        data = type == "metrics" ? try c.decodeIfPresent(Metrics.self, forKey: .data) : nil
    }
}

/// The job body `POST /fine_tuning/jobs` takes: supervised finetuning with its hyperparameters
/// (omitted ones are the server's "auto").
public struct FineTuningJobRequest: Sendable, Encodable, Equatable {
    public struct Hyperparameters: Sendable, Encodable, Equatable {
        public var nEpochs: Int?
        public var batchSize: Int?
        public var learningRateMultiplier: Double?
        enum CodingKeys: String, CodingKey {
            case nEpochs = "n_epochs"
            case batchSize = "batch_size"
            case learningRateMultiplier = "learning_rate_multiplier"
        }
        public init(nEpochs: Int? = nil, batchSize: Int? = nil, learningRateMultiplier: Double? = nil) {
            self.nEpochs = nEpochs
            self.batchSize = batchSize
            self.learningRateMultiplier = learningRateMultiplier
        }
    }
    public var model: String
    public var trainingFile: String
    public var validationFile: String?
    public var seed: Int?
    public var suffix: String?
    public var hyperparameters: Hyperparameters

    public init(model: String, trainingFile: String, validationFile: String? = nil, seed: Int? = nil, suffix: String? = nil,
                hyperparameters: Hyperparameters = .init()) {
        self.model = model
        self.trainingFile = trainingFile
        self.validationFile = validationFile
        self.seed = seed
        self.suffix = suffix
        self.hyperparameters = hyperparameters
    }

    enum CodingKeys: String, CodingKey { case model, trainingFile = "training_file", validationFile = "validation_file", seed, suffix, method }
    enum MethodKeys: String, CodingKey { case type, supervised }
    enum SupervisedKeys: String, CodingKey { case hyperparameters }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(model, forKey: .model)
        try c.encode(trainingFile, forKey: .trainingFile)
        try c.encodeIfPresent(validationFile, forKey: .validationFile)
        try c.encodeIfPresent(seed, forKey: .seed)
        try c.encodeIfPresent(suffix, forKey: .suffix)
        var method = c.nestedContainer(keyedBy: MethodKeys.self, forKey: .method)
        try method.encode("supervised", forKey: .type)
        var supervised = method.nestedContainer(keyedBy: SupervisedKeys.self, forKey: .supervised)
        try supervised.encode(hyperparameters, forKey: .hyperparameters)
    }
}

/// OpenAI's fine-tuning API and any server that follows its shapes: upload a file, create a job,
/// read the job and its events. Reads are retried like chat requests (`RetryPolicy`); a create or an
/// upload is retried only when the server refused it (429, 503), so a job is never made twice. An
/// unreadable answer names the endpoint and what was wrong with it.
public struct FineTuningClient: Sendable {
    public let endpoint: RemoteEndpoint
    public let retry: RetryPolicy
    public let timeout: Double

    public init(endpoint: RemoteEndpoint, retry: RetryPolicy = RetryPolicy(), timeout: Double = 300) {
        self.endpoint = endpoint
        self.retry = retry
        self.timeout = timeout
    }

    /// The API base as errors name it (no credentials, query or fragment).
    public var server: String { OpenAICompatibleModel.displayName(endpoint.baseURL) }

    public func upload(_ data: Data, filename: String, purpose: String = "fine-tune") async throws -> RemoteFile {
        let boundary = "emlab-\(UUID().uuidString)"
        var body = Data()
        func part(_ headers: String, _ content: Data) {
            body.append(Data("--\(boundary)\r\n\(headers)\r\n\r\n".utf8))
            body.append(content)
            body.append(Data("\r\n".utf8))
        }
        part("Content-Disposition: form-data; name=\"purpose\"", Data(purpose.utf8))
        part("Content-Disposition: form-data; name=\"file\"; filename=\"\(filename)\"\r\nContent-Type: application/jsonl", data)
        body.append(Data("--\(boundary)--\r\n".utf8))
        return try await send(.POST, "/files", body: body, contentType: "multipart/form-data; boundary=\(boundary)", as: RemoteFile.self)
    }

    public func createJob(_ request: FineTuningJobRequest) async throws -> FineTuningJob {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return try await send(.POST, "/fine_tuning/jobs", body: try encoder.encode(request), contentType: "application/json", as: FineTuningJob.self)
    }

    public func job(_ id: String) async throws -> FineTuningJob {
        try await send(.GET, "/fine_tuning/jobs/\(id)", as: FineTuningJob.self)
    }

    /// One page of a list the API returns newest first (`data`, `has_more`).
    public struct Page<Item: Sendable & Decodable>: Sendable, Decodable {
        public var data: [Item]
        public var hasMore: Bool?
        enum CodingKeys: String, CodingKey { case data, hasMore = "has_more" }
    }

    /// A page of the list at `path`, older than item `after` when given.
    func page<Item>(_ path: String, after: String?, limit: Int) async throws -> Page<Item> {
        var query = "\(path)?limit=\(limit)"
        if let after { query += "&after=\(after.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? after)" }
        return try await send(.GET, query, as: Page<Item>.self)
    }

    /// A page of the account's jobs, newest first.
    public func jobs(after: String? = nil, limit: Int = 100) async throws -> Page<FineTuningJob> {
        try await page("/fine_tuning/jobs", after: after, limit: limit)
    }

    /// The newest job made from training file `file`, looking through at most `pages` pages.
    public func job(trainingFile file: String, pages: Int = 5) async throws -> FineTuningJob? {
        var after: String?
        for _ in 0..<pages {
            let page = try await jobs(after: after)
            if let job = page.data.first(where: { $0.trainingFile == file }) { return job }
            guard page.hasMore == true, let last = page.data.last else { return nil }
            after = last.id
        }
        return nil
    }

    /// A page of a job's events, newest first (the API's order), older than event `after` when given.
    public func events(_ id: String, after: String? = nil, limit: Int = 100) async throws -> Page<FineTuningEvent> {
        try await page("/fine_tuning/jobs/\(id)/events", after: after, limit: limit)
    }

    /// The events not in `seen`, oldest first: pages are read until one reaches a seen event.
    public func newEvents(_ id: String, seen: Set<String>) async throws -> [FineTuningEvent] {
        var fresh: [FineTuningEvent] = []
        var after: String?
        while true {
            let page = try await events(id, after: after)
            let unseen = page.data.prefix { !seen.contains($0.id) }
            fresh += unseen
            guard unseen.count == page.data.count, page.hasMore == true, let last = page.data.last else { break }
            after = last.id
        }
        return fresh.reversed()
    }

    enum Method: String { case GET, POST }

    private func send<T: Decodable>(_ method: Method, _ path: String, body: Data? = nil, contentType: String? = nil,
                                    as type: T.Type) async throws -> T {
        let url = server + path
        let name = "\(method.rawValue) \(server + (path.split(separator: "?").first.map(String.init) ?? path))"
        var attempt = 0
        while true {
            attempt += 1
            var request = HTTPClientRequest(url: url)
            request.method = method == .GET ? .GET : .POST
            request.headers.add(name: "Accept", value: "application/json")
            if let contentType { request.headers.add(name: "Content-Type", value: contentType) }
            if let key = endpoint.apiKey { request.headers.add(name: "Authorization", value: "Bearer \(key)") }
            if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
            let failure: AttemptFailure
            do {
                let response = try await HTTPClient.emlabShared.execute(request, deadline: .now() + .nanoseconds(Int64(timeout * 1e9)))
                let bytes = try await response.body.collect(upTo: 64 << 20)
                let text = Data(bytes.readableBytesView)
                if response.status == .ok {
                    do {
                        return try JSONDecoder().decode(T.self, from: text)
                    } catch {
                        throw RemoteResponseError(endpoint: name, why: "the response is not the API's JSON (\(OpenAICompatibleModel.shortDescription(error)))")
                    }
                }
                let retryAfter = response.headers.first(name: "Retry-After").flatMap { RetryPolicy.parseRetryAfter($0) }
                failure = .status(Int(response.status.code), message: OpenAICompatibleModel.errorMessage(String(decoding: text, as: UTF8.self)),
                                  retryAfter: retryAfter)
            } catch let error as RemoteResponseError {
                throw error
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                failure = .transport(String(describing: error))
            }
            // Writes are retried only when the server surely did nothing with them.
            let safe: Bool
            if case .status(let code, _, _) = failure { safe = method == .GET ? failure.retryable : [429, 503].contains(code) } else { safe = method == .GET }
            guard safe, attempt <= retry.maxRetries else {
                if case .status(let code, let message, _) = failure {
                    let hint = [401, 403].contains(code) ? "; check \(endpoint.keyVariable)" : ""
                    throw LanguageModelError.backend("\(name): HTTP \(code)\(hint): \(message)")
                }
                throw LanguageModelError.backend("\(name): \(failure.reason)")
            }
            try await Task.sleep(nanoseconds: UInt64(retry.delay(retry: attempt, retryAfter: failure.retryAfter) * 1e9))
        }
    }
}
